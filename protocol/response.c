/*
 * protocol/response.c — the coordinator's 200 answer (protocol/response.h).
 */
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "protocol/internal.h"
#include "protocol/response.h"

int pr_response_format(const struct pr_response *r, char *out, size_t cap)
{
	int n, m;

	n = snprintf(out, cap, "{\"ack\":%llu", (unsigned long long)r->ack);
	if (n < 0 || (size_t)n >= cap)
		return -1;
	if (r->resend_from) {
		m = snprintf(out + n, cap - (size_t)n, ",\"resend_from\":%llu",
			     (unsigned long long)r->resend_from);
		if (m < 0 || (size_t)m >= cap - (size_t)n)
			return -1;
		n += m;
	}
	if (r->cancel || r->detach) {
		m = snprintf(out + n, cap - (size_t)n, ",\"control\":{\"cancel\":%s,\"detach\":%s}",
			     r->cancel ? "true" : "false", r->detach ? "true" : "false");
		if (m < 0 || (size_t)m >= cap - (size_t)n)
			return -1;
		n += m;
	}
	if ((size_t)n + 2 > cap)
		return -1;
	out[n++] = '}';
	out[n] = '\0';
	return n;
}

static int flag(const json_t *control, const char *name, bool *out, struct pr_error *err)
{
	const json_t *v = json_object_get(control, name);

	if (!v) {
		*out = false;
		return 0;
	}
	if (!json_is_boolean(v))
		return pr_err(err, 400, "control.%s: must be true or false", name);
	*out = json_is_true(v);
	return 0;
}

int pr_response_parse(const char *body, size_t len, struct pr_response *out,
		      struct pr_error *err)
{
	json_t *root = NULL, *ack, *resend, *control;
	struct pr_response r;
	int rc = -1;

	memset(&r, 0, sizeof r);
	memset(out, 0, sizeof *out);
	root = pr_load_object(body, len, PR_RESPONSE_MAX, "response", err);
	if (!root)
		return -1;
	ack = json_object_get(root, "ack");
	if (!json_is_integer(ack) || json_integer_value(ack) < 0 ||
	    (unsigned long long)json_integer_value(ack) > PR_SEQ_MAX) {
		pr_err(err, 400, "ack: must be an integer from 0 to 2^53-1");
		goto done;
	}
	r.ack = (uint64_t)json_integer_value(ack);
	resend = json_object_get(root, "resend_from");
	if (resend && !json_is_null(resend)) {
		if (!json_is_integer(resend) || json_integer_value(resend) < 1 ||
		    (unsigned long long)json_integer_value(resend) > PR_SEQ_MAX) {
			pr_err(err, 400, "resend_from: must be an integer from 1 to 2^53-1");
			goto done;
		}
		r.resend_from = (uint64_t)json_integer_value(resend);
	}
	control = json_object_get(root, "control");
	if (control && !json_is_null(control)) {
		if (!json_is_object(control)) {
			pr_err(err, 400, "control: must be an object");
			goto done;
		}
		if (flag(control, "cancel", &r.cancel, err) || flag(control, "detach", &r.detach, err))
			goto done;
	}
	*out = r;
	rc = 0;
done:
	json_decref(root);
	return rc;
}
