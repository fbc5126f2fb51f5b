/* parsecmd — see parsecmd.h. */
#include "parsecmd.h"

#include "parser.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define READ_CHUNK (64 * 1024)

/* Where the events go: standard output, through the parser's JSON-line writer (no
 * json_t is built: the fast path for 200 MB reports). */
struct out {
	int fd;
	int failed;
};

static int parsecmd_write(void *arg, const char *data, size_t len)
{
	struct out *o = arg;

	while (len > 0) {
		ssize_t n = write(o->fd, data, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			o->failed = 1;
			return -1;
		}
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Not called: the writer takes every event. */
static void parsecmd_emit(void *arg, json_t *ev)
{
	(void)arg;
	json_decref(ev);
}

static void usage(FILE *f)
{
	const char *const *n;

	fprintf(f, "usage: stagevisor-agent parse [--root DIR] [--tool NAME] FORMAT FILE...\nformats:");
	for (n = rs_format_names(); *n; n++)
		fprintf(f, " %s", *n);
	fprintf(f, "\nEvents are written as UTF-8 JSON lines. XML reports may declare any encoding glibc's iconv\n"
		   "knows that expat can take (Cp1252, ANSI_X3.4-1968, ISO-8859-15, MacRoman, Shift_JIS...);\n"
		   "others are an error naming the encoding. Exit 1 when a file is missing or malformed, 125 on\n"
		   "a usage error.\n");
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
	if (!p || !buf || rs_parser_set_writer(p, parsecmd_write, o) < 0 || (root && rs_parser_set_root(p, root) < 0) ||
	    (tool && rs_parser_set_tool(p, tool) < 0)) {
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
	/* The events before the error are written first (freeing the parser flushes them). */
	rs_parser_free(p);
	p = NULL;
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
	struct out o = {STDOUT_FILENO, 0};
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
	fflush(stdout);
	for (; i < argc; i++)
		if (parse_one(format, argv[i], root, tool, &o) < 0)
			rc = RS_PARSE_EXIT_MALFORMED;
	if (o.failed) {
		fprintf(stderr, "stagevisor-agent parse: writing to stdout: %s\n", strerror(errno));
		rc = RS_PARSE_EXIT_MALFORMED;
	}
	return rc;
usage:
	usage(stderr);
	return RS_PARSE_EXIT_USAGE;
}
