/* Tests of supervisor/output.c with real pipes and a real event loop: prefixing and order,
 * output of a stream whose writer is gone, and a blocked agent stdout that must not block
 * the writer for ever (bounded buffer, drops counted). */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include <event2/event.h>

#include "output.h"

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Reads what is in fd now (non-blocking) and appends it to buf. */
static size_t slurp(int fd, char *buf, size_t have, size_t size)
{
	for (;;) {
		ssize_t n = read(fd, buf + have, size - 1 - have);
		if (n <= 0)
			break;
		have += (size_t)n;
	}
	buf[have] = '\0';
	return have;
}

static void prefixes_lines_per_fd(void **state)
{
	int out[2], err[2], child[2];
	char got_out[4096], got_err[4096];
	size_t no = 0, ne = 0;
	struct event_base *base = event_base_new();
	(void)state;

	assert_int_equal(pipe2(out, O_NONBLOCK), 0);
	assert_int_equal(pipe2(err, O_NONBLOCK), 0);
	struct output *o = output_new(base, out[1], err[1]);
	assert_non_null(o);
	struct output_stream *s = output_open(o, "web", child);
	assert_non_null(s);
	assert_true(write(child[0], "one\ntwo\nthr", 11) == 11);
	assert_true(write(child[1], "oops\n", 5) == 5);
	assert_true(write(child[0], "ee\nunfinished", 13) == 13);
	close(child[0]);
	close(child[1]);
	for (int i = 0; i < 50; i++)
		event_base_loop(base, EVLOOP_NONBLOCK);
	output_line(o, 1, "@@own line", 10);
	assert_int_equal(output_flush(o, 1000), 0);
	no = slurp(out[0], got_out, no, sizeof got_out);
	ne = slurp(err[0], got_err, ne, sizeof got_err);
	assert_string_equal(got_out, "web | one\nweb | two\nweb | three\nweb | unfinished\n@@own line\n");
	assert_string_equal(got_err, "web | oops\n");
	output_close(s);
	output_free(o);
	event_base_free(base);
	close(out[0]);
	close(out[1]);
	close(err[0]);
	close(err[1]);
}

static void last_lines_after_drain(void **state)
{
	int out[2], child[2];
	struct event_base *base = event_base_new();
	char buf[OUTPUT_TAIL_BYTES + 1];
	const char *lines[5];
	(void)state;

	assert_int_equal(pipe2(out, O_NONBLOCK), 0);
	struct output *o = output_new(base, out[1], out[1]);
	struct output_stream *s = output_open(o, "job", child);
	for (int i = 0; i < 300; i++) {
		char l[32];
		int n = snprintf(l, sizeof l, "line %d\n", i);
		assert_true(write(child[0], l, (size_t)n) == n);
	}
	close(child[0]);
	close(child[1]);
	output_drain(s); /* no loop iteration: drain reads what is there */
	size_t n = output_last_lines(s, buf, sizeof buf, lines, 5);
	assert_int_equal(n, 5);
	assert_string_equal(lines[4], "line 299");
	assert_string_equal(lines[0], "line 295");
	output_close(s);
	output_free(o);
	event_base_free(base);
	close(out[0]);
	close(out[1]);
}

static void blocked_stdout_drops_instead_of_blocking(void **state)
{
	int out[2], child[2];
	struct event_base *base = event_base_new();
	static char chunk[65536];
	size_t written = 0, target = 3 * OUTPUT_BUFFER_BOUND;
	double start = now_s();
	(void)state;

	/* The agent's stdout: a pipe nobody reads. */
	assert_int_equal(pipe2(out, O_NONBLOCK), 0);
	struct output *o = output_new(base, out[1], out[1]);
	struct output_stream *s = output_open(o, "noisy", child);
	fcntl(child[0], F_SETFL, O_NONBLOCK);
	for (size_t i = 0; i < sizeof chunk; i++)
		chunk[i] = (i % 100 == 99) ? '\n' : 'x';
	while (written < target && now_s() - start < 120) { /* a generous deadline, not a rate */
		ssize_t n = write(child[0], chunk, sizeof chunk);
		if (n > 0)
			written += (size_t)n;
		else
			assert_int_equal(errno, EAGAIN);
		event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
		if (n <= 0) {
			struct timespec ts = { 0, 2000000 };
			nanosleep(&ts, NULL);
		}
	}
	/* The writer got all its bytes through although nobody reads the agent's stdout. */
	assert_true(written >= target);
	assert_true(output_stream_dropped(s) > 0);
	assert_true(output_dropped(o) > 0);
	/* And the agent's own line still fits (its reserve). */
	assert_int_equal(output_line(o, 1, "@@stagevisor {}", 15), 0);
	close(child[0]);
	close(child[1]);
	output_close(s);
	output_free(o);
	event_base_free(base);
	close(out[0]);
	close(out[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(prefixes_lines_per_fd),
		cmocka_unit_test(last_lines_after_drain),
		cmocka_unit_test(blocked_stdout_drops_instead_of_blocking),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
