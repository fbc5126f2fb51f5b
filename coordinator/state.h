/*
 * state — where the coordinator keeps what must outlive one command: the state directory
 * ($XDG_STATE_HOME/stagevisor, else ~/.local/state/stagevisor, or --state-dir), with
 * runs/<stream>/ (events.jsonl of every run; pruned by retention.c) and playgrounds/<name>.json
 * (README.md, "State directory"). Also the small clock and path helpers the commands share.
 */
#ifndef SV_COORD_STATE_H
#define SV_COORD_STATE_H

#include <stddef.h>

/* The default state directory into buf; -1 when neither XDG_STATE_HOME nor HOME is set. */
int state_default_dir(char *buf, size_t len);
/* mkdir -p with mode 0700 for new directories. 0 or -1. */
int state_mkdirs(const char *path);
/* Monotonic clock in milliseconds. */
long long state_now_ms(void);
/* "2026-11-26T06:40:00.123Z" for now. */
void state_utc_now(char *buf, size_t len);

#endif
