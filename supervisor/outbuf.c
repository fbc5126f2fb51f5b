/* outbuf — see outbuf.h. */
#include "outbuf.h"

#include <stdlib.h>
#include <string.h>

struct outbuf {
	char *data;     /* bound + reserve bytes, allocated on first use */
	size_t head;    /* first unwritten byte */
	size_t tail;    /* end of the data */
	size_t bound;
	size_t reserve;
	uint64_t dropped_lines;
	uint64_t dropped_bytes;
};

struct outbuf *outbuf_new(size_t bound, size_t reserve)
{
	struct outbuf *ob = calloc(1, sizeof *ob);

	if (!ob)
		return NULL;
	ob->bound = bound;
	ob->reserve = reserve;
	return ob;
}

void outbuf_free(struct outbuf *ob)
{
	if (!ob)
		return;
	free(ob->data);
	free(ob);
}

size_t outbuf_pending(const struct outbuf *ob)
{
	return ob->tail - ob->head;
}

size_t outbuf_room(const struct outbuf *ob)
{
	size_t used = outbuf_pending(ob);

	return used >= ob->bound ? 0 : ob->bound - used;
}

int outbuf_put(struct outbuf *ob, const char *prefix, size_t plen, const char *line, size_t len, bool priority)
{
	size_t need = plen + len + 1;
	size_t limit = ob->bound + (priority ? ob->reserve : 0);

	if (outbuf_pending(ob) + need > limit)
		goto drop;
	if (!ob->data) {
		ob->data = malloc(ob->bound + ob->reserve);
		if (!ob->data)
			goto drop;
	}
	if (ob->tail + need > ob->bound + ob->reserve) {
		/* Not enough space after the tail: move what is pending to the front. */
		memmove(ob->data, ob->data + ob->head, ob->tail - ob->head);
		ob->tail -= ob->head;
		ob->head = 0;
	}
	memcpy(ob->data + ob->tail, prefix, plen);
	memcpy(ob->data + ob->tail + plen, line, len);
	ob->data[ob->tail + plen + len] = '\n';
	ob->tail += need;
	return 0;
drop:
	ob->dropped_lines++;
	ob->dropped_bytes += len;
	return -1;
}

char *outbuf_space(struct outbuf *ob, size_t want, size_t *avail)
{
	size_t total = ob->bound + ob->reserve, pending = outbuf_pending(ob), room;

	*avail = 0;
	if (!ob->data) {
		ob->data = malloc(total);
		if (!ob->data)
			return NULL;
	}
	if (total - ob->tail < want && ob->head > 0) {
		memmove(ob->data, ob->data + ob->head, pending);
		ob->tail = pending;
		ob->head = 0;
	}
	room = pending >= ob->bound ? 0 : ob->bound - pending;
	*avail = total - ob->tail < room ? total - ob->tail : room;
	return ob->data + ob->tail;
}

void outbuf_commit(struct outbuf *ob, size_t n)
{
	ob->tail += n;
}

const char *outbuf_peek(const struct outbuf *ob, size_t *len)
{
	*len = ob->tail - ob->head;
	return ob->data ? ob->data + ob->head : "";
}

void outbuf_consume(struct outbuf *ob, size_t n)
{
	size_t pending = outbuf_pending(ob);

	if (n > pending)
		n = pending;
	ob->head += n;
	if (ob->head == ob->tail)
		ob->head = ob->tail = 0;
}

uint64_t outbuf_dropped_lines(const struct outbuf *ob)
{
	return ob->dropped_lines;
}

uint64_t outbuf_dropped_bytes(const struct outbuf *ob)
{
	return ob->dropped_bytes;
}
