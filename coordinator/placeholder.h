/*
 * placeholder — `${NAME}` placeholders in a stage spec's strings, expanded by the coordinator
 * before the agent sees the spec (`playground up`: `${PORT}`, `${NAME}`, `${SLUG}`, `${HOST}`,
 * `${URL}`; README.md, "Placeholders").
 *
 * Only the names the caller passes are placeholders: any other `${...}` (a shell's, Apache's)
 * is left as it is, and `$${NAME}` is written as a literal `${NAME}`. Every string value of the
 * JSON document is expanded, at any depth (command, env values, ready probes, cwd, ...); object
 * keys are not. Pure: no system calls; the caller owns what it gets (free()).
 */
#ifndef SV_COORD_PLACEHOLDER_H
#define SV_COORD_PLACEHOLDER_H

#include <stddef.h>

struct placeholder_var {
	const char *name;  /* "PORT": matches ${PORT} */
	const char *value;
};

#define PLACEHOLDER_MAX_VARS 16

/* s with the placeholders of vars[0..nvars) expanded, as a new string of at most max bytes
 * (NUL excluded), or NULL when it would be longer (or out of memory). *used (may be NULL) gets
 * bit i set for each vars[i] that occurred. */
char *placeholder_expand(const char *s, const struct placeholder_var *vars, size_t nvars, size_t max,
                         unsigned *used);

/* The JSON document text with every string value expanded, as new compact JSON text of at most
 * max bytes; NULL with a reason in err (not JSON, too large). *used as above. */
char *placeholder_expand_json(const char *text, const struct placeholder_var *vars, size_t nvars, size_t max,
                              unsigned *used, char *err, size_t errlen);

#endif
