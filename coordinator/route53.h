/*
 * route53 — a playground's DNS name: one A record `<slug>.<domain>` in the pipeline's hosted
 * zone, UPSERTed when the playground is up and DELETEd when it goes (ChangeResourceRecordSets),
 * each change waited for until Route 53 reports it INSYNC (GetChange, bounded), and the record
 * found again by its name (ListResourceRecordSets).
 *
 * The request bodies are built here (route53_change_xml: every value escaped, names checked
 * first) and the answers read through the AWS layer's XML reader (aws_xml_to_json, expat);
 * route53_parse_change() and route53_parse_record() are the pure readers, fuzzed in
 * tests/fuzz/fuzz_route53.c. The calls go through aws_client_call (REST-XML, SigV4).
 *
 * It does not choose names (slug.c and the caller do), decide when a record should exist, or
 * print anything but the progress line of a wait (to the FILE * the caller passes, or nothing).
 *
 * Ownership: the client is borrowed; char * results are the caller's to free.
 */
#ifndef SV_COORD_ROUTE53_H
#define SV_COORD_ROUTE53_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "aws/aws_client.h"

#define ROUTE53_NAME_MAX 253      /* a DNS name, without the trailing dot */
#define ROUTE53_CN_MAX 64         /* a certificate's CN: the playground's whole name must fit */
#define ROUTE53_TTL_DEFAULT 60u
#define ROUTE53_WAIT_DEFAULT_S 300u
#define ROUTE53_ID_MAX 128

/* The longest slug for which "<slug>.<domain>" fits a certificate's 64-character CN (and a
 * label's 63): min(63, 64 - 1 - strlen(domain)). 0 when the domain leaves no room for
 * SLUG_MIN_MAX characters. */
size_t route53_slug_max(const char *domain);

/* Whether name is a DNS name we write: 1..253 characters of [a-z0-9-.], labels of 1..63
 * characters not starting or ending with '-', no trailing dot. */
bool route53_name_ok(const char *name);

/* The ChangeResourceRecordSets body: action "UPSERT" or "DELETE" of an A record name (no
 * trailing dot) with one IPv4 value and a TTL. NULL with a reason in err for a bad action,
 * name, address or TTL. */
char *route53_change_xml(const char *action, const char *name, const char *ipv4, unsigned ttl,
			 const char *comment, char *err, size_t errlen);

/* From a ChangeResourceRecordSets or GetChange answer: the change's id without "/change/"
 * and its status ("PENDING", "INSYNC"). 0, or -1 with a reason. */
int route53_parse_change(const char *xml, size_t len, char *id, size_t idlen, char *status,
			 size_t statuslen, char *err, size_t errlen);

/* From a ListResourceRecordSets answer: the A record named name (no trailing dot; compared
 * case-insensitively, with Route 53's trailing dot): 1 with its first value and TTL, 0 when the
 * answer has no such record, -1 when the answer cannot be read. */
int route53_parse_record(const char *xml, size_t len, const char *name, char *ipv4, size_t iplen,
			 unsigned *ttl, char *err, size_t errlen);

/* The A record of name in zone (ListResourceRecordSets name=NAME&type=A&maxitems=1): 1 found,
 * 0 none, -1 error. */
int route53_find(struct aws_client *c, const char *zone_id, const char *name, char *ipv4,
		 size_t iplen, unsigned *ttl, char *err, size_t errlen);

/* GetChange until INSYNC or wait_s seconds have passed (polling every 2 s at first, then 5 s).
 * progress: a line per poll while it is PENDING, or NULL. 0 INSYNC, -1 (error or time out). */
int route53_wait(struct aws_client *c, const char *change_id, unsigned wait_s, FILE *progress,
		 char *err, size_t errlen);

/* UPSERT name → ipv4, then route53_wait (wait_s 0: submitted is enough). 0, or -1 with err. */
int route53_upsert(struct aws_client *c, const char *zone_id, const char *name, const char *ipv4,
		   unsigned ttl, unsigned wait_s, FILE *progress, char *err, size_t errlen);

/* DELETE the A record of name as it is now (found first: Route 53 deletes only an exact
 * match), then route53_wait. A record that is not there is not an error: *deleted false.
 * 0, or -1 with err. */
int route53_delete(struct aws_client *c, const char *zone_id, const char *name, unsigned wait_s,
		   FILE *progress, bool *deleted, char *err, size_t errlen);

#endif
