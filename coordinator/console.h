/*
 * console — live progress of a stage in the terminal or the Jenkins log.
 *
 * On a terminal: one line, rewritten in place, with the counts (passed, failed, skipped,
 * findings) and the elapsed time; the agent's own output and notes scroll above it.
 * Otherwise (Jenkins): plain lines with a UTC time stamp for lifecycle events, one line per
 * failed test with its message, a count line now and then; no control characters at all
 * (escape sequences and other controls in passed-through text are removed).
 * It does not decide verdicts or keep events; it only formats what it is handed.
 */
#ifndef SV_COORD_CONSOLE_H
#define SV_COORD_CONSOLE_H

#include <stdbool.h>
#include <stdio.h>

#include <jansson.h>

struct console;

/* tty: rewrite one status line; start_ms: the run's start on the monotonic clock (ms). */
struct console *console_new(FILE *out, bool tty, long long start_ms);
void console_free(struct console *c);

/* A stored event (borrowed). */
void console_event(struct console *c, const json_t *ev, long long now_ms);
/* A line of the agent's own output, passed through (control characters removed off a tty). */
void console_output(struct console *c, const char *line, size_t len);
/* A note from the coordinator itself, time-stamped. printf-style. */
void console_note(struct console *c, long long now_ms, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Called a few times a second: refreshes the tty line, or prints a count line every 30 s off it. */
void console_tick(struct console *c, long long now_ms);
/* Clears the tty status line before the summary. */
void console_finish(struct console *c);

/* Copies src to dst without control characters or escape sequences (tab becomes a space). */
size_t console_clean(char *dst, size_t dstlen, const char *src, size_t len);

#endif
