/* fingerprint — see fingerprint.h. */
#include "fingerprint.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define FNV_PRIME UINT64_C(0x100000001b3)

uint64_t rs_fnv(uint64_t h, const void *data, size_t n)
{
	const unsigned char *p = data;

	for (size_t i = 0; i < n; i++) {
		h ^= p[i];
		h *= FNV_PRIME;
	}
	return h;
}

uint64_t rs_fnv_str(uint64_t h, const char *s)
{
	if (s)
		h = rs_fnv(h, s, strlen(s));
	return rs_fnv(h, "", 1);
}

uint64_t rs_fnv_nodigits_n(uint64_t h, const char *s, size_t n)
{
	int in_digits = 0;

	for (size_t i = 0; s && i < n; i++) {
		if (s[i] >= '0' && s[i] <= '9') {
			if (!in_digits)
				h = rs_fnv(h, "#", 1);
			in_digits = 1;
			continue;
		}
		in_digits = 0;
		h = rs_fnv(h, s + i, 1);
	}
	return rs_fnv(h, "", 1);
}

uint64_t rs_fnv_nodigits(uint64_t h, const char *s)
{
	return rs_fnv_nodigits_n(h, s, s ? strlen(s) : 0);
}

void rs_fp_norm_init(struct rs_fp_norm *n)
{
	n->h = RS_FNV_INIT;
	n->pending_space = 0;
	n->line_has_text = 0;
}

void rs_fp_norm_feed(struct rs_fp_norm *n, const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		if (c == '\n') {
			if (n->line_has_text)
				n->h = rs_fnv(n->h, "\n", 1);
			n->pending_space = 0;
			n->line_has_text = 0;
		} else if (c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v') {
			if (n->line_has_text)
				n->pending_space = 1;
		} else {
			if (n->pending_space)
				n->h = rs_fnv(n->h, " ", 1);
			n->pending_space = 0;
			n->line_has_text = 1;
			n->h = rs_fnv(n->h, &c, 1);
		}
	}
}

uint64_t rs_fp_norm_end(struct rs_fp_norm *n)
{
	if (n->line_has_text)
		n->h = rs_fnv(n->h, "\n", 1);
	n->line_has_text = 0;
	n->pending_space = 0;
	return n->h;
}

void rs_fp_occ_init(struct rs_fp_occ *o)
{
	memset(o, 0, sizeof(*o));
	o->cur_gen = 1;
}

void rs_fp_occ_reset(struct rs_fp_occ *o)
{
	if (++o->cur_gen == 0) {
		memset(o->gen, 0, sizeof(o->gen));
		o->cur_gen = 1;
	}
	o->used = 0;
	o->overflow = 0;
}

unsigned rs_fp_occ_next(struct rs_fp_occ *o, uint64_t h)
{
	size_t i = (size_t)(h % RS_FP_OCC_SLOTS);

	for (unsigned probe = 0; probe < RS_FP_OCC_SLOTS; probe++) {
		size_t j = (i + probe) % RS_FP_OCC_SLOTS;

		if (o->gen[j] != o->cur_gen) {
			if (o->used + 1 >= RS_FP_OCC_SLOTS)
				break;
			o->gen[j] = o->cur_gen;
			o->key[j] = h;
			o->count[j] = 1;
			o->used++;
			return 0;
		}
		if (o->key[j] == h)
			return o->count[j]++;
	}
	/* Table full: fall back to a running index (documented in the header). */
	return RS_FP_OCC_SLOTS + o->overflow++;
}

void rs_fp_format(uint64_t h, char *buf)
{
	snprintf(buf, 21, "fp1:%016llx", (unsigned long long)h);
}

const char *rs_fp_relpath(const char *path, const char *root)
{
	size_t n;

	if (!path || !root || !*root)
		return path;
	n = strlen(root);
	while (n > 1 && root[n - 1] == '/')
		n--;
	if (strncmp(path, root, n) == 0 && path[n] == '/')
		return path + n + 1;
	return path;
}

struct rs_fp_src {
	char *key;    /* the path as asked for (root is constant per parser) */
	char *path;   /* file cached, NULL when none */
	char *data;   /* its content, NULL when unreadable */
	size_t len;
};

struct rs_fp_src *rs_fp_src_new(void)
{
	return calloc(1, sizeof(struct rs_fp_src));
}

static void src_drop(struct rs_fp_src *s)
{
	free(s->key);
	s->key = NULL;
	free(s->path);
	free(s->data);
	s->path = s->data = NULL;
	s->len = 0;
}

void rs_fp_src_free(struct rs_fp_src *s)
{
	if (!s)
		return;
	src_drop(s);
	free(s);
}

static void src_load(struct rs_fp_src *s, const char *full)
{
	struct stat st;
	int fd;
	size_t got = 0;

	s->path = strdup(full);
	fd = open(full, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > RS_FP_SRC_MAX)
		goto out;
	s->data = malloc((size_t)st.st_size + 1);
	if (!s->data)
		goto out;
	while (got < (size_t)st.st_size) {
		ssize_t r = read(fd, s->data + got, (size_t)st.st_size - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	s->len = got;
out:
	close(fd);
}

int rs_fp_src_lines(struct rs_fp_src *s, const char *root, const char *path, long first, long last,
		    uint64_t *h)
{
	char full[4096];
	struct rs_fp_norm n;
	const char *p, *end;
	long line = 1;

	if (!s || !path || !*path || first < 1)
		return -1;
	if (last < first)
		last = first;
	if (last - first >= RS_FP_MAX_LINES)
		last = first + RS_FP_MAX_LINES - 1;
	/* Findings come grouped by file: the same path as last time is the common case. */
	if (!s->key || strcmp(s->key, path) != 0) {
		src_drop(s);
		s->key = strdup(path);
		if (path[0] != '/' && root && *root) {
			if ((size_t)snprintf(full, sizeof(full), "%s/%s", root, path) >= sizeof(full))
				return -1;
		} else if ((size_t)snprintf(full, sizeof(full), "%s", path) >= sizeof(full))
			return -1;
		src_load(s, full);
	}
	if (!s->data)
		return -1;
	p = s->data;
	end = s->data + s->len;
	while (p < end && line < first) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));

		if (!nl)
			return -1;
		p = nl + 1;
		line++;
	}
	if (line < first || p >= end)
		return -1;
	rs_fp_norm_init(&n);
	n.h = *h;
	while (p < end && line <= last) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl ? (size_t)(nl - p) + 1 : (size_t)(end - p);

		rs_fp_norm_feed(&n, p, len);
		p += len;
		line++;
	}
	*h = rs_fp_norm_end(&n);
	return 0;
}
