/*
 * parser_int — what the format backends (xmlreport.c, teamcity.c, jsonreport.c) share
 * with parser.c. Not part of the library's API.
 */
#ifndef SV_RESULTS_PARSER_INT_H
#define SV_RESULTS_PARSER_INT_H

#include "fingerprint.h"
#include "jsonline.h"
#include "parser.h"

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
	json_t *j_source; /* shared by every event (values are immutable once emitted) */
	json_t *shared[8]; /* last value of each shareable member (see ev_to_json) */
	struct rs_jl *jl;  /* rs_parser_set_writer(): events written as JSON lines */
	char *root;
	char *tool;
	rs_emit_fn emit;
	void *arg;
	struct rs_limits lim;
	unsigned long events;
	bool failed;
	struct rs_error err;  /* sticky error */
	struct rs_fp_occ occ; /* occurrence index of identical fingerprints */
	struct rs_fp_src *src;
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

void rs_ev_init(struct rs_ev *e);
void rs_ev_strn(struct rs_ev *e, const char *key, const char *s, size_t n, size_t cut);
void rs_ev_str(struct rs_ev *e, const char *key, const char *s); /* NULL: no member */
void rs_ev_int(struct rs_ev *e, const char *key, long long v);
void rs_ev_real(struct rs_ev *e, const char *key, double v);
void rs_ev_json(struct rs_ev *e, const char *key, json_t *v); /* steals v (NULL: nothing) */
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
