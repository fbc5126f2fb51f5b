/*
 * protocol — the wire contract between stagevisor-agent and the stagevisor coordinator,
 * version 1 (protocol/PROTOCOL.md is the prose; this header is the C API).
 *
 * What it does: builds, validates, encodes and decodes events, request bodies, responses,
 * fallback marker lines and tokens, and decides what a coordinator stores from a batch.
 * What it does not do: no sockets, no files, no clocks, no random numbers. Times and random
 * bytes are passed in by the caller, so every function here is pure and unit-testable.
 *
 * Include this header to get the whole API; the modules are:
 *   protocol/event.h     events: types, stamping, validation, RFC 3339 times, totals
 *   protocol/batch.h     request bodies: encode (agent), decode + validate (coordinator), URL path
 *   protocol/ack.h       coordinator-side sequence bookkeeping (store / duplicate / gap / too far)
 *   protocol/response.h  the 200 answer: {"ack":N,"resend_from":M,"control":{...}}
 *   protocol/token.h     stream tokens: format, validation, constant-time compare, Bearer parsing
 *   protocol/fallback.h  "@@stagevisor " marker lines on stdout and rebuilding a stream from them
 *
 * Conventions: symbols carry the prefix pr_ / PR_. int functions return 0 on success and -1 on
 * error (a few return a documented tri-state); on error they fill the caller's struct pr_error
 * (which may be NULL when the caller does not care). JSON values follow jansson's ownership
 * words: "new" = caller owns the reference, "borrowed" = do not decref, "steals" = the
 * function takes the caller's reference even on failure.
 */
#ifndef SV_PROTOCOL_H
#define SV_PROTOCOL_H

#include "protocol/common.h"
#include "protocol/event.h"
#include "protocol/batch.h"
#include "protocol/ack.h"
#include "protocol/response.h"
#include "protocol/token.h"
#include "protocol/fallback.h"

#endif
