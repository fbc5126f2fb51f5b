/*
 * protocol/error.c — filling struct pr_error (see protocol/internal.h).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "protocol/internal.h"

int pr_err(struct pr_error *err, int status, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return -1;
	err->status = status;
	err->index = -1;
	err->line = 0;
	err->column = 0;
	va_start(ap, fmt);
	vsnprintf(err->text, sizeof err->text, fmt, ap);
	va_end(ap);
	return -1;
}

void pr_err_prefix(struct pr_error *err, long index, const char *fmt, ...)
{
	char head[64];
	size_t hlen, tlen;
	va_list ap;

	if (!err)
		return;
	va_start(ap, fmt);
	vsnprintf(head, sizeof head, fmt, ap);
	va_end(ap);
	hlen = strlen(head);
	tlen = strnlen(err->text, sizeof err->text - 1);
	if (hlen + tlen > sizeof err->text - 1)
		tlen = sizeof err->text - 1 - hlen;
	memmove(err->text + hlen, err->text, tlen);
	memcpy(err->text, head, hlen);
	err->text[hlen + tlen] = '\0';
	err->index = index;
}

json_t *pr_load_object(const char *body, size_t len, size_t max, const char *what,
		       struct pr_error *err)
{
	json_error_t jerr;
	json_t *root;

	if (len > max) {
		pr_err(err, 413, "%s is %zu bytes, more than %zu", what, len, max);
		return NULL;
	}
	root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		pr_err(err, 400, "not JSON: %.150s", jerr.text);
		if (err) {
			err->line = jerr.line;
			err->column = jerr.column;
		}
		return NULL;
	}
	if (!json_is_object(root)) {
		pr_err(err, 400, "the %s must be an object", what);
		json_decref(root);
		return NULL;
	}
	return root;
}
