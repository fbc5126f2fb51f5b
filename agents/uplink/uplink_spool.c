/*
 * uplink_spool — the bounded queue of unacknowledged events (uplink_spool.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>

#include "protocol/protocol.h"
#include "uplink_spool.h"

enum seg { SEG_HEAD, SEG_FILE, SEG_TAIL, SEG_PENDING, SEG_NONE };

#define WBUF_SIZE (128u * 1024u)
#define RBUF_SIZE (128u * 1024u) /* > one record (PR_EVENT_MAX + header) */

struct uplink_spool {
	char stream[PR_STREAM_MAX + 1];
	size_t mem_bound;
	uint64_t file_bound;
	char *path;

	struct evbuffer *head, *tail;
	uint64_t head_recs, file_recs, tail_recs; /* records in each part */

	int fd;           /* -1 until the file is needed */
	bool file_failed;
	uint64_t fr, fw;  /* logical read and write offsets in the file ring */
	/* Appends are gathered in wbuf (logical fw_flushed..fw) and written in large pwrites;
	 * reads go through rbuf, a cache of the logical range rc_off..rc_off+rc_len. Both are
	 * allocated with the file. */
	char *wbuf, *rbuf;
	size_t wlen, rc_len;
	uint64_t fw_flushed, rc_off;

	/* The newest shed range, not yet written as a record: it is logically last. */
	uint64_t pending_count;
	char pending_ts[UPLINK_SPOOL_TS_LEN + 1];

	uint64_t first_seq; /* seq of the first held event */
	uint64_t next_seq;  /* seq the next push must have; 0 before the first push */
	uint64_t held;      /* seqs held */
	uint64_t skip;      /* seqs of the first record already dropped (a partly acked range) */

	uint64_t shed, over;
	char *tmp;          /* PR_EVENT_MAX bytes for copying out of memory or the file */
};

enum uplink_spool_place uplink_spool_place(const struct uplink_spool_fill *f, bool is_log,
					   size_t record_len)
{
	bool mem_room = f->mem_bytes + record_len <= f->mem_bound;
	bool file_ok = f->file_usable && f->file_bound > 0;

	if (f->file_live == 0 && f->tail_bytes == 0 && mem_room)
		return UPLINK_SPOOL_HEAD;
	if (f->tail_bytes == 0 && file_ok && f->file_live + record_len <= f->file_bound)
		return UPLINK_SPOOL_FILE;
	/* TAIL keeps the order only while the file is not being appended to: it is not
	 * (TAIL non-empty, or the file is full or unusable). */
	if (mem_room)
		return UPLINK_SPOOL_TAIL;
	return is_log ? UPLINK_SPOOL_SHED : UPLINK_SPOOL_OVER;
}

struct uplink_spool *uplink_spool_new(const char *stream, size_t mem_bound, uint64_t file_bound,
				      const char *path)
{
	struct uplink_spool *sp = calloc(1, sizeof *sp);

	if (!sp)
		return NULL;
	sp->fd = -1;
	if (!pr_stream_valid(stream))
		goto fail;
	memcpy(sp->stream, stream, strlen(stream) + 1);
	sp->mem_bound = mem_bound;
	sp->file_bound = path && *path ? file_bound : 0;
	sp->path = strdup(path ? path : "");
	sp->head = evbuffer_new();
	sp->tail = evbuffer_new();
	sp->tmp = malloc(PR_EVENT_MAX);
	if (!sp->path || !sp->head || !sp->tail || !sp->tmp)
		goto fail;
	return sp;
fail:
	uplink_spool_free(sp);
	return NULL;
}

void uplink_spool_free(struct uplink_spool *sp)
{
	if (!sp)
		return;
	if (sp->head)
		evbuffer_free(sp->head);
	if (sp->tail)
		evbuffer_free(sp->tail);
	if (sp->fd >= 0)
		close(sp->fd);
	free(sp->path);
	free(sp->tmp);
	free(sp->wbuf);
	free(sp->rbuf);
	free(sp);
}

/* ---- the file ring -------------------------------------------------------------------- */

static int file_open(struct uplink_spool *sp)
{
	sp->wbuf = malloc(WBUF_SIZE);
	sp->rbuf = malloc(RBUF_SIZE);
	if (!sp->wbuf || !sp->rbuf) {
		sp->file_failed = true;
		return -1;
	}
	char *name = malloc(strlen(sp->path) + 8);

	if (name) {
		/* A new file next to the configured name: an existing file is never touched. */
		sprintf(name, "%s.XXXXXX", sp->path);
		sp->fd = mkostemp(name, O_CLOEXEC);
		if (sp->fd >= 0)
			unlink(name); /* nobody else needs its name: it goes away with the agent */
		free(name);
		if (sp->fd >= 0)
			return 0;
	}
	sp->file_failed = true;
	return -1;
}

/* pwrite/pread all of len at a logical offset of the ring, wrapping at file_bound. */
static int file_io(struct uplink_spool *sp, bool write, uint64_t off, void *p, size_t len)
{
	char *c = p;

	while (len > 0) {
		uint64_t at = off % sp->file_bound;
		size_t n = len;
		ssize_t r;
		if (at + n > sp->file_bound)
			n = (size_t)(sp->file_bound - at);
		r = write ? pwrite(sp->fd, c, n, (off_t)at) : pread(sp->fd, c, n, (off_t)at);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		c += r;
		off += (uint64_t)r;
		len -= (size_t)r;
	}
	return 0;
}

static void put_hdr(unsigned char h[UPLINK_SPOOL_HDR], uint32_t v)
{
	h[0] = (unsigned char)v;
	h[1] = (unsigned char)(v >> 8);
	h[2] = (unsigned char)(v >> 16);
	h[3] = (unsigned char)(v >> 24);
}

static uint32_t get_hdr(const unsigned char h[UPLINK_SPOOL_HDR])
{
	return (uint32_t)h[0] | (uint32_t)h[1] << 8 | (uint32_t)h[2] << 16 | (uint32_t)h[3] << 24;
}

static size_t payload_len(uint32_t hdr)
{
	return hdr & UPLINK_SPOOL_RANGE ? UPLINK_SPOOL_TS_LEN : (size_t)(hdr & ~UPLINK_SPOOL_RANGE);
}

static uint64_t seqs_of(uint32_t hdr)
{
	return hdr & UPLINK_SPOOL_RANGE ? (uint64_t)(hdr & ~UPLINK_SPOOL_RANGE) : 1;
}

/*
 * The gathered appends could not be written: they move to TAIL (which is empty while the file
 * is appended to), so the order stays HEAD | FILE | TAIL, and the file takes nothing more.
 */
static void spill_wbuf(struct uplink_spool *sp)
{
	size_t off = 0;

	while (off + UPLINK_SPOOL_HDR <= sp->wlen) {
		size_t n = UPLINK_SPOOL_HDR + payload_len(get_hdr((unsigned char *)sp->wbuf + off));
		/* if memory runs out here there is nowhere left to keep them */
		evbuffer_add(sp->tail, sp->wbuf + off, n);
		sp->tail_recs++;
		sp->file_recs--;
		off += n;
	}
	sp->fw = sp->fw_flushed;
	sp->wlen = 0;
	sp->file_failed = true;
}

static int file_flush(struct uplink_spool *sp)
{
	if (sp->wlen == 0)
		return 0;
	if (file_io(sp, true, sp->fw_flushed, sp->wbuf, sp->wlen) < 0) {
		spill_wbuf(sp);
		return -1;
	}
	sp->fw_flushed += sp->wlen;
	sp->wlen = 0;
	return 0;
}

static int file_append(struct uplink_spool *sp, const unsigned char *h, const void *payload,
		       size_t len)
{
	if (sp->wlen + UPLINK_SPOOL_HDR + len > WBUF_SIZE && file_flush(sp) < 0)
		return -1;
	memcpy(sp->wbuf + sp->wlen, h, UPLINK_SPOOL_HDR);
	memcpy(sp->wbuf + sp->wlen + UPLINK_SPOOL_HDR, payload, len);
	sp->wlen += UPLINK_SPOOL_HDR + len;
	sp->fw += UPLINK_SPOOL_HDR + len;
	sp->file_recs++;
	return 0;
}

/* Read flushed bytes (callers flush first) through the cache. */
static int file_read(struct uplink_spool *sp, uint64_t off, void *dst, size_t len)
{
	if (off + len > sp->fw_flushed || len > RBUF_SIZE)
		return -1;
	if (off < sp->rc_off || off + len > sp->rc_off + sp->rc_len) {
		size_t n = RBUF_SIZE;
		if (sp->fw_flushed - off < n)
			n = (size_t)(sp->fw_flushed - off);
		if (file_io(sp, false, off, sp->rbuf, n) < 0)
			return -1;
		sp->rc_off = off;
		sp->rc_len = n;
	}
	memcpy(dst, sp->rbuf + (off - sp->rc_off), len);
	return 0;
}

/* ---- appending -------------------------------------------------------------------------- */

static void fill_of(const struct uplink_spool *sp, struct uplink_spool_fill *f)
{
	f->tail_bytes = evbuffer_get_length(sp->tail);
	f->mem_bytes = evbuffer_get_length(sp->head) + f->tail_bytes;
	f->mem_bound = sp->mem_bound;
	f->file_live = sp->fw - sp->fr;
	f->file_bound = sp->file_bound;
	f->file_usable = !sp->file_failed && sp->file_bound > 0;
}

/* Append one record where the rule says (a shed never reaches here). 0 or -1. */
static int append(struct uplink_spool *sp, uint32_t hdr, const void *payload, size_t len,
		  bool is_log, bool *shed)
{
	unsigned char h[UPLINK_SPOOL_HDR];
	struct uplink_spool_fill f;
	enum uplink_spool_place where;

	put_hdr(h, hdr);
	for (;;) {
		fill_of(sp, &f);
		where = uplink_spool_place(&f, is_log, UPLINK_SPOOL_HDR + len);
		if (where != UPLINK_SPOOL_FILE)
			break;
		if (sp->fd < 0 && file_open(sp) < 0)
			continue; /* file_failed is set: place again */
		if (file_append(sp, h, payload, len) == 0)
			return 0;
		/* file_failed is set: what was written stays readable; nothing more goes in */
	}
	if (where == UPLINK_SPOOL_SHED) {
		*shed = true;
		return 0;
	}
	if (where == UPLINK_SPOOL_OVER)
		sp->over++;
	{
		struct evbuffer *b = where == UPLINK_SPOOL_HEAD ? sp->head : sp->tail;
		if (evbuffer_expand(b, UPLINK_SPOOL_HDR + len) < 0 ||
		    evbuffer_add(b, h, UPLINK_SPOOL_HDR) < 0 || evbuffer_add(b, payload, len) < 0)
			return -1;
		if (where == UPLINK_SPOOL_HEAD)
			sp->head_recs++;
		else
			sp->tail_recs++;
	}
	return 0;
}

/* Write the pending shed range as a record (it may go beyond the memory bound: 28 bytes). */
static int flush_pending(struct uplink_spool *sp)
{
	bool shed = false;

	while (sp->pending_count > 0) {
		uint64_t n = sp->pending_count;
		if (n > (UPLINK_SPOOL_RANGE - 1))
			n = UPLINK_SPOOL_RANGE - 1;
		if (append(sp, UPLINK_SPOOL_RANGE | (uint32_t)n, sp->pending_ts, UPLINK_SPOOL_TS_LEN,
			   false, &shed) < 0)
			return -1;
		sp->pending_count -= n;
	}
	return 0;
}

int uplink_spool_push(struct uplink_spool *sp, uint64_t seq, bool is_log, const char *compact,
		      size_t len, const char *ts)
{
	bool shed = false;

	if (sp->next_seq == 0) {
		if (seq == 0)
			return -1;
		sp->first_seq = seq;
	} else if (seq != sp->next_seq) {
		return -1;
	}
	if (len == 0 || len > PR_EVENT_MAX || !ts || strlen(ts) != UPLINK_SPOOL_TS_LEN)
		return -1;
	if (is_log && sp->pending_count > 0) {
		/* Shedding already: stay consistent, keep shedding until something else comes. */
		struct uplink_spool_fill f;
		fill_of(sp, &f);
		if (uplink_spool_place(&f, true, UPLINK_SPOOL_HDR + len) == UPLINK_SPOOL_SHED)
			shed = true;
	}
	if (!shed) {
		if (flush_pending(sp) < 0)
			return -1;
		if (append(sp, (uint32_t)len, compact, len, is_log, &shed) < 0)
			return -1;
	}
	if (shed) {
		if (sp->pending_count == 0)
			memcpy(sp->pending_ts, ts, UPLINK_SPOOL_TS_LEN + 1);
		sp->pending_count++;
		sp->shed++;
	}
	sp->next_seq = seq + 1;
	sp->held++;
	return shed ? 1 : 0;
}

uint64_t uplink_spool_count(const struct uplink_spool *sp)
{
	return sp->held;
}

uint64_t uplink_spool_first_seq(const struct uplink_spool *sp)
{
	return sp->held ? sp->first_seq : sp->next_seq;
}

/* ---- reading and dropping --------------------------------------------------------------- */

/* The part the first record is in. */
static enum seg front(const struct uplink_spool *sp)
{
	if (sp->head_recs)
		return SEG_HEAD;
	if (sp->file_recs)
		return SEG_FILE;
	if (sp->tail_recs)
		return SEG_TAIL;
	if (sp->pending_count)
		return SEG_PENDING;
	return SEG_NONE;
}

/* When HEAD and the file are empty, TAIL becomes HEAD (the order is kept). */
static void rotate(struct uplink_spool *sp)
{
	if (sp->head_recs == 0 && sp->file_recs == 0) {
		/* the ring is empty (nothing gathered either): start over at offset 0 */
		sp->fr = sp->fw = sp->fw_flushed = 0;
		sp->rc_off = sp->rc_len = 0;
		if (sp->tail_recs) {
			struct evbuffer *t = sp->head;
			sp->head = sp->tail;
			sp->tail = t;
			sp->head_recs = sp->tail_recs;
			sp->tail_recs = 0;
		}
	}
}

void uplink_spool_drop(struct uplink_spool *sp, uint64_t n)
{
	unsigned char h[UPLINK_SPOOL_HDR];

	file_flush(sp); /* on failure the gathered records moved to TAIL */
	if (n > sp->held)
		n = sp->held;
	while (n > 0) {
		enum seg s = front(sp);
		uint32_t hdr;
		uint64_t left;
		if (s == SEG_PENDING) {
			sp->pending_count -= n;
			sp->held -= n;
			sp->first_seq += n;
			sp->skip = 0;
			return;
		}
		if (s == SEG_NONE)
			break;
		if (s == SEG_FILE) {
			if (file_read(sp, sp->fr, h, UPLINK_SPOOL_HDR) < 0) {
				/* Unreadable: nothing sensible is left to do with its records. */
				sp->held -= n;
				sp->first_seq += n;
				sp->fr = sp->fw = sp->fw_flushed;
				sp->file_recs = 0;
				rotate(sp);
				return;
			}
		} else {
			evbuffer_copyout(s == SEG_HEAD ? sp->head : sp->tail, h, UPLINK_SPOOL_HDR);
		}
		hdr = get_hdr(h);
		left = seqs_of(hdr) - sp->skip;
		if (n < left) {
			sp->skip += n;
			sp->held -= n;
			sp->first_seq += n;
			return;
		}
		if (s == SEG_FILE) {
			sp->fr += UPLINK_SPOOL_HDR + payload_len(hdr);
			sp->file_recs--;
		} else if (s == SEG_HEAD) {
			evbuffer_drain(sp->head, UPLINK_SPOOL_HDR + payload_len(hdr));
			sp->head_recs--;
		} else {
			evbuffer_drain(sp->tail, UPLINK_SPOOL_HDR + payload_len(hdr));
			sp->tail_recs--;
		}
		sp->skip = 0;
		sp->held -= left;
		sp->first_seq += left;
		n -= left;
		rotate(sp);
	}
}

/* A cursor over the records in order, without consuming them. */
struct cursor {
	enum seg seg;
	size_t recs_left;   /* records left in the current part */
	size_t mem_off;     /* offset in HEAD or TAIL */
	uint64_t file_off;  /* logical offset in the ring */
};

static void cursor_settle(const struct uplink_spool *sp, struct cursor *c)
{
	while (c->recs_left == 0 && c->seg != SEG_NONE) {
		c->seg = c->seg == SEG_HEAD ? SEG_FILE : c->seg == SEG_FILE ? SEG_TAIL :
			 c->seg == SEG_TAIL ? SEG_PENDING : SEG_NONE;
		c->mem_off = 0;
		c->recs_left = c->seg == SEG_FILE ? sp->file_recs : c->seg == SEG_TAIL ? sp->tail_recs :
			       c->seg == SEG_PENDING ? (sp->pending_count > 0) : 0;
	}
}

/* Read the record at the cursor: header and (for events) payload into sp->tmp. 0 or -1. */
static int cursor_read(struct uplink_spool *sp, struct cursor *c, uint32_t *hdr)
{
	unsigned char h[UPLINK_SPOOL_HDR];
	size_t len;

	if (c->seg == SEG_PENDING) {
		*hdr = UPLINK_SPOOL_RANGE | (uint32_t)(sp->pending_count < UPLINK_SPOOL_RANGE - 1 ?
						       sp->pending_count : UPLINK_SPOOL_RANGE - 1);
		memcpy(sp->tmp, sp->pending_ts, UPLINK_SPOOL_TS_LEN);
		return 0;
	}
	if (c->seg == SEG_FILE) {
		if (file_read(sp, c->file_off, h, UPLINK_SPOOL_HDR) < 0)
			return -1;
		*hdr = get_hdr(h);
		len = payload_len(*hdr);
		if (len > PR_EVENT_MAX ||
		    file_read(sp, c->file_off + UPLINK_SPOOL_HDR, sp->tmp, len) < 0)
			return -1;
		c->file_off += UPLINK_SPOOL_HDR + len;
	} else {
		struct evbuffer *b = c->seg == SEG_HEAD ? sp->head : sp->tail;
		struct evbuffer_ptr p;
		if (evbuffer_ptr_set(b, &p, c->mem_off, EVBUFFER_PTR_SET) < 0 ||
		    evbuffer_copyout_from(b, &p, h, UPLINK_SPOOL_HDR) != UPLINK_SPOOL_HDR)
			return -1;
		*hdr = get_hdr(h);
		len = payload_len(*hdr);
		if (len > PR_EVENT_MAX ||
		    evbuffer_ptr_set(b, &p, c->mem_off + UPLINK_SPOOL_HDR, EVBUFFER_PTR_SET) < 0 ||
		    evbuffer_copyout_from(b, &p, sp->tmp, len) != (ev_ssize_t)len)
			return -1;
		c->mem_off += UPLINK_SPOOL_HDR + len;
	}
	c->recs_left--;
	return 0;
}

int uplink_spool_copy(struct uplink_spool *sp, struct evbuffer *out, size_t max_events,
		      size_t max_bytes, size_t *n)
{
	struct cursor c;
	uint64_t seq = sp->first_seq, skip = sp->skip;
	size_t bytes = 0, count = 0;
	char ph[PR_SHED_PLACEHOLDER_MAX];

	*n = 0;
	file_flush(sp); /* before the cursor: a failure moves records to TAIL */
	c = (struct cursor){SEG_HEAD, (size_t)sp->head_recs, 0, sp->fr};
	cursor_settle(sp, &c);
	while (count < max_events && c.seg != SEG_NONE) {
		uint32_t hdr;
		if (cursor_read(sp, &c, &hdr) < 0)
			return -1;
		if (hdr & UPLINK_SPOOL_RANGE) {
			char ts[UPLINK_SPOOL_TS_LEN + 1];
			uint64_t k = seqs_of(hdr);
			memcpy(ts, sp->tmp, UPLINK_SPOOL_TS_LEN);
			ts[UPLINK_SPOOL_TS_LEN] = '\0';
			for (uint64_t i = skip; i < k && count < max_events; i++) {
				int len = pr_shed_placeholder_format(sp->stream, seq, ts, ph, sizeof ph);
				if (len < 0)
					return -1;
				if (count > 0 && bytes + (size_t)len + 1 > max_bytes)
					goto done;
				if ((count > 0 && evbuffer_add(out, ",", 1) < 0) ||
				    evbuffer_add(out, ph, (size_t)len) < 0)
					return -1;
				bytes += (size_t)len + (count > 0);
				count++;
				seq++;
			}
		} else {
			size_t len = payload_len(hdr);
			if (count > 0 && bytes + len + 1 > max_bytes)
				goto done;
			if ((count > 0 && evbuffer_add(out, ",", 1) < 0) ||
			    evbuffer_add(out, sp->tmp, len) < 0)
				return -1;
			bytes += len + (count > 0);
			count++;
			seq++;
		}
		skip = 0;
		cursor_settle(sp, &c);
	}
done:
	*n = count;
	return 0;
}

void uplink_spool_stats(const struct uplink_spool *sp, struct uplink_spool_stats *st)
{
	st->mem_bytes = evbuffer_get_length(sp->head) + evbuffer_get_length(sp->tail);
	st->file_bytes = sp->fw - sp->fr;
	st->shed = sp->shed;
	st->over_bound = sp->over;
	st->file_failed = sp->file_failed;
}
