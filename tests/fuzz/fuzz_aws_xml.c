/*
 * fuzz_aws_xml — an XML answer (Route 53, S3, STS, IAM) to JSON (aws_xml_to_json). Invariant:
 * a result is a JSON object that jansson can print.
 */
#include <stdint.h>
#include <stdlib.h>

#include "aws_xml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[300];
	json_t *j = aws_xml_to_json((const char *)data, size, "GetCallerIdentity", err, sizeof err);
	char *s;

	if (!j)
		return 0;
	if (!json_is_object(j))
		abort();
	s = json_dumps(j, JSON_COMPACT);
	if (!s)
		abort();
	free(s);
	json_decref(j);
	return 0;
}
