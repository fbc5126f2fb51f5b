/*
 * ingest — the coordinator's HTTPS endpoint that receives agents' event batches.
 *
 * One evhttp server over OpenSSL bufferevents: POST /v1/streams/{id}/events with
 * `Authorization: Bearer {token}` (protocol/PROTOCOL.md, "Transport"). A request whose token
 * is not the one registered for its stream gets 401 and its body is never decoded; bodies
 * over the bound get 413 (evhttp stops reading them), malformed batches 400 with nothing
 * stored; a good batch is stored in its struct stream and answered with the ack, the
 * resend_from hint and the stream's control flags.
 * Bounds: body size, headers size, events per batch, connections (beyond the bound a TLS
 * handshake is refused), and a whole-request deadline per connection so that a client
 * trickling bytes (slow loris) is cut off just like an idle one.
 * It does not create streams, mint tokens or certificates, or decide anything about a stage.
 *
 * Ownership: the ingest borrows the event_base, the streams (they must outlive it or be
 * removed) and takes its own reference on the SSL_CTX. The wire rules are the protocol
 * library's (protocol/protocol.h); this module is the HTTP and TLS around them.
 */
#ifndef SV_COORD_INGEST_H
#define SV_COORD_INGEST_H

#include <stddef.h>

#include <event2/event.h>
#include <openssl/ssl.h>

#include "stream.h"

#define INGEST_MAX_BODY_DEFAULT (1u << 20) /* PR_BODY_MAX */
#define INGEST_MAX_CONNS_DEFAULT 4096u
#define INGEST_TIMEOUT_DEFAULT_S 30u

struct ingest_options {
	size_t max_body;       /* bytes of one request body; 0: INGEST_MAX_BODY_DEFAULT */
	unsigned max_conns;    /* open connections; 0: INGEST_MAX_CONNS_DEFAULT */
	unsigned timeout_s;    /* idle time, and time for one whole request; 0: default */
	/*
	 * Test only (STAGEVISOR_TEST_FAULTS): "503x5,429x3" answers the first 5 authorized
	 * batches with 503, the next 3 with 429, then serves normally. NULL: none.
	 */
	const char *faults;
};

struct ingest_stats {
	unsigned long conns_open, conns_total, conns_refused, conns_expired;
	unsigned long requests, stored_batches, rejected_401, rejected_400, rejected_413, faults_injected;
};

struct ingest;

struct ingest *ingest_new(struct event_base *base, SSL_CTX *ctx, const struct ingest_options *opt);
void ingest_free(struct ingest *in);

/* host "127.0.0.1", "::1", "0.0.0.0"; port 0 picks one (see ingest_port). 0 or -1. */
int ingest_listen(struct ingest *in, const char *host, int port);
int ingest_port(const struct ingest *in);

/* Registers a stream and its secret token (both borrowed / copied). 0 or -1. */
int ingest_add_stream(struct ingest *in, struct stream *s, const char *token);
void ingest_remove_stream(struct ingest *in, struct stream *s);

struct ingest_stats ingest_stats(const struct ingest *in);

/*
 * The request handling without the loop, for tests and the fuzz target: decodes a body for
 * stream s (pr_batch_decode), stores what pr_ack_plan_batch says, and writes the answer
 * into answer (cap bytes, PR_RESPONSE_MAX is enough): the 200 response JSON, or a short text.
 * Returns the HTTP status: 200, 400 or 413.
 */
int ingest_handle_batch(struct stream *s, const char *body, size_t len, char *answer, size_t cap);

/* Where an element of the body's "events" array is: offset and length; len 0 when the element
 * has whitespace outside its strings (it cannot be a JSONL line as it is). */
struct ingest_span {
	size_t off, len;
};
/*
 * Finds the n elements of the "events" array in a body pr_batch_decode() accepted (so valid
 * JSON), without decoding: 0 when exactly n were found, -1 otherwise (e.g. a key written
 * with escapes); the caller then encodes the events itself.
 */
int ingest_event_spans(const char *body, size_t len, struct ingest_span *spans, size_t n);

/* Parses "/v1/streams/{id}/events"; copies id (bounded) and returns 0, else -1. */
int ingest_parse_path(const char *path, char *id, size_t idlen);

/* "Bearer TOKEN" (pr_token_from_authorization) against the expected token in constant time: 1 when it matches. */
int ingest_token_ok(const char *authorization, const char *expected);

#endif
