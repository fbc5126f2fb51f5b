/* parsecmd — see parsecmd.h. */
#include "parsecmd.h"

#include "parser.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define READ_CHUNK (64 * 1024)

#define OUT_BUF (256 * 1024)

/* Events are serialized into one buffer and written in large blocks. */
struct out {
	int fd;
	char *buf;
	size_t len;
	int failed;
};

static void out_flush(struct out *o)
{
	size_t off = 0;

	while (off < o->len) {
		ssize_t n = write(o->fd, o->buf + off, o->len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			o->failed = 1;
			break;
		}
		off += (size_t)n;
	}
	o->len = 0;
}

static void put_slow(struct out *o, const char *s, size_t n)
{
	while (n > 0) {
		size_t room = OUT_BUF - o->len, k = n < room ? n : room;

		memcpy(o->buf + o->len, s, k);
		o->len += k;
		s += k;
		n -= k;
		if (o->len == OUT_BUF)
			out_flush(o);
	}
}

static inline void put(struct out *o, const char *s, size_t n)
{
	if (n <= OUT_BUF - o->len) {
		memcpy(o->buf + o->len, s, n);
		o->len += n;
		return;
	}
	put_slow(o, s, n);
}

static inline void put1(struct out *o, char c)
{
	if (o->len == OUT_BUF)
		out_flush(o);
	o->buf[o->len++] = c;
}

/* No byte below 0x20, no '"' (0x22), no '\\' (0x5C) among these eight? */
static bool plain8(const char *s)
{
	const uint64_t ones = UINT64_C(0x0101010101010101), high = UINT64_C(0x8080808080808080);
	uint64_t w, q, b;

	memcpy(&w, s, 8);
	q = w ^ (ones * '"');
	b = w ^ (ones * '\\');
	/* A byte is "zero" (matches) when (x - 1) & ~x has its high bit; bytes >= 0x80 are
	 * masked out with ~w so UTF-8 passes. */
	return (((w - ones * 0x20) | (q - ones) | (b - ones)) & ~w & high) == 0;
}

static void put_string(struct out *o, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t run = 0;

	put1(o, '"');
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		char esc[6] = {'\\', 0, 0, 0, 0, 0};
		size_t el = 2;

		/* Most bytes need no escape: skip them eight at a time. */
		while (i + 8 <= n && plain8(s + i))
			i += 8;
		if (i >= n)
			break;
		c = (unsigned char)s[i];
		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		put(o, s + run, i - run);
		run = i + 1;
		switch (c) {
		case '"': esc[1] = '"'; break;
		case '\\': esc[1] = '\\'; break;
		case '\n': esc[1] = 'n'; break;
		case '\r': esc[1] = 'r'; break;
		case '\t': esc[1] = 't'; break;
		case '\b': esc[1] = 'b'; break;
		case '\f': esc[1] = 'f'; break;
		default:
			esc[1] = 'u';
			esc[2] = '0';
			esc[3] = '0';
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 15];
			el = 6;
		}
		put(o, esc, el);
	}
	put(o, s + run, n - run);
	put1(o, '"');
}

static void put_int(struct out *o, json_int_t v)
{
	char b[24], *e = b + sizeof(b), *q = e;
	unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;

	do {
		*--q = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (v < 0)
		*--q = '-';
	put(o, q, (size_t)(e - q));
}

static void put_real(struct out *o, double v)
{
	char b[40];
	int n;

	/* Durations in seconds: microsecond precision, printed without snprintf's cost. */
	if (v >= 0 && v < 1e9) {
		long long us = llround(v * 1e6);

		if (fabs((double)us / 1e6 - v) <= 1e-12 * (v > 1 ? v : 1)) {
			long long frac = us % 1000000;
			int digits = 6;

			put_int(o, us / 1000000);
			put1(o, '.');
			while (digits > 1 && frac % 10 == 0) {
				frac /= 10;
				digits--;
			}
			n = snprintf(b, sizeof(b), "%0*lld", digits, frac);
			put(o, b, (size_t)n);
			return;
		}
	}
	n = snprintf(b, sizeof(b), "%.17g", v);
	if (!strpbrk(b, ".eEn"))
		strcat(b, ".0"), n += 2;
	put(o, b, (size_t)n);
}

/* Compact JSON of an event. jansson's json_dumpf/json_dumpb cost 60% of a 200 MB
 * report's run time (a callback per token, snprintf per number); events are small
 * objects of strings, integers, reals and arrays, written here in jansson's own
 * compact form (members in insertion order). Not a parser: jansson still builds and
 * validates every value. */
static void put_json(struct out *o, json_t *j)
{
	switch (json_typeof(j)) {
	case JSON_OBJECT: {
		const char *sep = "{";

		for (void *it = json_object_iter(j); it; it = json_object_iter_next(j, it)) {
			const char *k = json_object_iter_key(it);

			put1(o, *sep);
			sep = ",";
			put_string(o, k, json_object_iter_key_len(it));
			put1(o, ':');
			put_json(o, json_object_iter_value(it));
		}
		put(o, *sep == '{' ? "{}" : "}", *sep == '{' ? 2 : 1);
		break;
	}
	case JSON_ARRAY: {
		size_t n = json_array_size(j);

		put1(o, '[');
		for (size_t i = 0; i < n; i++) {
			if (i)
				put1(o, ',');
			put_json(o, json_array_get(j, i));
		}
		put1(o, ']');
		break;
	}
	case JSON_STRING:
		put_string(o, json_string_value(j), json_string_length(j));
		break;
	case JSON_INTEGER:
		put_int(o, json_integer_value(j));
		break;
	case JSON_REAL:
		put_real(o, json_real_value(j));
		break;
	case JSON_TRUE:
		put(o, "true", 4);
		break;
	case JSON_FALSE:
		put(o, "false", 5);
		break;
	case JSON_NULL:
		put(o, "null", 4);
		break;
	}
}

static void parsecmd_emit(void *arg, json_t *ev)
{
	struct out *o = arg;

	put_json(o, ev);
	put1(o, '\n');
	json_decref(ev);
}

static void usage(FILE *f)
{
	const char *const *n;

	fprintf(f, "usage: stagevisor-agent parse [--root DIR] [--tool NAME] FORMAT FILE...\nformats:");
	for (n = rs_format_names(); *n; n++)
		fprintf(f, " %s", *n);
	fprintf(f, "\n");
}

static int parse_one(const char *format, const char *path, const char *root, const char *tool, struct out *o)
{
	struct rs_error err;
	struct rs_parser *p = NULL;
	char *buf = NULL, msg[1200];
	int fd = -1, rc = -1;

	memset(&err, 0, sizeof(err));
	p = rs_parser_new(format, path, parsecmd_emit, o, NULL);
	buf = malloc(READ_CHUNK);
	if (!p || !buf || (root && rs_parser_set_root(p, root) < 0) || (tool && rs_parser_set_tool(p, tool) < 0)) {
		fprintf(stderr, "stagevisor-agent parse: %s: out of memory\n", path);
		goto fail;
	}
	fd = strcmp(path, "-") == 0 ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "stagevisor-agent parse: %s: %s\n", path, strerror(errno));
		goto fail;
	}
	for (;;) {
		ssize_t n = read(fd, buf, READ_CHUNK);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			fprintf(stderr, "stagevisor-agent parse: %s: %s\n", path, strerror(errno));
			goto fail;
		}
		if (n == 0)
			break;
		if (rs_parser_feed(p, buf, (size_t)n, &err) < 0)
			goto malformed;
	}
	if (rs_parser_finish(p, &err) < 0)
		goto malformed;
	rc = 0;
	goto fail;
malformed:
	fprintf(stderr, "stagevisor-agent parse: %s\n", rs_error_format(&err, msg, sizeof(msg)));
fail:
	if (fd > STDIN_FILENO)
		close(fd);
	free(buf);
	rs_parser_free(p);
	return rc;
}

int rs_parse_main(int argc, char **argv)
{
	const char *root = NULL, *tool = NULL, *format;
	char cwd[4096];
	struct out o = {STDOUT_FILENO, NULL, 0, 0};
	int i = 1, rc = 0;

	while (i < argc && argv[i][0] == '-' && argv[i][1] == '-') {
		if (strcmp(argv[i], "--") == 0) {
			i++;
			break;
		}
		if (strcmp(argv[i], "--help") == 0) {
			usage(stdout);
			return 0;
		}
		if (i + 1 >= argc)
			goto usage;
		if (strcmp(argv[i], "--root") == 0)
			root = argv[i + 1];
		else if (strcmp(argv[i], "--tool") == 0)
			tool = argv[i + 1];
		else
			goto usage;
		i += 2;
	}
	if (argc - i < 2)
		goto usage;
	format = argv[i++];
	if (!rs_format_known(format)) {
		fprintf(stderr, "stagevisor-agent parse: unknown format \"%s\"\n", format);
		goto usage;
	}
	if (!root && getcwd(cwd, sizeof(cwd)))
		root = cwd;
	o.buf = malloc(OUT_BUF);
	if (!o.buf) {
		fprintf(stderr, "stagevisor-agent parse: out of memory\n");
		return RS_PARSE_EXIT_MALFORMED;
	}
	fflush(stdout);
	for (; i < argc; i++) {
		if (parse_one(format, argv[i], root, tool, &o) < 0)
			rc = RS_PARSE_EXIT_MALFORMED;
		out_flush(&o); /* the events of a file before the next file's messages */
	}
	free(o.buf);
	if (o.failed) {
		fprintf(stderr, "stagevisor-agent parse: writing to stdout: %s\n", strerror(errno));
		rc = RS_PARSE_EXIT_MALFORMED;
	}
	return rc;
usage:
	usage(stderr);
	return RS_PARSE_EXIT_USAGE;
}
