/*
 * agents/uplink/uplink_spool.c: placement, order across memory and file, bounds, the file
 * ring's wrap-around, shedding of log lines only, placeholders and partial acks of them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/buffer.h>
#include <jansson.h>

#include "protocol/protocol.h"
#include "uplink_spool.h"

#define TS "2026-11-26T06:40:00.005Z"

static char dir[] = "/tmp/sv-spool-XXXXXX";
static char path[128];

static int setup(void **state)
{
	(void)state;
	if (!mkdtemp(dir))
		return -1;
	snprintf(path, sizeof path, "%s/spool", dir);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	return rmdir(dir); /* fails if a spool file was left behind */
}

/* An event of exactly len bytes whose content names its seq: {"seq":N,"pad":"xxx"} */
static size_t event_text(uint64_t seq, size_t len, char *out)
{
	int n = snprintf(out, len + 1, "{\"seq\":%llu,\"pad\":\"", (unsigned long long)seq);
	size_t i = (size_t)n;
	assert_true(i + 2 <= len);
	while (i < len - 2)
		out[i++] = 'x';
	out[i++] = '"';
	out[i++] = '}';
	out[i] = '\0';
	return len;
}

static int push(struct uplink_spool *sp, uint64_t seq, bool is_log, size_t len)
{
	char buf[4096];
	event_text(seq, len, buf);
	return uplink_spool_push(sp, seq, is_log, buf, len, TS);
}

/* Copy everything and check it is a JSON array of seqs first..first+n-1 (placeholders for
 * the seqs in `shed`, marked 1). Returns the number of events. */
static size_t check_all(struct uplink_spool *sp, uint64_t first, const unsigned char *shed)
{
	struct evbuffer *out = evbuffer_new();
	size_t n = 0;
	json_error_t e;
	json_t *arr;
	char *text;

	evbuffer_add(out, "[", 1);
	assert_int_equal(uplink_spool_copy(sp, out, SIZE_MAX, SIZE_MAX, &n), 0);
	evbuffer_add(out, "]", 1);
	evbuffer_add(out, "", 1);
	text = (char *)evbuffer_pullup(out, -1);
	arr = json_loads(text, 0, &e);
	if (!arr)
		print_error("not JSON: %s at %d: %.80s\n", e.text, e.position, text + e.position);
	assert_non_null(arr);
	assert_int_equal(json_array_size(arr), n);
	assert_int_equal(n, uplink_spool_count(sp));
	for (size_t i = 0; i < n; i++) {
		json_t *ev = json_array_get(arr, i);
		uint64_t seq = first + i;
		assert_int_equal(json_integer_value(json_object_get(ev, "seq")), seq);
		if (shed && shed[seq]) {
			assert_true(json_is_true(json_object_get(ev, "shed")));
			assert_int_equal(pr_event_validate(ev, NULL), 0);
			assert_string_equal(json_string_value(json_object_get(ev, "ts")), TS);
			assert_string_equal(json_string_value(json_object_get(ev, "stream")), "s");
		} else {
			assert_non_null(json_object_get(ev, "pad"));
		}
	}
	json_decref(arr);
	evbuffer_free(out);
	return n;
}

static void test_place(void **state)
{
	struct uplink_spool_fill f = {.mem_bound = 100, .file_bound = 1000, .file_usable = true};

	(void)state;
	assert_int_equal(uplink_spool_place(&f, true, 100), UPLINK_SPOOL_HEAD);
	f.mem_bytes = 50;
	assert_int_equal(uplink_spool_place(&f, false, 60), UPLINK_SPOOL_FILE);
	f.file_live = 10; /* the file has records: memory room does not matter, order does */
	assert_int_equal(uplink_spool_place(&f, false, 10), UPLINK_SPOOL_FILE);
	f.file_live = 995;
	assert_int_equal(uplink_spool_place(&f, true, 10), UPLINK_SPOOL_TAIL);
	f.tail_bytes = 10;
	f.file_live = 10; /* a TAIL exists: never the file again until it is drained */
	assert_int_equal(uplink_spool_place(&f, true, 10), UPLINK_SPOOL_TAIL);
	f.mem_bytes = 95;
	assert_int_equal(uplink_spool_place(&f, true, 10), UPLINK_SPOOL_SHED);
	assert_int_equal(uplink_spool_place(&f, false, 10), UPLINK_SPOOL_OVER);
	f.tail_bytes = 0;
	f.file_usable = false; /* memory only */
	f.file_live = 0;
	assert_int_equal(uplink_spool_place(&f, true, 10), UPLINK_SPOOL_SHED);
	f.mem_bytes = 0;
	assert_int_equal(uplink_spool_place(&f, true, 10), UPLINK_SPOOL_HEAD);
}

static void test_memory_only(void **state)
{
	struct uplink_spool *sp = uplink_spool_new("s", 1 << 20, 0, "");
	struct uplink_spool_stats st;
	struct evbuffer *out = evbuffer_new();
	size_t n;

	(void)state;
	assert_int_equal(uplink_spool_first_seq(sp), 0);
	for (uint64_t s = 5; s < 105; s++)
		assert_int_equal(push(sp, s, s % 2, 50), 0);
	assert_int_equal(push(sp, 200, false, 50), -1); /* out of order */
	assert_int_equal(push(sp, 104, false, 50), -1);
	assert_int_equal(uplink_spool_count(sp), 100);
	assert_int_equal(uplink_spool_first_seq(sp), 5);
	check_all(sp, 5, NULL);
	/* a batch is bounded by events and by bytes (but has at least one) */
	assert_int_equal(uplink_spool_copy(sp, out, 10, SIZE_MAX, &n), 0);
	assert_int_equal(n, 10);
	assert_int_equal(evbuffer_get_length(out), 10 * 50 + 9);
	evbuffer_drain(out, evbuffer_get_length(out));
	assert_int_equal(uplink_spool_copy(sp, out, 1000, 160, &n), 0);
	assert_int_equal(n, 3);
	evbuffer_drain(out, evbuffer_get_length(out));
	assert_int_equal(uplink_spool_copy(sp, out, 1000, 1, &n), 0);
	assert_int_equal(n, 1);
	uplink_spool_drop(sp, 30);
	assert_int_equal(uplink_spool_first_seq(sp), 35);
	check_all(sp, 35, NULL);
	uplink_spool_drop(sp, 1000);
	assert_int_equal(uplink_spool_count(sp), 0);
	assert_int_equal(uplink_spool_first_seq(sp), 105);
	uplink_spool_stats(sp, &st);
	assert_int_equal(st.mem_bytes, 0);
	assert_int_equal(st.shed, 0);
	evbuffer_free(out);
	uplink_spool_free(sp);
	uplink_spool_free(NULL);
}

/* Memory 1 KiB, file 4 KiB: events spill to the file, then to TAIL, order kept, bounds kept. */
static void test_spill_order_and_bounds(void **state)
{
	struct uplink_spool *sp = uplink_spool_new("s", 1024, 4096, path);
	struct uplink_spool_stats st;
	uint64_t next = 1, first = 1;

	(void)state;
	for (int round = 0; round < 200; round++) {
		/* push a burst of results (never shed), then ack part of it */
		for (int i = 0; i < 7; i++, next++)
			assert_int_equal(push(sp, next, false, 96), 0);
		uplink_spool_stats(sp, &st);
		assert_true(st.file_bytes <= 4096);
		if (st.over_bound == 0)
			assert_true(st.mem_bytes <= 1024);
		if (round % 10 == 9)
			check_all(sp, first, NULL);
		uplink_spool_drop(sp, 5 + round % 3);
		first = uplink_spool_first_seq(sp);
		assert_int_equal(uplink_spool_count(sp), next - first);
	}
	uplink_spool_stats(sp, &st);
	assert_false(st.file_failed);
	/* the file was used and wrapped around its 4 KiB many times: 200 rounds x 7 x 100 B */
	check_all(sp, first, NULL);
	uplink_spool_drop(sp, UINT64_MAX);
	uplink_spool_stats(sp, &st);
	assert_int_equal(st.mem_bytes, 0);
	assert_int_equal(st.file_bytes, 0);
	/* the file was unlinked right after it was created: the directory is empty */
	assert_int_equal(rmdir(dir), 0);
	assert_int_equal(mkdir(dir, 0700), 0);
	uplink_spool_free(sp);
}

static void test_shed_logs_not_results(void **state)
{
	struct uplink_spool *sp = uplink_spool_new("s", 1000, 1000, path);
	struct uplink_spool_stats st;
	unsigned char shed[600] = {0};
	uint64_t s = 1, nshed = 0;
	size_t n;

	(void)state;
	/* 20 x 100 B fill memory and file */
	for (; s <= 20; s++)
		assert_int_equal(push(sp, s, true, 96), 0);
	/* now logs are shed (consecutive ones share a record), results kept beyond the bound */
	for (; s <= 500; s++) {
		bool is_log = s % 50 != 0;
		int rc = push(sp, s, is_log, 96);
		assert_int_equal(rc, is_log ? 1 : 0);
		if (rc == 1) {
			shed[s] = 1;
			nshed++;
		}
	}
	uplink_spool_stats(sp, &st);
	assert_int_equal(st.shed, nshed);
	assert_int_equal(st.over_bound, 10 + 10); /* 10 results, and the 10 range records before them */
	assert_true(st.mem_bytes < 1000 + 19 * 100 + 10 * 30);
	assert_int_equal(uplink_spool_count(sp), 500);
	check_all(sp, 1, shed);
	/* ack into the middle of a shed range, twice, then past it */
	uplink_spool_drop(sp, 25);
	check_all(sp, 26, shed);
	uplink_spool_drop(sp, 10);
	check_all(sp, 36, shed);
	{
		/* a batch bounded by events stops inside a range */
		struct evbuffer *out = evbuffer_new();
		assert_int_equal(uplink_spool_copy(sp, out, 7, SIZE_MAX, &n), 0);
		assert_int_equal(n, 7);
		evbuffer_free(out);
	}
	uplink_spool_drop(sp, 400);
	check_all(sp, 436, shed);
	/* room again: logs are kept again, after the pending range */
	uplink_spool_drop(sp, UINT64_MAX);
	assert_int_equal(push(sp, 501, true, 96), 0);
	check_all(sp, 501, shed);
	uplink_spool_free(sp);
}

/* The file refuses writes after 8 KiB (RLIMIT_FSIZE): what was gathered moves to memory, in
 * order, and nothing more goes to the file. */
static void test_file_write_fails(void **state)
{
	struct rlimit old, lim = {8192, 8192};
	struct uplink_spool *sp = uplink_spool_new("s", 2000, 1 << 20, path);
	struct uplink_spool_stats st;
	uint64_t s;

	(void)state;
	signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	lim.rlim_max = old.rlim_max;
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	for (s = 1; s <= 3000; s++)
		assert_int_equal(push(sp, s, false, 96), 0);
	check_all(sp, 1, NULL);
	uplink_spool_stats(sp, &st);
	assert_true(st.file_failed);
	uplink_spool_drop(sp, 1234);
	check_all(sp, 1235, NULL);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	uplink_spool_free(sp);
}

static void test_unusable_file(void **state)
{
	struct uplink_spool *sp = uplink_spool_new("s", 500, 1 << 20, "/nonexistent-dir/spool");
	struct uplink_spool_stats st;
	unsigned char shed[100] = {0};

	(void)state;
	for (uint64_t s = 1; s <= 5; s++)
		assert_int_equal(push(sp, s, true, 96), 0);
	assert_int_equal(push(sp, 6, true, 96), 1);
	shed[6] = 1;
	uplink_spool_stats(sp, &st);
	assert_true(st.file_failed);
	assert_int_equal(push(sp, 7, false, 96), 0);
	check_all(sp, 1, shed);
	uplink_spool_free(sp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_place),
		cmocka_unit_test(test_memory_only),
		cmocka_unit_test(test_spill_order_and_bounds),
		cmocka_unit_test(test_shed_logs_not_results),
		cmocka_unit_test(test_file_write_fails),
		cmocka_unit_test(test_unusable_file),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
