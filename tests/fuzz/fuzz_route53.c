/*
 * fuzz_route53 — the Route 53 answers the playground commands read (route53_parse_change,
 * route53_parse_record) and the request body built from any name and address
 * (route53_change_xml). Invariants: a change id read is non-empty and of [A-Za-z0-9_-]; a record
 * read has a non-empty value and a TTL > 0; a body that is built is read back by the AWS layer's
 * XML reader (expat) with the same name.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "aws/aws_xml.h"
#include "route53.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char id[ROUTE53_ID_MAX], status[32], ip[64], err[300], name[ROUTE53_NAME_MAX + 1], addr[64];
	unsigned ttl = 0;
	const char *text = (const char *)data;
	char *body;
	size_t n, a;

	if (route53_parse_change(text, size, id, sizeof id, status, sizeof status, err, sizeof err) == 0) {
		if (!id[0] || !status[0] || strspn(id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-") !=
						    strlen(id))
			abort();
	}
	if (route53_parse_record(text, size, "main.example.com", ip, sizeof ip, &ttl, err, sizeof err) == 1) {
		if (!ip[0] || ttl == 0)
			abort();
	}
	/* The first line as a name, the second as an address (the input is not NUL-terminated). */
	{
		const char *nl = memchr(text, '\n', size);
		n = nl ? (size_t)(nl - text) : size;
	}
	if (n < sizeof name && memchr(data, '\0', size) == NULL) {
		memcpy(name, text, n);
		name[n] = '\0';
		a = n < size ? size - n - 1 : 0;
		if (a < sizeof addr) {
			memcpy(addr, n < size ? text + n + 1 : "", a);
			addr[a] = '\0';
			body = route53_change_xml("UPSERT", name, addr, 60, name, err, sizeof err);
			if (body) {
				json_t *j = aws_xml_to_json(body, strlen(body), NULL, err, sizeof err);
				json_t *ch = json_array_get(json_object_get(json_object_get(j, "ChangeBatch"), "Changes"), 0);
				const char *got = json_string_value(
					json_object_get(json_object_get(ch, "ResourceRecordSet"), "Name"));
				if (!got || strncmp(got, name, n) != 0 || got[n] != '.' || got[n + 1] != '\0')
					abort();
				json_decref(j);
				free(body);
			}
		}
	}
	return 0;
}
