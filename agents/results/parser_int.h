/*
 * parser_int — what the format backends (xmlreport.c, teamcity.c, jsonreport.c) share
 * with parser.c. Not part of the library's API.
 */
#ifndef SV_RESULTS_PARSER_INT_H
#define SV_RESULTS_PARSER_INT_H

#include "fingerprint.h"
#include "jsonline.h"
#include "parser.h"

#include <stdbool.h>
#include <string.h>

struct rs_format {
	const char *name;
	int (*init)(struct rs_parser *p);
	int (*feed)(struct rs_parser *p, const char *buf, size_t len);
	int (*finish)(struct rs_parser *p);
	void (*destroy)(struct rs_parser *p);
};

struct rs_parser {
	const struct rs_format *fmt;
	char *source;
	size_t source_len;
	bool source_plain; /* source needs no JSON escape */
	json_t *j_source; /* shared by every event (values are immutable once emitted) */
	json_t *shared[8]; /* last value of each shareable member (see ev_to_json) */
	struct rs_jl *jl;  /* rs_parser_set_writer(): events written as JSON lines */
	char *root;
	size_t root_n; /* root's length without trailing '/' (rs_fp_relpath's rule) */
	char *tool;
	rs_emit_fn emit;
	void *arg;
	struct rs_limits lim;
	unsigned long events;
	bool failed;
	struct rs_error err;  /* sticky error */
	struct rs_fp_occ occ; /* occurrence index of identical fingerprints */
	struct rs_fp_src *src;
	/* rs_p_finding(): the last "tool\0rule\0path\0" and its hash (fpc_len 0: none) */
	size_t fpc_len;
	uint64_t fpc_hash;
	char fpc_key[1024];
	/* and the last message with its digit runs as '#' (what rs_fnv_nodigits_n hashes) */
	size_t fmc_len;
	uint64_t fmc_in, fmc_out;
	char fmc_norm[512];
	void *state;          /* the backend's */
};

extern const struct rs_format rs_fmt_junit, rs_fmt_checkstyle, rs_fmt_pmd, rs_fmt_cpd,
	rs_fmt_teamcity, rs_fmt_phpstan, rs_fmt_phploc;

/* Records the error (first one wins) and returns -1. line/column 1-based, 0 unknown. */
int rs_p_fail(struct rs_parser *p, unsigned long line, unsigned long column, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Emits ev after adding `source`; steals ev. -1 when ev is NULL (out of memory). Used
 * for the rare events built as json_t (teamcity, phploc). */
int rs_p_emit(struct rs_parser *p, json_t *ev);

/*
 * An event under construction, as a list of members that point into the caller's
 * buffers (no allocation): the hot formats (junit, checkstyle, pmd) build these, and
 * rs_p_emit_ev() either writes the JSON line directly (rs_parser_set_writer) or builds
 * the json_t for the callback. Both apply the same bounds, so both give the same event.
 * RF_STR strings are valid UTF-8, except that a cut one may end inside a character.
 */
enum rs_fkind { RF_STR, RF_INT, RF_REAL, RF_JSON };
struct rs_field {
	const char *key;
	enum rs_fkind kind;
	const char *s; /* RF_STR */
	size_t n;
	size_t cut;    /* bytes of the original not in s[0..n): reported with the marker */
	size_t klen;   /* strlen(key) */
	bool raw;      /* RF_STR: s needs no JSON escape (rs_ev_lit) */
	long long i;   /* RF_INT */
	double d;      /* RF_REAL */
	json_t *j;     /* RF_JSON: owned by the event until emitted */
};
#define RS_EV_FIELDS 20
struct rs_ev {
	struct rs_field f[RS_EV_FIELDS];
	int n;
	char fp[24]; /* room for a fingerprint */
};

/* The builders are inline: the keys are literals, so their lengths are constants. */
static inline void rs_ev_init(struct rs_ev *e)
{
	e->n = 0;
}

static inline struct rs_field *rs_ev_add(struct rs_ev *e, const char *key, enum rs_fkind kind)
{
	struct rs_field *f;

	if (e->n >= RS_EV_FIELDS)
		return NULL; /* cannot happen: no format builds that many members */
	f = &e->f[e->n++];
	f->key = key;
	f->klen = strlen(key);
	f->kind = kind;
	f->s = NULL;
	f->n = f->cut = 0;
	f->raw = false;
	f->i = 0;
	f->d = 0;
	f->j = NULL;
	return f;
}

static inline void rs_ev_strn(struct rs_ev *e, const char *key, const char *s, size_t n, size_t cut)
{
	struct rs_field *f = rs_ev_add(e, key, RF_STR);

	if (f) {
		f->s = s;
		f->n = n;
		f->cut = cut;
	}
}

/* NULL: no member. */
static inline void rs_ev_str(struct rs_ev *e, const char *key, const char *s)
{
	if (s)
		rs_ev_strn(e, key, s, strlen(s), 0);
}

/* As rs_ev_str() for text known to need no JSON escape (ASCII without '"', '\\', controls). */
static inline void rs_ev_lit(struct rs_ev *e, const char *key, const char *s)
{
	struct rs_field *f = s ? rs_ev_add(e, key, RF_STR) : NULL;

	if (f) {
		f->s = s;
		f->n = strlen(s);
		f->raw = true;
	}
}

static inline void rs_ev_int(struct rs_ev *e, const char *key, long long v)
{
	struct rs_field *f = rs_ev_add(e, key, RF_INT);

	if (f)
		f->i = v;
}

static inline void rs_ev_real(struct rs_ev *e, const char *key, double v)
{
	struct rs_field *f = rs_ev_add(e, key, RF_REAL);

	if (f)
		f->d = v;
}

/* Steals v (NULL: nothing). */
static inline void rs_ev_json(struct rs_ev *e, const char *key, json_t *v)
{
	struct rs_field *f;

	if (!v)
		return;
	if (!(f = rs_ev_add(e, key, RF_JSON))) {
		json_decref(v);
		return;
	}
	f->j = v;
}
/* Emits the event (adds `source`); releases its RF_JSON members. 0, -1 out of memory. */
int rs_p_emit_ev(struct rs_parser *p, struct rs_ev *e);

/* Fills e with a `finding` and its fingerprint. file/rule may be NULL; line/column/
 * end_line 0 when unknown; code_hash (optional): the normalized code instead of reading
 * source lines. Callers may add members, then rs_p_emit_ev(). */
struct rs_finding {
	const char *tool;
	const char *rule;
	const char *severity; /* error, warning, info */
	const char *file;
	long line, end_line, column;
	const char *message; /* valid UTF-8, message_len bytes, message_cut more not kept */
	size_t message_len, message_cut;
	const uint64_t *code_hash;
};
void rs_p_finding(struct rs_parser *p, const struct rs_finding *f, struct rs_ev *e);

/* A string value shared between events: a new reference to *cache when it holds the
 * same text, else a new string stored there. NULL when out of memory. */
json_t *rs_json_shared(json_t **cache, const char *s, size_t n);

/* Adds key: a new string repaired to valid UTF-8 (s may be NULL: nothing added). */
int rs_json_set_str(json_t *obj, const char *key, const char *s);
int rs_json_set_strn(json_t *obj, const char *key, const char *s, size_t n);

/* Maps a severity word to error/warning/info (unknown words: warning). */
const char *rs_severity_word(const char *s);

#endif
