/* console — see console.h. */
#include "console.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CONSOLE_COUNT_EVERY_MS 30000
#define CONSOLE_REFRESH_MS 100
#define CONSOLE_LINE_MAX 4096

struct console {
	FILE *out;
	bool tty;
	bool status_shown;
	long long start_ms, last_refresh_ms, last_count_ms;
	unsigned long passed, failed, skipped, findings;
	unsigned long printed_at; /* total counted at the last count line */
};

struct console *console_new(FILE *out, bool tty, long long start_ms)
{
	struct console *c = calloc(1, sizeof *c);

	if (!c)
		return NULL;
	c->out = out;
	c->tty = tty;
	c->start_ms = start_ms;
	c->last_count_ms = start_ms;
	return c;
}

void console_free(struct console *c)
{
	free(c);
}

size_t console_clean(char *dst, size_t dstlen, const char *src, size_t len)
{
	size_t o = 0;

	if (dstlen == 0)
		return 0;
	for (size_t i = 0; i < len && o + 1 < dstlen; i++) {
		unsigned char ch = (unsigned char)src[i];
		if (ch == 0x1b) {
			/* CSI: ESC [ params final(0x40-0x7e); OSC: ESC ] ... BEL or ESC \; others: ESC x. */
			if (i + 1 < len && src[i + 1] == '[') {
				i += 2;
				while (i < len && !((unsigned char)src[i] >= 0x40 && (unsigned char)src[i] <= 0x7e))
					i++;
			} else if (i + 1 < len && src[i + 1] == ']') {
				i += 2;
				while (i < len && src[i] != '\a' && !(src[i] == 0x1b && i + 1 < len && src[i + 1] == '\\'))
					i++;
				if (i < len && src[i] == 0x1b)
					i++;
			} else {
				i++;
			}
			continue;
		}
		if (ch == '\t') {
			dst[o++] = ' ';
			continue;
		}
		if (ch < 0x20 || ch == 0x7f)
			continue;
		dst[o++] = (char)ch;
	}
	dst[o] = '\0';
	return o;
}

static void console_clear_status(struct console *c)
{
	if (c->tty && c->status_shown) {
		fputs("\r\033[K", c->out);
		c->status_shown = false;
	}
}

static void console_stamp(struct console *c, char *buf, size_t len)
{
	time_t now = time(NULL);
	struct tm tm;

	gmtime_r(&now, &tm);
	strftime(buf, len, "%H:%M:%S", &tm);
	(void)c;
}

static void console_status(struct console *c, long long now_ms)
{
	long long el = (now_ms - c->start_ms) / 1000;

	if (!c->tty)
		return;
	fprintf(c->out, "\r\033[K[%02lld:%02lld] passed %lu  failed %lu  skipped %lu  findings %lu", el / 60, el % 60,
	        c->passed, c->failed, c->skipped, c->findings);
	fflush(c->out);
	c->status_shown = true;
	c->last_refresh_ms = now_ms;
}

static void console_line(struct console *c, const char *text)
{
	char stamp[16];

	console_clear_status(c);
	console_stamp(c, stamp, sizeof stamp);
	fprintf(c->out, "[%s] %s\n", stamp, text);
}

void console_note(struct console *c, long long now_ms, const char *fmt, ...)
{
	char raw[CONSOLE_LINE_MAX], clean[CONSOLE_LINE_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(raw, sizeof raw, fmt, ap);
	va_end(ap);
	console_clean(clean, sizeof clean, raw, strlen(raw));
	console_line(c, clean);
	console_status(c, now_ms);
	fflush(c->out);
}

static const char *console_str(const json_t *ev, const char *key)
{
	const char *v = json_string_value(json_object_get(ev, key));
	return v ? v : "";
}

void console_event(struct console *c, const json_t *ev, long long now_ms)
{
	const char *type = console_str(ev, "type");

	if (strcmp(type, "test") == 0) {
		const char *st = console_str(ev, "status");
		if (strcmp(st, "failed") == 0 || strcmp(st, "error") == 0) {
			const char *msg = console_str(ev, "message");
			size_t n = strcspn(msg, "\n");
			c->failed++;
			console_note(c, now_ms, "%s %s%s%s: %.*s", strcmp(st, "failed") == 0 ? "FAILED" : "ERROR",
			             console_str(ev, "class"), *console_str(ev, "class") ? "::" : "",
			             console_str(ev, "name"), (int)(n > 1000 ? 1000 : n), msg);
		} else if (strcmp(st, "skipped") == 0) {
			c->skipped++;
		} else {
			c->passed++;
		}
	} else if (strcmp(type, "finding") == 0) {
		c->findings++;
	} else if (strcmp(type, "stage") == 0) {
		const char *what = console_str(ev, "event");
		if (strcmp(what, "stopping") == 0)
			console_note(c, now_ms, "stage %s stopping (%s)", console_str(ev, "stage"), console_str(ev, "reason"));
		else if (strcmp(what, "ended") == 0)
			console_note(c, now_ms, "stage %s ended, result %lld", console_str(ev, "stage"),
			             (long long)json_integer_value(json_object_get(ev, "result")));
		else
			console_note(c, now_ms, "stage %s %s (%s)", console_str(ev, "stage"), what, console_str(ev, "mode"));
	} else if (strcmp(type, "process") == 0) {
		const char *what = console_str(ev, "event");
		if (strcmp(what, "exited") == 0)
			console_note(c, now_ms, "process %s exited, status %lld", console_str(ev, "process"),
			             (long long)json_integer_value(json_object_get(ev, "status")));
		else if (strcmp(what, "failed") == 0)
			console_note(c, now_ms, "process %s FAILED: %s", console_str(ev, "process"), console_str(ev, "reason"));
		else if (strcmp(what, "restarting") == 0)
			console_note(c, now_ms, "process %s restarting in %lld ms", console_str(ev, "process"),
			             (long long)json_integer_value(json_object_get(ev, "delay_ms")));
		else
			console_note(c, now_ms, "process %s %s", console_str(ev, "process"), what);
	}
	if (c->tty && now_ms - c->last_refresh_ms >= CONSOLE_REFRESH_MS)
		console_status(c, now_ms);
}

void console_output(struct console *c, const char *line, size_t len)
{
	char clean[CONSOLE_LINE_MAX];

	console_clear_status(c);
	if (c->tty) {
		fwrite(line, 1, len, c->out);
		fputc('\n', c->out);
	} else {
		console_clean(clean, sizeof clean, line, len);
		fprintf(c->out, "%s\n", clean);
	}
	if (c->tty)
		console_status(c, c->last_refresh_ms);
}

void console_tick(struct console *c, long long now_ms)
{
	unsigned long total = c->passed + c->failed + c->skipped + c->findings;

	if (c->tty) {
		console_status(c, now_ms);
		return;
	}
	if (now_ms - c->last_count_ms >= CONSOLE_COUNT_EVERY_MS && total != c->printed_at) {
		c->last_count_ms = now_ms;
		c->printed_at = total;
		console_note(c, now_ms, "progress: %lu passed, %lu failed, %lu skipped, %lu findings, %lld s", c->passed,
		             c->failed, c->skipped, c->findings, (now_ms - c->start_ms) / 1000);
	}
	fflush(c->out);
}

void console_finish(struct console *c)
{
	console_clear_status(c);
	fflush(c->out);
}
