/* cgroup — see cgroup.h. */
#include "cgroup.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CGROUP_PATH_MAX 1024          /* a decoded mount point or mount root */
#define CGROUP_MOUNTINFO_MAX (256u << 10) /* read at most this much of /proc/self/mountinfo */
#define CGROUP_SMALL_MAX 8192         /* /proc/self/cgroup, memory.events, memory.oom_control */
#define CGROUP_MAX_FIELDS 64          /* fields of one mountinfo line we look at */

static const char V1_FILE[] = "memory.oom_control";
static const char V2_FILE[] = "memory.events";

/* ---- pure parsing -------------------------------------------------------------------------- */

int64_t cgroup_parse_oom_kill(const char *text)
{
	const char *p = text;

	while (p && *p) {
		if (strncmp(p, "oom_kill ", 9) == 0) {
			char *end;
			long long v;
			if (p[9] < '0' || p[9] > '9')
				return -1;
			errno = 0;
			v = strtoll(p + 9, &end, 10);
			if (errno != 0 || (*end != '\n' && *end != '\0'))
				return -1;
			return v;
		}
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return -1;
}

/* Whether the comma-separated list [s, s + n) holds word. */
static bool list_has(const char *s, size_t n, const char *word)
{
	size_t wl = strlen(word);
	const char *end = s + n;

	while (s < end) {
		const char *comma = memchr(s, ',', (size_t)(end - s));
		size_t len = comma ? (size_t)(comma - s) : (size_t)(end - s);
		if (len == wl && memcmp(s, word, wl) == 0)
			return true;
		s += len + 1;
	}
	return false;
}

/* The cgroup path of the v1 memory controller or of the v2 hierarchy in a /proc/self/cgroup
 * text ("ID:CONTROLLERS:PATH" per line; v2 is "0::PATH"). */
static bool find_cgroup(const char *proc_cgroup, enum cgroup_version v, const char **path, size_t *len)
{
	const char *p = proc_cgroup;

	while (p && *p) {
		size_t n = strcspn(p, "\n");
		const char *c1 = memchr(p, ':', n);
		const char *c2 = c1 ? memchr(c1 + 1, ':', (size_t)(p + n - c1 - 1)) : NULL;
		if (c2 && c2 + 1 < p + n && c2[1] == '/') {
			bool v2 = c1 - p == 1 && p[0] == '0' && c2 == c1 + 1;
			if (v == CGROUP_V2 ? v2 : (!v2 && list_has(c1 + 1, (size_t)(c2 - c1 - 1), "memory"))) {
				*path = c2 + 1;
				*len = (size_t)(p + n - c2 - 1);
				return true;
			}
		}
		p += n;
		if (*p == '\n')
			p++;
	}
	return false;
}

/* Copies a mountinfo field [s, s + n) into buf, decoding the kernel's octal escapes (\040 for
 * a space, \011, \012, \134). False when it does not fit. */
static bool decode_field(const char *s, size_t n, char *buf, size_t size)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (c == '\\' && i + 3 < n && s[i + 1] >= '0' && s[i + 1] <= '3' &&
		    s[i + 2] >= '0' && s[i + 2] <= '7' && s[i + 3] >= '0' && s[i + 3] <= '7') {
			c = (char)(((s[i + 1] - '0') << 6) | ((s[i + 2] - '0') << 3) | (s[i + 3] - '0'));
			i += 3;
		}
		if (o + 1 >= size)
			return false;
		buf[o++] = c;
	}
	buf[o] = '\0';
	return true;
}

/* mount point + (cgroup path below the mount's root) + "/" + file into buf. False when the
 * cgroup is not below the mount's root (not visible through this mount) or buf is too small. */
static bool join(const char *mnt, const char *root, const char *cg, size_t cglen, const char *file,
		 char *buf, size_t size)
{
	size_t rl = strlen(root);
	const char *rest = cg;
	size_t restlen = cglen;
	int n;

	while (rl > 1 && root[rl - 1] == '/')
		rl--;
	if (!(rl == 1 && root[0] == '/')) {
		if (cglen < rl || memcmp(cg, root, rl) != 0 || (cglen > rl && cg[rl] != '/'))
			return false;
		rest = cg + rl;
		restlen = cglen - rl;
	}
	while (restlen > 0 && rest[restlen - 1] == '/')
		restlen--; /* "/" itself, or a trailing slash */
	if (strcmp(mnt, "/") == 0)
		mnt = "";
	if (restlen > (size_t)1 << 30)
		return false;
	n = snprintf(buf, size, "%s%.*s/%s", mnt, (int)restlen, rest, file);
	return n > 0 && (size_t)n < size;
}

/* Looks through a mountinfo text for a mount of the hierarchy (v1: fstype "cgroup" with the
 * "memory" super option; v2: fstype "cgroup2") under which the cgroup is visible. */
static bool find_mount(const char *mountinfo, enum cgroup_version v, const char *cg, size_t cglen,
		       char *buf, size_t size)
{
	const char *p = mountinfo;
	char root[CGROUP_PATH_MAX], mnt[CGROUP_PATH_MAX];

	while (p && *p) {
		size_t n = strcspn(p, "\n");
		const char *f[CGROUP_MAX_FIELDS];
		size_t fl[CGROUP_MAX_FIELDS], nf = 0, dash = 0;
		const char *q = p, *end = p + n;

		while (q < end && nf < CGROUP_MAX_FIELDS) {
			while (q < end && *q == ' ')
				q++;
			if (q >= end)
				break;
			f[nf] = q;
			while (q < end && *q != ' ')
				q++;
			fl[nf] = (size_t)(q - f[nf]);
			if (dash == 0 && nf >= 6 && fl[nf] == 1 && f[nf][0] == '-')
				dash = nf;
			nf++;
		}
		/* ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPEROPTS */
		if (dash > 0 && nf >= dash + 4) {
			const char *fs = f[dash + 1], *so = f[dash + 3];
			size_t fsl = fl[dash + 1], sol = fl[dash + 3];
			bool match = v == CGROUP_V2 ? (fsl == 7 && memcmp(fs, "cgroup2", 7) == 0)
				: (fsl == 6 && memcmp(fs, "cgroup", 6) == 0 && list_has(so, sol, "memory"));
			if (match && decode_field(f[3], fl[3], root, sizeof root) &&
			    decode_field(f[4], fl[4], mnt, sizeof mnt) && root[0] == '/' && mnt[0] == '/' &&
			    join(mnt, root, cg, cglen, v == CGROUP_V1 ? V1_FILE : V2_FILE, buf, size))
				return true;
		}
		p = end;
		if (*p == '\n')
			p++;
	}
	return false;
}

int cgroup_oom_counter_path(const char *proc_cgroup, const char *mountinfo, char *buf, size_t size)
{
	static const enum cgroup_version order[2] = { CGROUP_V1, CGROUP_V2 };

	if (!proc_cgroup || !buf || size == 0)
		return -1;
	for (size_t i = 0; i < 2; i++) {
		enum cgroup_version v = order[i];
		const char *cg;
		size_t cglen;
		if (!find_cgroup(proc_cgroup, v, &cg, &cglen))
			continue;
		/* A controller is bound to one hierarchy: when v1 has memory, v2 has not. */
		if (mountinfo ? find_mount(mountinfo, v, cg, cglen, buf, size)
			      : join(v == CGROUP_V1 ? "/sys/fs/cgroup/memory" : "/sys/fs/cgroup", "/", cg, cglen,
				     v == CGROUP_V1 ? V1_FILE : V2_FILE, buf, size))
			return (int)v;
		break;
	}
	return -1;
}

/* ---- the thin I/O layer -------------------------------------------------------------------- */

/* Reads at most size - 1 bytes of path into buf, NUL-terminated; when the file was longer,
 * the last (cut) line is dropped. Returns the length, or -1. */
static ssize_t read_text(const char *path, char *buf, size_t size)
{
	size_t len = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	while (len + 1 < size) {
		ssize_t n = read(fd, buf + len, size - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			close(fd);
			return -1;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (len + 1 >= size) {
		while (len > 0 && buf[len - 1] != '\n')
			len--;
	}
	close(fd);
	buf[len] = '\0';
	return (ssize_t)len;
}

int64_t cgroup_read_oom_kills(const char *path)
{
	char buf[CGROUP_SMALL_MAX];

	if (!path || !path[0] || read_text(path, buf, sizeof buf) <= 0)
		return -1;
	return cgroup_parse_oom_kill(buf);
}

int cgroup_find_oom_counter(const char *root, char *buf, size_t size)
{
	char path[CGROUP_PATH_MAX], cg[CGROUP_SMALL_MAX], found[CGROUP_PATH_MAX];
	char *mi = NULL;
	int v = -1, n;

	if (!root)
		root = "";
	n = snprintf(path, sizeof path, "%s/proc/self/cgroup", root);
	if (n < 0 || (size_t)n >= sizeof path || read_text(path, cg, sizeof cg) <= 0)
		goto done;
	mi = malloc(CGROUP_MOUNTINFO_MAX);
	n = snprintf(path, sizeof path, "%s/proc/self/mountinfo", root);
	if (mi && (n < 0 || (size_t)n >= sizeof path || read_text(path, mi, CGROUP_MOUNTINFO_MAX) <= 0)) {
		free(mi); /* no mountinfo: the usual mount points */
		mi = NULL;
	}
	v = cgroup_oom_counter_path(cg, mi, found, sizeof found);
	if (v < 0)
		goto done;
	n = snprintf(buf, size, "%s%s", root, found);
	if (n < 0 || (size_t)n >= size || cgroup_read_oom_kills(buf) < 0)
		v = -1;
done:
	free(mi);
	if (v < 0 && size > 0)
		buf[0] = '\0';
	return v;
}
