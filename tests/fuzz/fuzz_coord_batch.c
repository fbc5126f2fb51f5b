/*
 * fuzz_coord_batch — the coordinator's handling of one request body: ingest_handle_batch()
 * (pr_batch_decode + pr_ack_plan_batch + the stream store + the answer). A stream persists
 * across inputs so that acks, duplicates and gaps accumulate as in a real run; it is replaced
 * every 1000 inputs to keep memory flat.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "ingest.h"
#include "protocol/protocol.h"
#include "stream.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct stream *s;
	static unsigned n;
	char answer[PR_RESPONSE_MAX];
	int status;

	if (!s || ++n % 1000 == 0) {
		stream_free(s);
		/* The id of the protocol's examples, so seeds taken from PROTOCOL.md reach the store. */
		s = stream_new("build-42.unit", NULL, 200000);
	}
	status = ingest_handle_batch(s, (const char *)data, size, answer, sizeof answer);
	if (status != 200 && status != 400 && status != 413)
		__builtin_trap();
	if (strlen(answer) >= sizeof answer)
		__builtin_trap();
	return 0;
}
