/*
 * Fuzz the coordinator's request decoding: a body for stream "build-42.unit" is decoded,
 * planned against a few acks, and answered; every answer must parse back to itself, and a
 * decoded batch must re-encode to a body that decodes to the same events. The same input also
 * goes to the agent's response parser (pr_response_parse): a parsed answer must format back to
 * an answer that parses to the same values.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/protocol.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint64_t acks[] = {0, 1, 5, 100000, PR_SEQ_MAX - 1};
	struct pr_batch b, again;
	struct pr_error err;
	char out[PR_RESPONSE_MAX];

	{
		struct pr_response r, back;
		if (pr_response_parse((const char *)data, size, &r, &err) == 0) {
			int n = pr_response_format(&r, out, sizeof out);
			if (n <= 0 || pr_response_parse(out, (size_t)n, &back, NULL) < 0 ||
			    back.ack != r.ack || back.resend_from != r.resend_from ||
			    back.cancel != r.cancel || back.detach != r.detach)
				abort();
		}
	}
	if (pr_batch_decode((const char *)data, size, "build-42.unit", &b, &err) < 0) {
		if (err.status != 400 && err.status != 413)
			abort();
		return 0;
	}
	for (size_t i = 0; i < sizeof acks / sizeof acks[0]; i++) {
		struct pr_ack_plan p;
		struct pr_response r = {0}, back;
		if (pr_ack_plan_batch(acks[i], &b, &p, &err) < 0)
			continue;
		if (p.store_from + p.store_count > b.count || p.new_ack < acks[i])
			abort();
		r.ack = p.new_ack;
		r.resend_from = p.resend_from;
		r.cancel = i & 1;
		int n = pr_response_format(&r, out, sizeof out);
		if (n <= 0 || pr_response_parse(out, (size_t)n, &back, NULL) < 0 ||
		    back.ack != r.ack || back.resend_from != r.resend_from || back.cancel != r.cancel)
			abort();
	}
	/* re-encode: when it fits (reals may encode longer than they were written), it must
	 * decode to the same events */
	size_t len;
	char *body = pr_batch_encode(b.stream, b.events, &len);
	if (body) {
		if (pr_batch_decode(body, len, b.stream, &again, &err) < 0 ||
		    !json_equal(again.events, b.events))
			abort();
		pr_batch_clear(&again);
		free(body);
	}
	pr_batch_clear(&b);
	return 0;
}
