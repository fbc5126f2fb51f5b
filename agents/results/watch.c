/* watch — see watch.h. */
#include "watch.h"

#include "fingerprint.h"

#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <glob.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define READ_CHUNK (64 * 1024)
#define MAX_ENTRIES 256
#define MAX_WATCHES 512

struct stream_run;

struct entry {
	char *process;
	char *format;
	char *pattern;  /* absolute glob; NULL for stdout */
	char *display;  /* the path as the spec wrote it */
	char *root;     /* the process's cwd (absolute): fingerprint paths are relative to it */
	enum spec_fail_on fail_on;
	struct rs_parser *stream; /* stdout parser */
	struct stream_run *stream_ctx; /* its emit context */
	bool ended;
	time_t registered;
	struct rs_process_verdict pv; /* what this entry's reports held (rs_watch_process_verdict) */
};

struct dirwatch {
	int wd;
	char *dir;
};

struct rs_watch {
	struct event_base *base;
	struct event *ev;
	int ifd;
	rs_emit_fn emit;
	void *arg;
	struct rs_limits lim;
	struct entry *entries;
	size_t nentries;
	struct dirwatch watches[MAX_WATCHES];
	size_t nwatches;
	uint64_t *keys; /* open addressing set, 0 = free */
	size_t nkeys, keycap;
	struct rs_verdict v;
};

/* What one parse run needs in the emit callback. */
struct run {
	struct rs_watch *w;
	struct entry *e;
	struct rs_fp_occ *occ;
};

const char *rs_outcome_name(enum rs_outcome o)
{
	return o == RS_OUTCOME_PASSED ? "passed" : o == RS_OUTCOME_FAILED ? "failed" : "error";
}

static void record_error(struct rs_watch *w, struct entry *e, const char *text)
{
	e->pv.reports_bad++;
	if (w->v.nerrors++ == 0)
		snprintf(w->v.error, sizeof(w->v.error), "%s", text);
}

/* ---- dedup ---- */

static bool key_add(struct rs_watch *w, uint64_t k)
{
	if (k == 0)
		k = 1;
	if (w->nkeys * 2 >= w->keycap) {
		size_t ncap = w->keycap ? w->keycap * 2 : 4096;
		uint64_t *nk;

		if (w->nkeys >= RS_WATCH_MAX_KEYS || !(nk = calloc(ncap, sizeof(*nk))))
			return true; /* cannot remember more: report rather than drop */
		for (size_t i = 0; i < w->keycap; i++) {
			if (!w->keys[i])
				continue;
			size_t j = (size_t)(w->keys[i] % ncap);

			while (nk[j])
				j = (j + 1) % ncap;
			nk[j] = w->keys[i];
		}
		free(w->keys);
		w->keys = nk;
		w->keycap = ncap;
	}
	size_t j = (size_t)(k % w->keycap);

	while (w->keys[j]) {
		if (w->keys[j] == k)
			return false;
		j = (j + 1) % w->keycap;
	}
	w->keys[j] = k;
	w->nkeys++;
	return true;
}

static const char *sget(json_t *ev, const char *k)
{
	const char *s = json_string_value(json_object_get(ev, k));

	return s ? s : "";
}

static int severity_rank(const char *s)
{
	return strcmp(s, "error") == 0 ? 0 : strcmp(s, "warning") == 0 ? 1 : 2;
}

static void count(struct rs_watch *w, struct entry *e, json_t *ev)
{
	const char *type = sget(ev, "type");

	if (strcmp(type, "test") == 0) {
		const char *st = sget(ev, "status");

		e->pv.tests++;
		e->pv.failed += strcmp(st, "failed") == 0;
		e->pv.errors += strcmp(st, "error") == 0;
		e->pv.unfinished += json_is_true(json_object_get(ev, "unfinished"));
		if (strcmp(st, "passed") == 0)
			w->v.passed++;
		else if (strcmp(st, "failed") == 0)
			w->v.failed++;
		else if (strcmp(st, "error") == 0)
			w->v.errors++;
		else
			w->v.skipped++;
	} else if (strcmp(type, "finding") == 0) {
		int r = severity_rank(sget(ev, "severity"));
		int limit = e->fail_on == SPEC_FAIL_ON_ERROR ? 0 : e->fail_on == SPEC_FAIL_ON_WARNING ? 1
							: e->fail_on == SPEC_FAIL_ON_INFO ? 2 : -1;

		if (r == 0)
			w->v.findings_error++;
		else if (r == 1)
			w->v.findings_warning++;
		else
			w->v.findings_info++;
		e->pv.findings++;
		if (r <= limit) {
			w->v.findings_failing++;
			e->pv.findings_failing++;
		}
		/* The coordinator cannot know the entry's fail_on: say per finding whether it fails
		 * the stage (protocol/PROTOCOL.md, `finding`), so its JUnit shows what decided. */
		json_object_set_new(ev, "fails", json_boolean(r <= limit));
	} else if (strcmp(type, "metric") == 0) {
		w->v.metrics++;
	}
}

static void watch_emit(void *arg, json_t *ev)
{
	struct run *r = arg;
	const char *type = sget(ev, "type");
	uint64_t h = rs_fnv_str(RS_FNV_INIT, type);

	h = rs_fnv_str(h, r->e->process);
	h = rs_fnv_str(h, sget(ev, "source"));
	if (strcmp(type, "test") == 0) {
		h = rs_fnv_str(h, sget(ev, "suite"));
		h = rs_fnv_str(h, sget(ev, "class"));
		h = rs_fnv_str(h, sget(ev, "name"));
		unsigned occ = rs_fp_occ_next(r->occ, h);

		h = rs_fnv(h, &occ, sizeof(occ));
	} else if (strcmp(type, "finding") == 0) {
		h = rs_fnv_str(h, sget(ev, "fingerprint"));
	} else {
		h = rs_fnv_str(h, sget(ev, "name"));
	}
	if (!key_add(r->w, h)) {
		json_decref(ev);
		return;
	}
	count(r->w, r->e, ev);
	r->w->emit(r->w->arg, ev);
}

/* ---- parsing files ---- */

/* Parses one file from the start. final: errors count for the verdict. */
static int parse_file(struct rs_watch *w, struct entry *e, const char *path, bool final)
{
	struct rs_fp_occ *occ = malloc(sizeof(*occ));
	struct run r = {w, e, occ};
	struct rs_parser *p = NULL;
	struct rs_error err;
	char *buf = malloc(READ_CHUNK), msg[1200];
	int fd = -1, rc = -1;

	memset(&err, 0, sizeof(err));
	if (!occ || !buf)
		goto fail;
	rs_fp_occ_init(occ);
	p = rs_parser_new(e->format, path, watch_emit, &r, &w->lim);
	if (!p)
		goto fail;
	/* Fingerprints: paths relative to the process's directory. */
	if (e->root && rs_parser_set_root(p, e->root) < 0)
		goto fail;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		snprintf(err.file, sizeof(err.file), "%s", path);
		snprintf(err.text, sizeof(err.text), "cannot read the report: %s", strerror(errno));
		goto bad;
	}
	for (;;) {
		ssize_t n = read(fd, buf, READ_CHUNK);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(err.file, sizeof(err.file), "%s", path);
			snprintf(err.text, sizeof(err.text), "cannot read the report: %s", strerror(errno));
			goto bad;
		}
		if (n == 0)
			break;
		if (rs_parser_feed(p, buf, (size_t)n, &err) < 0)
			goto bad;
	}
	if (rs_parser_finish(p, &err) < 0)
		goto bad;
	rc = 0;
	goto fail;
bad:
	if (final)
		record_error(w, e, rs_error_format(&err, msg, sizeof(msg)));
fail:
	if (fd >= 0)
		close(fd);
	rs_parser_free(p);
	free(buf);
	free(occ);
	return rc;
}

/* Parses every file matching e. Returns the number of files, -1 if one failed. */
static int parse_matches(struct rs_watch *w, struct entry *e, bool final)
{
	glob_t g;
	int n = 0, failed = 0;

	memset(&g, 0, sizeof(g));
	if (glob(e->pattern, 0, NULL, &g) == 0) {
		for (size_t i = 0; i < g.gl_pathc; i++) {
			struct stat st;

			if (stat(g.gl_pathv[i], &st) < 0 || !S_ISREG(st.st_mode))
				continue;
			if (final && st.st_mtime + 1 < e->registered)
				continue; /* left over from an earlier run */
			n++;
			if (parse_file(w, e, g.gl_pathv[i], final) < 0)
				failed = 1;
		}
	}
	globfree(&g);
	return failed ? -1 : n;
}

/* ---- inotify ---- */

static bool has_glob(const char *s)
{
	return strpbrk(s, "*?[") != NULL;
}

static int add_dir_watch(struct rs_watch *w, const char *dir)
{
	int wd;

	if (w->ifd < 0)
		return 0;
	wd = inotify_add_watch(w->ifd, dir, IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE | IN_ONLYDIR);
	if (wd < 0)
		return -1;
	for (size_t i = 0; i < w->nwatches; i++)
		if (w->watches[i].wd == wd)
			return 0;
	if (w->nwatches >= MAX_WATCHES)
		return 0; /* the final parse still finds the files */
	w->watches[w->nwatches].wd = wd;
	w->watches[w->nwatches].dir = strdup(dir);
	if (!w->watches[w->nwatches].dir)
		return -1;
	w->nwatches++;
	return 1;
}

/* Watches the directory of e's pattern, or its nearest existing ancestor until it exists.
 * Returns true when the pattern's own directory was newly watched. */
static bool arm_entry(struct rs_watch *w, struct entry *e)
{
	bool fresh = false;
	char dir[PATH_MAX];
	char *slash;

	if (!e->pattern || w->ifd < 0)
		return false;
	snprintf(dir, sizeof(dir), "%s", e->pattern);
	slash = strrchr(dir, '/');
	if (!slash)
		return false;
	*slash = '\0';
	if (dir[0] == '\0')
		snprintf(dir, sizeof(dir), "/");
	bool globbed = has_glob(dir);

	if (globbed) {
		glob_t g;

		memset(&g, 0, sizeof(g));
		if (glob(dir, GLOB_ONLYDIR, NULL, &g) == 0)
			for (size_t i = 0; i < g.gl_pathc; i++)
				if (add_dir_watch(w, g.gl_pathv[i]) > 0)
					fresh = true;
		globfree(&g);
		/* Also the literal part above the first glob component, for new directories. */
		char *g1 = strpbrk(dir, "*?[");

		*g1 = '\0';
		slash = strrchr(dir, '/');
		if (slash)
			*slash = '\0';
	}
	/* target: dir is the pattern's own directory (not an ancestor waited on). */
	for (bool target = !globbed; dir[0]; target = false) {
		int rc = add_dir_watch(w, dir);

		if (rc > 0 && target)
			fresh = true;
		if (rc >= 0 || (errno != ENOENT && errno != ENOTDIR))
			break;
		slash = strrchr(dir, '/');
		if (!slash || slash == dir) {
			(void)add_dir_watch(w, "/");
			break;
		}
		*slash = '\0';
	}
	return fresh;
}

static void handle_event(struct rs_watch *w, const struct inotify_event *ie)
{
	const char *dir = NULL;
	char full[PATH_MAX];

	for (size_t i = 0; i < w->nwatches; i++)
		if (w->watches[i].wd == ie->wd)
			dir = w->watches[i].dir;
	if (!dir || ie->len == 0)
		return;
	if ((size_t)snprintf(full, sizeof(full), "%s/%s", strcmp(dir, "/") ? dir : "", ie->name) >= sizeof(full))
		return;
	if (ie->mask & IN_ISDIR) {
		/* A directory appeared: maybe one we wait for. Files may have been closed in it
		 * before its watch existed: look once. */
		for (size_t i = 0; i < w->nentries; i++)
			if (!w->entries[i].ended && arm_entry(w, &w->entries[i]))
				(void)parse_matches(w, &w->entries[i], false);
		return;
	}
	if (!(ie->mask & (IN_CLOSE_WRITE | IN_MOVED_TO)))
		return;
	for (size_t i = 0; i < w->nentries; i++) {
		struct entry *e = &w->entries[i];

		if (e->pattern && !e->ended && fnmatch(e->pattern, full, FNM_PATHNAME) == 0)
			(void)parse_file(w, e, full, false);
	}
}

int rs_watch_poll(struct rs_watch *w)
{
	char buf[16 * 1024] __attribute__((aligned(__alignof__(struct inotify_event))));

	if (w->ifd < 0)
		return 0;
	for (;;) {
		ssize_t n = read(w->ifd, buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return 0;
		for (char *p = buf; p < buf + n;) {
			const struct inotify_event *ie = (const struct inotify_event *)p;

			handle_event(w, ie);
			p += sizeof(*ie) + ie->len;
		}
	}
}

static void watch_on_inotify(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)rs_watch_poll(arg);
}

/* ---- API ---- */

struct rs_watch *rs_watch_new(struct event_base *base, rs_emit_fn emit, void *arg, const struct rs_limits *lim)
{
	struct rs_watch *w = calloc(1, sizeof(*w));

	if (!w)
		return NULL;
	w->base = base;
	w->emit = emit;
	w->arg = arg;
	w->ifd = -1;
	rs_limits_default(&w->lim);
	if (lim)
		w->lim = *lim;
	w->entries = calloc(MAX_ENTRIES, sizeof(*w->entries));
	if (!w->entries)
		goto fail;
	if (base) {
		w->ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
		if (w->ifd < 0)
			goto fail;
		w->ev = event_new(base, w->ifd, EV_READ | EV_PERSIST, watch_on_inotify, w);
		if (!w->ev || event_add(w->ev, NULL) < 0)
			goto fail;
	}
	return w;
fail:
	rs_watch_free(w);
	return NULL;
}

void rs_watch_free(struct rs_watch *w)
{
	if (!w)
		return;
	if (w->ev)
		event_free(w->ev);
	if (w->ifd >= 0)
		close(w->ifd);
	for (size_t i = 0; w->entries && i < w->nentries; i++) {
		struct entry *e = &w->entries[i];

		free(e->process);
		free(e->format);
		free(e->pattern);
		free(e->display);
		free(e->root);
		rs_parser_free(e->stream);
		free(e->stream_ctx);
	}
	for (size_t i = 0; i < w->nwatches; i++)
		free(w->watches[i].dir);
	free(w->entries);
	free(w->keys);
	free(w);
}

static bool is_json_format(const char *f)
{
	size_t n = strlen(f);

	return n > 5 && strcmp(f + n - 5, "-json") == 0;
}

static char *make_pattern(const char *cwd, const char *path, const char *format)
{
	char base[PATH_MAX], full[PATH_MAX];
	struct stat st;
	size_t n;

	if (path[0] == '/')
		snprintf(full, sizeof(full), "%s", path);
	else {
		if (!cwd) {
			if (!getcwd(base, sizeof(base)))
				return NULL;
			cwd = base;
		}
		if ((size_t)snprintf(full, sizeof(full), "%s/%s", cwd, path) >= sizeof(full))
			return NULL;
	}
	n = strlen(full);
	while (n > 1 && full[n - 1] == '/')
		full[--n] = '\0';
	if ((path[strlen(path) - 1] == '/' || (stat(full, &st) == 0 && S_ISDIR(st.st_mode))) && !has_glob(full)) {
		if (n + 8 >= sizeof(full))
			return NULL;
		strcat(full, is_json_format(format) ? "/*.json" : "/*.xml");
	}
	return strdup(full);
}

int rs_watch_add(struct rs_watch *w, const char *process, const char *cwd, const struct spec_result *results,
		 size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const struct spec_result *r = &results[i];
		struct entry *e;

		if (!rs_format_known(r->format) || (!r->from_stdout && (!r->path || !*r->path))) {
			errno = EINVAL;
			return -1;
		}
		if (w->nentries >= MAX_ENTRIES) {
			errno = ENOSPC;
			return -1;
		}
		e = &w->entries[w->nentries];
		memset(e, 0, sizeof(*e));
		e->process = strdup(process);
		e->format = strdup(r->format);
		e->fail_on = r->fail_on;
		e->registered = time(NULL);
		if (!e->process || !e->format)
			goto oom;
		if (cwd && cwd[0] == '/')
			e->root = strdup(cwd);
		else {
			char here[PATH_MAX];

			if (getcwd(here, sizeof(here)))
				e->root = strdup(here);
		}
		if (r->from_stdout) {
			e->display = strdup("stdout");
			if (!e->display)
				goto oom;
		} else {
			e->display = strdup(r->path);
			e->pattern = make_pattern(cwd, r->path, r->format);
			if (!e->display || !e->pattern)
				goto oom;
		}
		w->nentries++;
		arm_entry(w, e);
	}
	return 0;
oom:
	free(w->entries[w->nentries].root);
	free(w->entries[w->nentries].process);
	free(w->entries[w->nentries].format);
	free(w->entries[w->nentries].display);
	free(w->entries[w->nentries].pattern);
	errno = ENOMEM;
	return -1;
}

/* The stdout parser's emit context lives as long as the parser. */
struct stream_run {
	struct run r;
	struct rs_fp_occ occ;
};

static int stream_open(struct rs_watch *w, struct entry *e)
{
	struct stream_run *sr = calloc(1, sizeof(*sr));

	if (!sr)
		return -1;
	sr->r.w = w;
	sr->r.e = e;
	sr->r.occ = &sr->occ;
	rs_fp_occ_init(&sr->occ);
	e->stream = rs_parser_new(e->format, "stdout", watch_emit, &sr->r, &w->lim);
	if (!e->stream) {
		free(sr);
		return -1;
	}
	e->stream_ctx = sr;
	return 0;
}

int rs_watch_stdout(struct rs_watch *w, const char *process, const char *data, size_t len)
{
	int rc = 0;

	for (size_t i = 0; i < w->nentries; i++) {
		struct entry *e = &w->entries[i];
		struct rs_error err;
		char msg[1200];

		if (e->pattern || e->ended || strcmp(e->process, process) != 0)
			continue;
		if (!e->stream && stream_open(w, e) < 0)
			return -1;
		if (rs_parser_feed(e->stream, data, len, &err) < 0) {
			record_error(w, e, rs_error_format(&err, msg, sizeof(msg)));
			e->ended = true; /* the error is recorded once */
			rc = -1;
		}
	}
	return rc;
}

static int process_final(struct rs_watch *w, const char *process, bool stopped);

int rs_watch_process_ended(struct rs_watch *w, const char *process)
{
	return process_final(w, process, false);
}

int rs_watch_process_stopped(struct rs_watch *w, const char *process)
{
	return process_final(w, process, true);
}

static int process_final(struct rs_watch *w, const char *process, bool stopped)
{
	int rc = 0;

	(void)rs_watch_poll(w); /* closes that happened before the exit */
	for (size_t i = 0; i < w->nentries; i++) {
		struct entry *e = &w->entries[i];
		struct rs_error err;
		char msg[1200];

		if (e->ended || strcmp(e->process, process) != 0)
			continue;
		e->ended = true;
		if (!e->pattern) {
			if (!e->stream && stream_open(w, e) < 0)
				return -1;
			if (rs_parser_finish(e->stream, &err) < 0) {
				record_error(w, e, rs_error_format(&err, msg, sizeof(msg)));
				rc = -1;
			}
			continue;
		}
		int n = parse_matches(w, e, true);

		if (n < 0)
			rc = -1;
		else if (n == 0 && !stopped) {
			snprintf(msg, sizeof(msg), "%s: no %s report was written (process %s)", e->display, e->format,
				 e->process);
			record_error(w, e, msg);
			rc = -1;
		}
	}
	return rc;
}

int rs_watch_scan(struct rs_watch *w)
{
	int rc = 0;

	for (size_t i = 0; i < w->nentries; i++) {
		struct entry *e = &w->entries[i];

		if (e->pattern && !e->ended && parse_matches(w, e, false) < 0)
			rc = -1;
	}
	return rc;
}

enum rs_outcome rs_watch_verdict(const struct rs_watch *w, struct rs_verdict *out)
{
	if (out)
		*out = w->v;
	if (w->v.nerrors > 0)
		return RS_OUTCOME_ERROR;
	if (w->v.failed > 0 || w->v.errors > 0 || w->v.findings_failing > 0)
		return RS_OUTCOME_FAILED;
	return RS_OUTCOME_PASSED;
}

int rs_watch_process_verdict(const struct rs_watch *w, const char *process, struct rs_process_verdict *out)
{
	bool found = false;

	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < w->nentries; i++) {
		const struct entry *e = &w->entries[i];

		if (strcmp(e->process, process) != 0)
			continue;
		found = true;
		out->tests += e->pv.tests;
		out->failed += e->pv.failed;
		out->errors += e->pv.errors;
		out->unfinished += e->pv.unfinished;
		out->findings += e->pv.findings;
		out->findings_failing += e->pv.findings_failing;
		out->reports_bad += e->pv.reports_bad;
	}
	return found ? 0 : -1;
}
