/*
 * parser_int — what the format backends (xmlreport.c, teamcity.c, jsonreport.c) share
 * with parser.c. Not part of the library's API.
 */
#ifndef SV_RESULTS_PARSER_INT_H
#define SV_RESULTS_PARSER_INT_H

#include "fingerprint.h"
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
	json_t *c_tool, *c_rule, *c_file, *c_sev[3]; /* shared finding values */
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

/* Emits ev after adding `source`; steals ev. -1 when ev is NULL (out of memory). */
int rs_p_emit(struct rs_parser *p, json_t *ev);

/* A new `finding` event with fingerprint. file/rule/message may be NULL; line/column/
 * end_line 0 when unknown; code_hash (optional): the normalized code instead of reading
 * source lines. message is a json string (stolen, may be NULL). */
struct rs_finding {
	const char *tool;
	const char *rule;
	const char *severity; /* error, warning, info */
	const char *file;
	long line, end_line, column;
	json_t *message;
	const uint64_t *code_hash;
};
json_t *rs_p_finding(struct rs_parser *p, const struct rs_finding *f);

/* A string value shared between events: returns a new reference to *cache when it
 * holds the same text, else replaces it. Reports repeat the same suite, class and file
 * names; sharing saves two allocations per member. NULL when out of memory. */
json_t *rs_json_shared(json_t **cache, const char *s);

/* Adds key: a new string repaired to valid UTF-8 (s may be NULL: nothing added). */
int rs_json_set_str(json_t *obj, const char *key, const char *s);
int rs_json_set_strn(json_t *obj, const char *key, const char *s, size_t n);

/* Maps a severity word to error/warning/info (unknown words: warning). */
const char *rs_severity_word(const char *s);

#endif
