/* linesplit — see linesplit.h. */
#include "linesplit.h"

#include <stdlib.h>
#include <string.h>

struct linesplit {
	size_t max;
	size_t len;  /* bytes held in part */
	bool cont;   /* the next delivery continues a split line */
	char part[]; /* max bytes */
};

struct linesplit *linesplit_new(size_t max)
{
	struct linesplit *ls;

	if (max == 0)
		return NULL;
	ls = malloc(sizeof *ls + max);
	if (!ls)
		return NULL;
	ls->max = max;
	ls->len = 0;
	ls->cont = false;
	return ls;
}

void linesplit_free(struct linesplit *ls)
{
	free(ls);
}

static void deliver(struct linesplit *ls, const char *line, size_t len, bool complete, linesplit_fn fn, void *arg)
{
	fn(arg, line, len, ls->cont);
	ls->cont = !complete;
}

void linesplit_feed(struct linesplit *ls, const char *data, size_t n, linesplit_fn fn, void *arg)
{
	while (n > 0) {
		size_t room = ls->max - ls->len;
		/* Look one byte further than the room: a line of exactly `room` bytes fits. */
		size_t look = n < room + 1 ? n : room + 1;
		const char *nl = memchr(data, '\n', look);

		if (nl) {
			size_t take = (size_t)(nl - data);
			if (ls->len == 0) {
				deliver(ls, data, take, true, fn, arg);
			} else {
				memcpy(ls->part + ls->len, data, take);
				deliver(ls, ls->part, ls->len + take, true, fn, arg);
				ls->len = 0;
			}
			data += take + 1;
			n -= take + 1;
		} else if (n > room) {
			/* More than the bound without a newline: deliver max bytes as a piece. (With
			 * exactly `room` bytes left we wait: the next byte may be the newline.) */
			if (ls->len == 0) {
				deliver(ls, data, room, false, fn, arg);
			} else {
				memcpy(ls->part + ls->len, data, room);
				deliver(ls, ls->part, ls->max, false, fn, arg);
				ls->len = 0;
			}
			data += room;
			n -= room;
		} else {
			memcpy(ls->part + ls->len, data, n);
			ls->len += n;
			return;
		}
	}
}

bool linesplit_idle(const struct linesplit *ls)
{
	return ls->len == 0 && !ls->cont;
}

void linesplit_finish(struct linesplit *ls, linesplit_fn fn, void *arg)
{
	if (ls->len > 0) {
		deliver(ls, ls->part, ls->len, true, fn, arg);
		ls->len = 0;
	}
	ls->cont = false;
}
