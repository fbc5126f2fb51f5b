/* aws_xml — see aws_xml.h. */
#include "aws_xml.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <expat.h>

struct node {
	char *name;
	char *text;
	size_t tlen;
	struct node **kids;
	size_t nkids, cap;
};

struct builder {
	struct node *root;
	struct node *stack[AWS_XML_MAX_DEPTH];
	int depth;
	size_t nodes;
	int failed; /* 1 too deep, 2 too many, 3 out of memory */
	XML_Parser p;
};

static void node_free(struct node *n)
{
	if (!n)
		return;
	for (size_t i = 0; i < n->nkids; i++)
		node_free(n->kids[i]);
	free(n->kids);
	free(n->name);
	free(n->text);
	free(n);
}

static void fail(struct builder *b, int why)
{
	if (!b->failed)
		b->failed = why;
	XML_StopParser(b->p, XML_FALSE);
}

static void XMLCALL on_start(void *arg, const XML_Char *name, const XML_Char **attrs)
{
	struct builder *b = arg;
	const char *colon = strrchr(name, ':');
	struct node *n;

	(void)attrs;
	if (b->failed)
		return;
	if (b->depth >= AWS_XML_MAX_DEPTH)
		return fail(b, 1);
	if (++b->nodes > AWS_XML_MAX_NODES)
		return fail(b, 2);
	n = calloc(1, sizeof *n);
	if (!n || !(n->name = strdup(colon ? colon + 1 : name))) {
		free(n);
		return fail(b, 3);
	}
	if (b->depth == 0) {
		if (b->root) { /* expat refuses a second root; be safe */
			node_free(n);
			return fail(b, 3);
		}
		b->root = n;
	} else {
		struct node *parent = b->stack[b->depth - 1];
		if (parent->nkids == parent->cap) {
			size_t cap = parent->cap ? parent->cap * 2 : 4;
			struct node **k = realloc(parent->kids, cap * sizeof *k);
			if (!k) {
				node_free(n);
				return fail(b, 3);
			}
			parent->kids = k;
			parent->cap = cap;
		}
		parent->kids[parent->nkids++] = n;
	}
	b->stack[b->depth++] = n;
}

static void XMLCALL on_end(void *arg, const XML_Char *name)
{
	struct builder *b = arg;

	(void)name;
	if (!b->failed && b->depth > 0)
		b->depth--;
}

static void XMLCALL on_text(void *arg, const XML_Char *s, int len)
{
	struct builder *b = arg;
	struct node *n;
	char *t;

	if (b->failed || b->depth == 0 || len <= 0)
		return;
	n = b->stack[b->depth - 1];
	t = realloc(n->text, n->tlen + (size_t)len + 1);
	if (!t)
		return fail(b, 3);
	memcpy(t + n->tlen, s, (size_t)len);
	n->tlen += (size_t)len;
	t[n->tlen] = '\0';
	n->text = t;
}

static int plural_of(const char *parent, const char *kid)
{
	size_t pl = strlen(parent), kl = strlen(kid);

	return pl == kl + 1 && parent[kl] == 's' && strncmp(parent, kid, kl) == 0;
}

static int plural_name(const char *n)
{
	size_t l = strlen(n);
	static const char *const not_plural[] = {"Status", "Address", "Alias", "Access", "Success", "Progress"};

	if (l < 3 || n[l - 1] != 's' || n[l - 2] == 's')
		return 0;
	for (size_t i = 0; i < sizeof not_plural / sizeof not_plural[0]; i++)
		if (strcmp(n, not_plural[i]) == 0)
			return 0;
	return 1;
}

/* S3's flattened lists: repeated elements straight in the parent, one element still a list. */
static int flattened_list(const char *name)
{
	static const char *const names[] = {"Contents", "CommonPrefixes", "Versions", "DeleteMarkers", "Deleted"};

	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (strcmp(name, names[i]) == 0)
			return 1;
	return 0;
}

static json_t *leaf(const struct node *n)
{
	const char *s = n->text ? n->text : "", *e;
	size_t len;
	char *t;
	json_t *v;

	while (*s && isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		e--;
	len = (size_t)(e - s);
	if (len == 0 && plural_name(n->name))
		return json_array();
	if (len == 4 && strncmp(s, "true", 4) == 0)
		return json_true();
	if (len == 5 && strncmp(s, "false", 5) == 0)
		return json_false();
	t = malloc(len + 1);
	if (!t)
		return NULL;
	memcpy(t, s, len);
	t[len] = '\0';
	v = json_stringn_nocheck(t, len);
	free(t);
	return v;
}

static json_t *convert(const struct node *n)
{
	json_t *out, *v;
	int same = 1;

	if (n->nkids == 0)
		return leaf(n);
	for (size_t i = 1; i < n->nkids; i++)
		same &= strcmp(n->kids[i]->name, n->kids[0]->name) == 0;
	if (same && (plural_of(n->name, n->kids[0]->name) || strcmp(n->kids[0]->name, "member") == 0 ||
	             strcmp(n->kids[0]->name, "item") == 0)) {
		out = json_array();
		for (size_t i = 0; out && i < n->nkids; i++)
			if (!(v = convert(n->kids[i])) || json_array_append_new(out, v) < 0) {
				json_decref(out);
				return NULL;
			}
		return out;
	}
	out = json_object();
	for (size_t i = 0; out && i < n->nkids; i++) {
		json_t *prev = json_object_get(out, n->kids[i]->name);
		if (!(v = convert(n->kids[i])))
			goto oom;
		if (!prev && flattened_list(n->kids[i]->name)) {
			json_t *arr = json_array();
			if (!arr || json_array_append_new(arr, v) < 0 || json_object_set_new(out, n->kids[i]->name, arr) < 0) {
				json_decref(arr);
				goto oom;
			}
		} else if (!prev) {
			if (json_object_set_new(out, n->kids[i]->name, v) < 0)
				goto oom;
		} else if (json_is_array(prev) && i > 0 && strcmp(n->kids[i - 1]->name, n->kids[i]->name) == 0) {
			/* a run of repeated names: one array (a flattened list) */
			if (json_array_append_new(prev, v) < 0)
				goto oom;
		} else {
			json_t *arr = json_array();
			if (!arr || json_array_append(arr, prev) < 0 || json_array_append_new(arr, v) < 0 ||
			    json_object_set_new(out, n->kids[i]->name, arr) < 0) {
				json_decref(arr);
				goto oom;
			}
		}
	}
	return out;
oom:
	json_decref(out);
	return NULL;
}

json_t *aws_xml_to_json(const char *xml, size_t len, const char *operation, char *err, size_t errlen)
{
	struct builder b;
	json_t *out = NULL, *res;
	char key[160];
	int ok;

	memset(&b, 0, sizeof b);
	if (len > (size_t)0x7fffffff) {
		snprintf(err, errlen, "document too large");
		return NULL;
	}
	b.p = XML_ParserCreate("UTF-8");
	if (!b.p) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	XML_SetUserData(b.p, &b);
	XML_SetElementHandler(b.p, on_start, on_end);
	XML_SetCharacterDataHandler(b.p, on_text);
	ok = XML_Parse(b.p, xml ? xml : "", (int)len, 1) == XML_STATUS_OK;
	if (b.failed)
		snprintf(err, errlen, "%s", b.failed == 1 ? "nested deeper than 64 levels" :
		         b.failed == 2 ? "more than 200000 elements" : "out of memory");
	else if (!ok)
		snprintf(err, errlen, "line %lu: %s", (unsigned long)XML_GetCurrentLineNumber(b.p),
		         XML_ErrorString(XML_GetErrorCode(b.p)));
	XML_ParserFree(b.p);
	if (!ok || b.failed || !b.root) {
		if (ok && !b.failed)
			snprintf(err, errlen, "empty document");
		node_free(b.root);
		return NULL;
	}
	if (b.root->nkids == 0) {
		/* a one-value answer (<LocationConstraint/>): {"LocationConstraint": text or null} */
		json_t *v = leaf(b.root);
		out = json_object();
		if (out && v && json_is_string(v) && !*json_string_value(v)) {
			json_decref(v);
			v = json_null();
		}
		if (!out || !v || json_object_set_new(out, b.root->name, v) < 0) {
			json_decref(out);
			out = NULL;
		}
	} else {
		struct node wrapper = *b.root;
		/* the root's children as an object, even when they look like a list */
		wrapper.name = (char *)"";
		out = convert(&wrapper);
		if (out && !json_is_object(out)) {
			json_t *o = json_object();
			json_object_set_new(o, b.root->kids[0]->name, out);
			out = o;
		}
	}
	node_free(b.root);
	if (!out) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (operation) {
		snprintf(key, sizeof key, "%sResult", operation);
		res = json_object_get(out, key);
		if (res && json_is_object(res)) {
			json_incref(res);
			json_decref(out);
			out = res;
		} else if (res && json_is_string(res) && !*json_string_value(res)) {
			json_decref(out);
			out = json_object();
		}
	}
	json_object_del(out, "ResponseMetadata");
	return out;
}
