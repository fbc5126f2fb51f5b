/*
 * uplink_spool — the uplink's queue of unacknowledged events, in sequence order, bounded:
 * a memory part and then a spool file, and when both are full, log lines are shed.
 *
 * Layout (oldest first): HEAD (memory) | FILE (a ring in the spool file) | TAIL (memory).
 * New events go to HEAD while the file and TAIL are empty and memory has room, then to the
 * file while TAIL is empty and the file has room, then to TAIL while memory has room. When
 * nothing has room, a log line is shed (a range record keeps its seq and time; consecutive
 * shed lines share one record) and any other event goes to TAIL beyond the bound (counted in
 * over_bound). When HEAD and the file are drained, TAIL becomes HEAD. So the order is always
 * the sequence order and the memory bound holds except for results and shed records.
 *
 * Records (memory and file alike): a 4-byte little-endian header, then the payload.
 * header bit 31 clear: an event, low 31 bits = length of its compact JSON.
 * header bit 31 set:   a shed range, low 31 bits = number of seqs, payload = 24-byte ts.
 *
 * The spool file is created on first use as "<path>.XXXXXX" (mkostemp, mode 0600; an existing
 * file is never touched), unlinked at once, and grows to at most its bound. Appends are
 * gathered and written 128 KiB at a time; reads go through a 128 KiB cache. What it does not do: no network, no JSON parsing; the caller gives
 * each event's kind and encoding.
 */
#ifndef SV_UPLINK_SPOOL_H
#define SV_UPLINK_SPOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct evbuffer;

#define UPLINK_SPOOL_HDR 4u
#define UPLINK_SPOOL_RANGE 0x80000000u
#define UPLINK_SPOOL_TS_LEN 24u

/* Where a new record goes: the placement rule above as a pure function. */
enum uplink_spool_place {
	UPLINK_SPOOL_HEAD,
	UPLINK_SPOOL_FILE,
	UPLINK_SPOOL_TAIL,
	UPLINK_SPOOL_SHED,      /* a log line: drop its text, keep its seq in a range record */
	UPLINK_SPOOL_OVER,      /* not a log line: TAIL, beyond the memory bound */
};

struct uplink_spool_fill {
	size_t mem_bytes, mem_bound;  /* HEAD + TAIL bytes, memory bound */
	uint64_t file_live, file_bound; /* bytes in the file ring, its bound (0 = no file) */
	size_t tail_bytes;
	bool file_usable;             /* false after the file could not be created or written */
};

enum uplink_spool_place uplink_spool_place(const struct uplink_spool_fill *f, bool is_log,
					   size_t record_len);

struct uplink_spool;

/*
 * stream names the placeholders; path is the spool file ("" = no file; it is created only
 * when needed). NULL on allocation failure.
 */
struct uplink_spool *uplink_spool_new(const char *stream, size_t mem_bound, uint64_t file_bound,
				      const char *path);
void uplink_spool_free(struct uplink_spool *sp);

/*
 * Append the event with sequence number seq (the first push sets the start; then it must be
 * the next one). ts: its 24-byte time (used only if it is shed). Returns 0 kept, 1 shed,
 * -1 (seq out of order, event larger than 2^31, or no memory).
 */
int uplink_spool_push(struct uplink_spool *sp, uint64_t seq, bool is_log, const char *compact,
		      size_t len, const char *ts);

/* Seqs held (acked ones are dropped), and the first of them (the next one to push when 0). */
uint64_t uplink_spool_count(const struct uplink_spool *sp);
uint64_t uplink_spool_first_seq(const struct uplink_spool *sp);

/*
 * Append the first events, from the head on, to out as "e1,e2,…" (shed seqs as
 * placeholders): at most max_events, and no more than max_bytes (but at least one event).
 * *n = number of events appended. 0, or -1 when the spool file could not be read.
 */
int uplink_spool_copy(struct uplink_spool *sp, struct evbuffer *out, size_t max_events,
		      size_t max_bytes, size_t *n);

/* Drop the first n seqs (acknowledged). n larger than the count drops everything. */
void uplink_spool_drop(struct uplink_spool *sp, uint64_t n);

struct uplink_spool_stats {
	size_t mem_bytes;
	uint64_t file_bytes;
	uint64_t shed;       /* log lines shed */
	uint64_t over_bound; /* events kept beyond the memory bound */
	bool file_failed;    /* the file could not be created or written (memory only since) */
};
void uplink_spool_stats(const struct uplink_spool *sp, struct uplink_spool_stats *st);

#endif
