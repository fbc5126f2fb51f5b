/*
 * fuzz_aws_error — aws_error_from_response() on any body (JSON, XML, HTML, garbage), with a
 * content type and an x-amzn-ErrorType header taken from the input's first line, then the
 * one-line format and the skew check. Invariants: a code and a message always, and the line
 * holds no control character (it is one line of a log).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "aws_error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void no_control(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct aws_error e;
	char line[2048], hdr[256] = "";
	const uint8_t *nl = memchr(data, '\n', size < 255 ? size : 255);
	const char *body = (const char *)data;
	size_t len = size;

	if (nl) {
		memcpy(hdr, data, (size_t)(nl - data));
		hdr[nl - data] = '\0';
		body = (const char *)nl + 1;
		len = size - (size_t)(nl - data) - 1;
	}
	aws_error_from_response(&e, size ? 400 + data[0] % 200 : 500, size % 2 ? "text/html" : NULL, hdr, hdr, body, len);
	if (!e.code[0] || !e.message[0])
		abort();
	aws_error_format(&e, "ecs", "RunTask", line, sizeof line);
	no_control(line);
	(void)aws_error_is_skew(&e);
	(void)aws_error_parse_http_date(hdr);
	return 0;
}
