/* route53 — see route53.h. */
#include "route53.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <jansson.h>

#include "aws/aws_xml.h"
#include "slug.h"

#define R53_NS "https://route53.amazonaws.com/doc/2013-04-01/"
#define R53_COMMENT_MAX 256
#define R53_BODY_MAX 4096

size_t route53_slug_max(const char *domain)
{
	size_t d = domain ? strlen(domain) : 0;
	size_t room;

	if (d + 1 + SLUG_MIN_MAX > ROUTE53_CN_MAX)
		return 0;
	room = ROUTE53_CN_MAX - 1 - d;
	return room > SLUG_MAX ? SLUG_MAX : room;
}

bool route53_name_ok(const char *name)
{
	size_t n = name ? strlen(name) : 0, label = 0;

	if (n == 0 || n > ROUTE53_NAME_MAX)
		return false;
	for (size_t i = 0; i <= n; i++) {
		char ch = name[i];
		if (ch == '.' || ch == '\0') {
			if (label == 0 || label > SLUG_MAX || name[i - 1] == '-')
				return false;
			label = 0;
			continue;
		}
		if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-'))
			return false;
		if (label == 0 && ch == '-')
			return false;
		label++;
	}
	return true;
}

/* Appends s to buf with XML's five special characters escaped and control characters dropped. */
static int r53_put_text(char *buf, size_t cap, size_t *o, const char *s)
{
	for (; s && *s; s++) {
		const char *rep = NULL;
		char one[2] = {*s, '\0'};
		size_t l;

		switch (*s) {
		case '&': rep = "&amp;"; break;
		case '<': rep = "&lt;"; break;
		case '>': rep = "&gt;"; break;
		case '"': rep = "&quot;"; break;
		case '\'': rep = "&apos;"; break;
		default:
			if ((unsigned char)*s < 0x20 || *s == 0x7f)
				continue;
			rep = one;
		}
		l = strlen(rep);
		if (*o + l >= cap)
			return -1;
		memcpy(buf + *o, rep, l);
		*o += l;
	}
	buf[*o] = '\0';
	return 0;
}

static int r53_put(char *buf, size_t cap, size_t *o, const char *raw)
{
	size_t l = strlen(raw);

	if (*o + l >= cap)
		return -1;
	memcpy(buf + *o, raw, l + 1);
	*o += l;
	return 0;
}

char *route53_change_xml(const char *action, const char *name, const char *ipv4, unsigned ttl,
			 const char *comment, char *err, size_t errlen)
{
	struct in_addr a;
	char *buf = NULL, ttls[16], cbuf[R53_COMMENT_MAX + 1];
	size_t o = 0;

	if (!action || (strcmp(action, "UPSERT") != 0 && strcmp(action, "DELETE") != 0 &&
			strcmp(action, "CREATE") != 0)) {
		snprintf(err, errlen, "Route 53 action \"%s\": expected UPSERT, CREATE or DELETE", action ? action : "");
		return NULL;
	}
	if (!route53_name_ok(name)) {
		snprintf(err, errlen, "\"%.80s\" is not a DNS name this tool writes (lowercase labels "
			 "[a-z0-9-] of 1 to 63 characters, at most 253 in all)", name ? name : "");
		return NULL;
	}
	if (!ipv4 || inet_pton(AF_INET, ipv4, &a) != 1) {
		snprintf(err, errlen, "\"%.64s\" is not an IPv4 address", ipv4 ? ipv4 : "");
		return NULL;
	}
	if (ttl == 0 || ttl > 2147483647u) {
		snprintf(err, errlen, "TTL %u: expected 1 to 2147483647 seconds", ttl);
		return NULL;
	}
	snprintf(ttls, sizeof ttls, "%u", ttl);
	/* Route 53 limits a comment to 256 characters: cut, never refuse. */
	snprintf(cbuf, sizeof cbuf, "%s", comment ? comment : "");
	buf = malloc(R53_BODY_MAX);
	if (!buf) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (r53_put(buf, R53_BODY_MAX, &o, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		    "<ChangeResourceRecordSetsRequest xmlns=\"" R53_NS "\"><ChangeBatch>") ||
	    (cbuf[0] && (r53_put(buf, R53_BODY_MAX, &o, "<Comment>") ||
			 r53_put_text(buf, R53_BODY_MAX, &o, cbuf) ||
			 r53_put(buf, R53_BODY_MAX, &o, "</Comment>"))) ||
	    r53_put(buf, R53_BODY_MAX, &o, "<Changes><Change><Action>") ||
	    r53_put_text(buf, R53_BODY_MAX, &o, action) ||
	    r53_put(buf, R53_BODY_MAX, &o, "</Action><ResourceRecordSet><Name>") ||
	    r53_put_text(buf, R53_BODY_MAX, &o, name) ||
	    r53_put(buf, R53_BODY_MAX, &o, ".</Name><Type>A</Type><TTL>") ||
	    r53_put(buf, R53_BODY_MAX, &o, ttls) ||
	    r53_put(buf, R53_BODY_MAX, &o, "</TTL><ResourceRecords><ResourceRecord><Value>") ||
	    r53_put_text(buf, R53_BODY_MAX, &o, ipv4) ||
	    r53_put(buf, R53_BODY_MAX, &o, "</Value></ResourceRecord></ResourceRecords></ResourceRecordSet>"
		    "</Change></Changes></ChangeBatch></ChangeResourceRecordSetsRequest>\n")) {
		free(buf);
		snprintf(err, errlen, "the change request does not fit %d bytes", R53_BODY_MAX);
		return NULL;
	}
	return buf;
}

static int r53_copy(const char *v, char *out, size_t len)
{
	if (!v || !*v || strlen(v) >= len)
		return -1;
	memcpy(out, v, strlen(v) + 1);
	return 0;
}

int route53_parse_change(const char *xml, size_t len, char *id, size_t idlen, char *status,
			 size_t statuslen, char *err, size_t errlen)
{
	json_t *doc = aws_xml_to_json(xml, len, NULL, err, errlen);
	json_t *info;
	const char *v;
	int rc = -1;

	if (!doc)
		return -1;
	info = json_object_get(doc, "ChangeInfo");
	v = json_string_value(json_object_get(info, "Id"));
	if (v && strncmp(v, "/change/", 8) == 0)
		v += 8;
	if (!json_is_object(info) || r53_copy(v, id, idlen)) {
		snprintf(err, errlen, "the answer has no usable ChangeInfo.Id");
		goto done;
	}
	for (const char *p = id; *p; p++)
		if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
		      *p == '_' || *p == '-')) {
			snprintf(err, errlen, "the answer's change id has a character a change id cannot have");
			goto done;
		}
	if (r53_copy(json_string_value(json_object_get(info, "Status")), status, statuslen)) {
		snprintf(err, errlen, "the answer has no usable ChangeInfo.Status");
		goto done;
	}
	rc = 0;
done:
	json_decref(doc);
	return rc;
}

/* One record set of the answer against name: 1 a match (values copied), 0 another record. */
static int r53_record_match(const json_t *rs, const char *name, char *ipv4, size_t iplen, unsigned *ttl)
{
	const char *rname = json_string_value(json_object_get(rs, "Name"));
	const char *type = json_string_value(json_object_get(rs, "Type"));
	const char *ttls = json_string_value(json_object_get(rs, "TTL"));
	const json_t *recs = json_object_get(rs, "ResourceRecords"), *first;
	size_t n = strlen(name), rn;
	char *end;
	unsigned long t;

	if (!rname || !type || strcmp(type, "A") != 0)
		return 0;
	rn = strlen(rname);
	if (rn && rname[rn - 1] == '.')
		rn--;
	if (rn != n || strncasecmp(rname, name, n) != 0)
		return 0;
	first = json_is_array(recs) ? json_array_get(recs, 0) : json_object_get(recs, "ResourceRecord");
	if (json_is_array(first))
		first = json_array_get(first, 0);
	if (r53_copy(json_string_value(json_object_get(first, "Value")), ipv4, iplen))
		return -1;
	t = ttls ? strtoul(ttls, &end, 10) : 0;
	*ttl = ttls && !*end && t > 0 && t <= 2147483647ul ? (unsigned)t : ROUTE53_TTL_DEFAULT;
	return 1;
}

int route53_parse_record(const char *xml, size_t len, const char *name, char *ipv4, size_t iplen,
			 unsigned *ttl, char *err, size_t errlen)
{
	json_t *doc = aws_xml_to_json(xml, len, NULL, err, errlen);
	json_t *sets, *rs;
	size_t i;
	int rc = 0, m;

	if (!doc)
		return -1;
	sets = json_object_get(doc, "ResourceRecordSets");
	if (json_is_object(sets)) /* one record set, not recognised as a list */
		sets = json_object_get(sets, "ResourceRecordSet");
	if (json_is_object(sets)) {
		rc = r53_record_match(sets, name, ipv4, iplen, ttl);
	} else if (json_is_array(sets)) {
		json_array_foreach(sets, i, rs) {
			m = r53_record_match(rs, name, ipv4, iplen, ttl);
			if (m != 0) {
				rc = m;
				break;
			}
		}
	} else if (sets && !json_is_null(sets) && !(json_is_string(sets) && !*json_string_value(sets))) {
		rc = -1;
	} else if (!json_object_get(doc, "IsTruncated") && !sets) {
		rc = -1;
	}
	if (rc < 0)
		snprintf(err, errlen, "the ListResourceRecordSets answer cannot be read");
	json_decref(doc);
	return rc;
}

static void r53_error(const struct aws_result *r, const char *op, char *err, size_t errlen)
{
	aws_error_format(&r->error, "route53", op, err, errlen);
}

static void r53_zone_path(const char *zone_id, const char *tail, char *out, size_t len)
{
	if (strncmp(zone_id, "/hostedzone/", 12) == 0)
		zone_id += 12;
	snprintf(out, len, "/2013-04-01/hostedzone/%s%s", zone_id, tail);
}

int route53_find(struct aws_client *c, const char *zone_id, const char *name, char *ipv4,
		 size_t iplen, unsigned *ttl, char *err, size_t errlen)
{
	struct aws_call ac;
	struct aws_result r;
	char path[256], query[ROUTE53_NAME_MAX + 64];
	int rc;

	if (!route53_name_ok(name)) {
		snprintf(err, errlen, "\"%.80s\" is not a DNS name this tool writes", name ? name : "");
		return -1;
	}
	memset(&ac, 0, sizeof ac);
	memset(&r, 0, sizeof r);
	r53_zone_path(zone_id, "/rrset", path, sizeof path);
	snprintf(query, sizeof query, "maxitems=1&name=%s.&type=A", name); /* [a-z0-9.-]: nothing to encode */
	ac.service = "route53";
	ac.operation = "ListResourceRecordSets";
	ac.method = "GET";
	ac.path = path;
	ac.query = query;
	if (aws_client_call(c, &ac, &r) < 0) {
		r53_error(&r, ac.operation, err, errlen);
		aws_result_clear(&r);
		return -1;
	}
	rc = route53_parse_record(r.body, r.len, name, ipv4, iplen, ttl, err, errlen);
	aws_result_clear(&r);
	return rc;
}

static void r53_sleep(unsigned ms)
{
	struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) != 0)
		;
}

static long long r53_now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec;
}

int route53_wait(struct aws_client *c, const char *change_id, unsigned wait_s, FILE *progress,
		 char *err, size_t errlen)
{
	long long start = r53_now_s();
	char path[ROUTE53_ID_MAX + 32], id[ROUTE53_ID_MAX], status[32];
	unsigned polls = 0;

	snprintf(path, sizeof path, "/2013-04-01/change/%s", change_id);
	for (;;) {
		struct aws_call ac;
		struct aws_result r;
		long long waited;

		memset(&ac, 0, sizeof ac);
		memset(&r, 0, sizeof r);
		ac.service = "route53";
		ac.operation = "GetChange";
		ac.method = "GET";
		ac.path = path;
		if (aws_client_call(c, &ac, &r) < 0) {
			r53_error(&r, ac.operation, err, errlen);
			aws_result_clear(&r);
			return -1;
		}
		if (route53_parse_change(r.body, r.len, id, sizeof id, status, sizeof status, err, errlen) < 0) {
			aws_result_clear(&r);
			return -1;
		}
		aws_result_clear(&r);
		polls++;
		waited = r53_now_s() - start;
		if (strcmp(status, "INSYNC") == 0) {
			if (progress)
				fprintf(progress, "Route 53 change %s is INSYNC (after %lld s)\n", change_id, waited);
			return 0;
		}
		if (waited >= (long long)wait_s) {
			snprintf(err, errlen, "Route 53 change %s is still %s after %lld s", change_id, status, waited);
			return -1;
		}
		if (progress) {
			fprintf(progress, "waiting for Route 53 change %s: %s (%lld s of at most %u)\n", change_id,
				status, waited, wait_s);
			fflush(progress);
		}
		r53_sleep(polls < 5 ? 2000 : 5000);
	}
}

static int r53_change(struct aws_client *c, const char *zone_id, const char *action, const char *name,
		      const char *ipv4, unsigned ttl, unsigned wait_s, FILE *progress, char *err, size_t errlen)
{
	struct aws_call ac;
	struct aws_result r;
	struct aws_http_header h[1] = {{"Content-Type", "text/xml"}};
	char path[256], id[ROUTE53_ID_MAX], status[32];
	char *body = route53_change_xml(action, name, ipv4, ttl, "stagevisor playground", err, errlen);
	int rc;

	if (!body)
		return -1;
	memset(&ac, 0, sizeof ac);
	memset(&r, 0, sizeof r);
	r53_zone_path(zone_id, "/rrset/", path, sizeof path);
	ac.service = "route53";
	ac.operation = "ChangeResourceRecordSets";
	ac.method = "POST";
	ac.path = path;
	ac.headers = h;
	ac.n_headers = 1;
	ac.body = body;
	ac.body_len = strlen(body);
	rc = aws_client_call(c, &ac, &r);
	free(body);
	if (rc < 0) {
		r53_error(&r, ac.operation, err, errlen);
		aws_result_clear(&r);
		return -1;
	}
	rc = route53_parse_change(r.body, r.len, id, sizeof id, status, sizeof status, err, errlen);
	aws_result_clear(&r);
	if (rc < 0)
		return -1;
	if (strcmp(status, "INSYNC") == 0) {
		if (progress)
			fprintf(progress, "Route 53 change %s is INSYNC (at once)\n", id);
		return 0;
	}
	if (progress) {
		fprintf(progress, "Route 53 change %s submitted: %s%s\n", id, status, wait_s ? "" : " (not waiting)");
		fflush(progress);
	}
	return wait_s ? route53_wait(c, id, wait_s, progress, err, errlen) : 0;
}

int route53_upsert(struct aws_client *c, const char *zone_id, const char *name, const char *ipv4,
		   unsigned ttl, unsigned wait_s, FILE *progress, char *err, size_t errlen)
{
	return r53_change(c, zone_id, "UPSERT", name, ipv4, ttl, wait_s, progress, err, errlen);
}

int route53_delete(struct aws_client *c, const char *zone_id, const char *name, unsigned wait_s,
		   FILE *progress, bool *deleted, char *err, size_t errlen)
{
	char ip[64];
	unsigned ttl = ROUTE53_TTL_DEFAULT;
	int found;

	*deleted = false;
	found = route53_find(c, zone_id, name, ip, sizeof ip, &ttl, err, errlen);
	if (found <= 0)
		return found;
	if (r53_change(c, zone_id, "DELETE", name, ip, ttl, wait_s, progress, err, errlen) < 0) {
		/* Deleted meanwhile by someone else (a second teardown): what we wanted. */
		if (strstr(err, "InvalidChangeBatch") && strstr(err, "not found"))
			return 0;
		return -1;
	}
	*deleted = true;
	return 0;
}
