/* placeholder — see placeholder.h. */
#include "placeholder.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

/* The var whose "${name}" starts at p, or -1. */
static int placeholder_match(const char *p, const struct placeholder_var *vars, size_t nvars, size_t *len)
{
	if (p[0] != '$' || p[1] != '{')
		return -1;
	for (size_t i = 0; i < nvars && i < PLACEHOLDER_MAX_VARS; i++) {
		size_t n = strlen(vars[i].name);
		if (strncmp(p + 2, vars[i].name, n) == 0 && p[2 + n] == '}') {
			*len = n + 3;
			return (int)i;
		}
	}
	return -1;
}

/* Two passes: the first (out == NULL) measures, the second writes. Returns the length, or
 * (size_t)-1 past max. */
static size_t placeholder_run(const char *s, const struct placeholder_var *vars, size_t nvars, size_t max,
                              unsigned *used, char *out)
{
	size_t o = 0, len;
	int k;

	for (const char *p = s; *p;) {
		const char *piece = p;
		size_t plen = 1;
		if (p[0] == '$' && (k = placeholder_match(p + 1, vars, nvars, &len)) >= 0) {
			piece = p + 1; /* $${NAME}: the literal ${NAME} */
			plen = len;
			p += 1 + len;
		} else if ((k = placeholder_match(p, vars, nvars, &len)) >= 0) {
			piece = vars[k].value;
			plen = strlen(vars[k].value);
			if (used)
				*used |= 1u << k;
			p += len;
		} else {
			p++;
		}
		if (plen > max || o > max - plen)
			return (size_t)-1;
		if (out)
			memcpy(out + o, piece, plen);
		o += plen;
	}
	if (out)
		out[o] = '\0';
	return o;
}

char *placeholder_expand(const char *s, const struct placeholder_var *vars, size_t nvars, size_t max,
                         unsigned *used)
{
	size_t n = placeholder_run(s, vars, nvars, max, used, NULL);
	char *out;

	if (n == (size_t)-1)
		return NULL;
	out = malloc(n + 1);
	if (out)
		placeholder_run(s, vars, nvars, max, NULL, out);
	return out;
}

/* Expands every string under v in place. 0 or -1 (a string over max). */
static int placeholder_walk(json_t *v, const struct placeholder_var *vars, size_t nvars, size_t max,
                            unsigned *used, int depth)
{
	const char *key;
	json_t *child;
	size_t i;

	if (depth > 64)
		return 0; /* jansson's own depth limit is lower: nothing to do this deep */
	if (json_is_string(v)) {
		char *s;
		if (!strchr(json_string_value(v), '$'))
			return 0;
		s = placeholder_expand(json_string_value(v), vars, nvars, max, used);
		if (!s || json_string_set(v, s) != 0) {
			free(s);
			return -1;
		}
		free(s);
	} else if (json_is_object(v)) {
		json_object_foreach(v, key, child)
			if (placeholder_walk(child, vars, nvars, max, used, depth + 1))
				return -1;
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, child)
			if (placeholder_walk(child, vars, nvars, max, used, depth + 1))
				return -1;
	}
	return 0;
}

char *placeholder_expand_json(const char *text, const struct placeholder_var *vars, size_t nvars, size_t max,
                              unsigned *used, char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *doc = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
	char *out = NULL;

	if (!doc) {
		snprintf(err, errlen, "line %d, column %d: %s", jerr.line, jerr.column, jerr.text);
		return NULL;
	}
	if (placeholder_walk(doc, vars, nvars, max, used, 0) != 0) {
		snprintf(err, errlen, "a string is longer than %zu bytes once its placeholders are expanded", max);
		goto done;
	}
	out = json_dumps(doc, JSON_COMPACT);
	if (!out) {
		snprintf(err, errlen, "cannot encode the expanded spec");
	} else if (strlen(out) > max) {
		snprintf(err, errlen, "the spec is longer than %zu bytes once its placeholders are expanded", max);
		free(out);
		out = NULL;
	}
done:
	json_decref(doc);
	return out;
}
