/* aws_ini — see aws_ini.h. */
#include "aws_ini.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct aws_ini_entry {
	char *section;
	char *key;
	char *subkey; /* NULL: top level */
	char *value;
};

struct aws_ini {
	struct aws_ini_entry *e;
	size_t n, cap;
};

static char *dup_range(const char *s, size_t n)
{
	char *p = malloc(n + 1);

	if (p) {
		memcpy(p, s, n);
		p[n] = '\0';
	}
	return p;
}

/* Trims [*b, *e) of ASCII whitespace in place. */
static void trim(const char **b, const char **e)
{
	while (*b < *e && isspace((unsigned char)**b))
		(*b)++;
	while (*e > *b && isspace((unsigned char)(*e)[-1]))
		(*e)--;
}

/* A section name with inner whitespace runs collapsed to one space. */
static char *section_name(const char *b, const char *e)
{
	char *p = malloc((size_t)(e - b) + 1), *o = p;
	int space = 0;

	if (!p)
		return NULL;
	for (; b < e; b++) {
		if (isspace((unsigned char)*b)) {
			space = 1;
			continue;
		}
		if (space && o > p)
			*o++ = ' ';
		space = 0;
		*o++ = *b;
	}
	*o = '\0';
	return p;
}

static int add(struct aws_ini *ini, const char *section, const char *kb, const char *ke,
               const char *sb, const char *se, const char *vb, const char *ve)
{
	struct aws_ini_entry *x;

	if (ini->n == AWS_INI_MAX_ENTRIES)
		return -1;
	if (ini->n == ini->cap) {
		size_t cap = ini->cap ? ini->cap * 2 : 16;
		struct aws_ini_entry *ne = realloc(ini->e, cap * sizeof *ne);
		if (!ne)
			return -1;
		ini->e = ne;
		ini->cap = cap;
	}
	x = &ini->e[ini->n];
	memset(x, 0, sizeof *x);
	x->section = strdup(section);
	x->key = dup_range(kb, (size_t)(ke - kb));
	x->subkey = sb ? dup_range(sb, (size_t)(se - sb)) : NULL;
	x->value = dup_range(vb, (size_t)(ve - vb));
	ini->n++;
	if (!x->section || !x->key || (sb && !x->subkey) || !x->value)
		return -1;
	return 0;
}

struct aws_ini *aws_ini_parse(const char *text, size_t len, char *err, size_t errlen)
{
	struct aws_ini *ini = calloc(1, sizeof *ini);
	char *section = NULL;
	const char *p = text, *end = text + len;
	const char *parent_b = NULL, *parent_e = NULL; /* key of an open "key =" block */
	int parent_empty = 0;
	unsigned line = 0;

	if (!ini)
		goto oom;
	if (len > AWS_INI_MAX_BYTES) {
		snprintf(err, errlen, "larger than %u bytes", AWS_INI_MAX_BYTES);
		goto fail;
	}
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end, *b = p, *e = le, *eq;
		int indented = b < e && (*b == ' ' || *b == '\t');

		line++;
		p = nl ? nl + 1 : end;
		if (memchr(b, '\0', (size_t)(e - b))) {
			snprintf(err, errlen, "line %u: NUL byte", line);
			goto fail;
		}
		trim(&b, &e);
		if (b == e || *b == '#' || *b == ';')
			continue;
		if (*b == '[') {
			const char *close = memchr(b, ']', (size_t)(e - b));
			const char *nb = b + 1, *ne;
			if (!close) {
				snprintf(err, errlen, "line %u: section header without ']'", line);
				goto fail;
			}
			ne = close;
			trim(&nb, &ne);
			if (nb == ne) {
				snprintf(err, errlen, "line %u: empty section name", line);
				goto fail;
			}
			free(section);
			section = section_name(nb, ne);
			if (!section)
				goto oom;
			/* An entry with an empty key marks the section as present, settings or not. */
			if (add(ini, section, nb, nb, NULL, NULL, nb, nb) < 0)
				goto toomany;
			parent_b = NULL;
			continue;
		}
		if (!section) {
			snprintf(err, errlen, "line %u: setting before any [section]", line);
			goto fail;
		}
		eq = memchr(b, '=', (size_t)(e - b));
		if (indented && parent_b && parent_empty) {
			/* "key =" then indented "subkey = value" lines: a nested setting. */
			const char *kb = b, *ke = eq ? eq : e, *vb = eq ? eq + 1 : e, *ve = e;
			if (!eq) {
				snprintf(err, errlen, "line %u: nested setting without '='", line);
				goto fail;
			}
			trim(&kb, &ke);
			trim(&vb, &ve);
			if (kb == ke) {
				snprintf(err, errlen, "line %u: nested setting without a name", line);
				goto fail;
			}
			if (add(ini, section, parent_b, parent_e, kb, ke, vb, ve) < 0)
				goto toomany;
			continue;
		}
		if (indented && parent_b && !parent_empty) {
			/* A continuation line: ConfigParser (so the AWS CLI) appends it to the value. */
			struct aws_ini_entry *x = &ini->e[ini->n - 1];
			size_t vl = strlen(x->value);
			char *nv = realloc(x->value, vl + 1 + (size_t)(e - b) + 1);
			if (!nv)
				goto oom;
			nv[vl] = '\n';
			memcpy(nv + vl + 1, b, (size_t)(e - b));
			nv[vl + 1 + (size_t)(e - b)] = '\0';
			x->value = nv;
			continue;
		}
		if (!eq) {
			snprintf(err, errlen, "line %u: expected 'name = value'", line);
			goto fail;
		}
		{
			const char *kb = b, *ke = eq, *vb = eq + 1, *ve = e;
			trim(&kb, &ke);
			trim(&vb, &ve);
			if (kb == ke) {
				snprintf(err, errlen, "line %u: setting without a name", line);
				goto fail;
			}
			if (add(ini, section, kb, ke, NULL, NULL, vb, ve) < 0)
				goto toomany;
			parent_b = kb;
			parent_e = ke;
			parent_empty = vb == ve;
		}
	}
	free(section);
	return ini;
toomany:
	snprintf(err, errlen, "line %u: more than %u settings (or out of memory)", line, AWS_INI_MAX_ENTRIES);
	goto fail;
oom:
	snprintf(err, errlen, "out of memory");
fail:
	free(section);
	aws_ini_free(ini);
	return NULL;
}

void aws_ini_free(struct aws_ini *ini)
{
	if (!ini)
		return;
	for (size_t i = 0; i < ini->n; i++) {
		free(ini->e[i].section);
		free(ini->e[i].key);
		free(ini->e[i].subkey);
		free(ini->e[i].value);
	}
	free(ini->e);
	free(ini);
}

int aws_ini_has_section(const struct aws_ini *ini, const char *section)
{
	if (!ini)
		return 0;
	for (size_t i = 0; i < ini->n; i++)
		if (strcmp(ini->e[i].section, section) == 0)
			return 1;
	return 0;
}

const char *aws_ini_get(const struct aws_ini *ini, const char *section, const char *key,
                        const char *subkey)
{
	const char *v = NULL;

	if (!ini)
		return NULL;
	/* The last occurrence wins, as in botocore when a section repeats. */
	for (size_t i = 0; i < ini->n; i++) {
		const struct aws_ini_entry *x = &ini->e[i];
		if (!*x->key || strcmp(x->section, section) != 0 || strcasecmp(x->key, key) != 0)
			continue;
		if (subkey ? (x->subkey && strcasecmp(x->subkey, subkey) == 0) : !x->subkey)
			v = x->value;
	}
	return v;
}
