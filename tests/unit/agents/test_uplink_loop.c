/*
 * The uplink against a real peer in the same process: libevent's evhttp server over
 * bufferevent_openssl on 127.0.0.1 (port 0), with a certificate minted in memory, storing
 * batches with the protocol library exactly as a coordinator does (token check, decode, ack
 * plan). Faults are scripted by request number: 503s, a 429 with Retry-After, answers lost
 * (the server holds the request past the client's timeout), connections closed after an
 * answer, the server down at start, a wrong pin, a CA bundle, and bounds small enough to shed.
 * Every test checks that the server stored seqs 1..N exactly once, in order, with the content
 * that was pushed.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "protocol/protocol.h"
#include "uplink.h"

#define STREAM "build-9.unit"
#define TOKEN "svt1.0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0"

/* ---- a certificate minted in memory --------------------------------------------------- */

struct cert {
	EVP_PKEY *key;
	X509 *x509;
	unsigned char sha256[32];
};

static void cert_mint(struct cert *c, const char *cn)
{
	X509_NAME *name;
	X509V3_CTX v3;
	X509_EXTENSION *ext;
	unsigned int n;

	c->key = EVP_EC_gen("P-256");
	assert_non_null(c->key);
	c->x509 = X509_new();
	X509_set_version(c->x509, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(c->x509), (long)time(NULL));
	X509_gmtime_adj(X509_getm_notBefore(c->x509), -3600);
	X509_gmtime_adj(X509_getm_notAfter(c->x509), 3600);
	X509_set_pubkey(c->x509, c->key);
	name = X509_get_subject_name(c->x509);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
	X509_set_issuer_name(c->x509, name);
	X509V3_set_ctx_nodb(&v3);
	X509V3_set_ctx(&v3, c->x509, c->x509, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &v3, NID_subject_alt_name, "IP:127.0.0.1");
	assert_non_null(ext);
	X509_add_ext(c->x509, ext, -1);
	X509_EXTENSION_free(ext);
	assert_true(X509_sign(c->x509, c->key, EVP_sha256()) > 0);
	assert_int_equal(X509_digest(c->x509, EVP_sha256(), c->sha256, &n), 1);
}

static void cert_free(struct cert *c)
{
	EVP_PKEY_free(c->key);
	X509_free(c->x509);
}

/* ---- the server ------------------------------------------------------------------------- */

enum fault { F_NONE, F_503, F_429, F_HOLD, F_CLOSE, F_CANCEL, F_DETACH };

struct server {
	struct event_base *base;
	SSL_CTX *ctx;
	struct evhttp *http;
	evutil_socket_t fd;
	int port;
	bool listening;

	uint64_t ack;          /* stored 1..ack */
	uint64_t requests, duplicates, placeholders, unauthorized, bad, empty;
	uint64_t tests_seen;
	enum fault (*script)(uint64_t request);
	struct evhttp_request *held[16];
	size_t nheld;
	struct timespec last_request, retry_after_sent;
	long gap_after_429_ms; /* time from the 429 to the next request */
};

static struct bufferevent *server_on_bev(struct event_base *base, void *arg)
{
	struct server *s = arg;
	struct bufferevent *bev = bufferevent_openssl_socket_new(
		base, -1, SSL_new(s->ctx), BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
	/* a client that goes away without close_notify is an EOF, not an error */
	bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
	return bev;
}

static long ms_since(const struct timespec *a)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - a->tv_sec) * 1000 + (now.tv_nsec - a->tv_nsec) / 1000000;
}

/* The expected content of event seq (see push_events). */
static bool is_test_seq(uint64_t seq)
{
	return seq % 10 == 0;
}

static void check_stored(struct server *s, const json_t *ev)
{
	uint64_t seq = (uint64_t)json_integer_value(json_object_get(ev, "seq"));
	char want[64];

	assert_int_equal(seq, s->ack + 1); /* exactly once, in order */
	if (json_is_true(json_object_get(ev, "shed"))) {
		assert_false(is_test_seq(seq)); /* results are never shed */
		s->placeholders++;
		return;
	}
	if (is_test_seq(seq)) {
		snprintf(want, sizeof want, "t%llu", (unsigned long long)seq);
		assert_string_equal(json_string_value(json_object_get(ev, "name")), want);
		s->tests_seen++;
	} else {
		snprintf(want, sizeof want, "line %llu", (unsigned long long)seq);
		assert_string_equal(json_string_value(json_object_get(ev, "line")), want);
	}
}

static void reply(struct evhttp_request *req, int code, const char *body)
{
	struct evbuffer *b = evbuffer_new();
	if (body)
		evbuffer_add(b, body, strlen(body));
	evhttp_send_reply(req, code, code == 200 ? "OK" : "Not OK", b);
	evbuffer_free(b);
}

static void server_on_request(struct evhttp_request *req, void *arg)
{
	struct server *s = arg;
	struct evkeyvalq *h = evhttp_request_get_input_headers(req);
	char token[PR_TOKEN_LEN + 1], stream[PR_STREAM_MAX + 1], out[PR_RESPONSE_MAX];
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	size_t len = evbuffer_get_length(in);
	struct pr_batch b;
	struct pr_ack_plan plan;
	struct pr_error err;
	struct pr_response r = {0};
	enum fault f;

	if (s->requests && s->retry_after_sent.tv_sec && !s->gap_after_429_ms)
		s->gap_after_429_ms = ms_since(&s->retry_after_sent);
	s->requests++;
	clock_gettime(CLOCK_MONOTONIC, &s->last_request);
	/* the coordinator's order: path, token, then the body */
	if (evhttp_request_get_command(req) != EVHTTP_REQ_POST ||
	    pr_path_stream(evhttp_request_get_uri(req), stream) < 0 || strcmp(stream, STREAM)) {
		s->bad++;
		reply(req, 404, NULL);
		return;
	}
	if (pr_token_from_authorization(evhttp_find_header(h, "Authorization"), token) < 0 ||
	    !pr_token_equal(token, TOKEN)) {
		s->unauthorized++;
		reply(req, 401, NULL);
		return;
	}
	assert_string_equal(evhttp_find_header(h, "Content-Type"), "application/json");
	f = s->script ? s->script(s->requests) : F_NONE;
	if (f == F_503) {
		reply(req, 503, NULL);
		return;
	}
	if (f == F_429) {
		evhttp_add_header(evhttp_request_get_output_headers(req), "Retry-After", "1");
		clock_gettime(CLOCK_MONOTONIC, &s->retry_after_sent);
		reply(req, 429, NULL);
		return;
	}
	if (pr_batch_decode((const char *)evbuffer_pullup(in, -1), len, stream, &b, &err) < 0) {
		print_error("server: bad body: %s\n", err.text);
		s->bad++;
		reply(req, 400, err.text);
		return;
	}
	if (pr_ack_plan_batch(s->ack, &b, &plan, &err) < 0) {
		s->bad++;
		pr_batch_clear(&b);
		reply(req, 400, err.text);
		return;
	}
	if (b.count == 0)
		s->empty++;
	for (size_t i = 0; i < plan.store_count; i++) {
		check_stored(s, json_array_get(b.events, plan.store_from + i));
		s->ack++;
	}
	assert_int_equal(s->ack, plan.new_ack);
	s->duplicates += plan.duplicates;
	pr_batch_clear(&b);
	if (f == F_HOLD) {
		/* stored, but the answer is lost: answered (late) only at the end */
		assert_true(s->nheld < 16);
		s->held[s->nheld++] = req;
		return;
	}
	r.ack = plan.new_ack;
	r.resend_from = plan.resend_from;
	r.cancel = f == F_CANCEL;
	r.detach = f == F_DETACH;
	assert_true(pr_response_format(&r, out, sizeof out) > 0);
	if (f == F_CLOSE)
		evhttp_add_header(evhttp_request_get_output_headers(req), "Connection", "close");
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", "application/json");
	reply(req, 200, out);
}

static void server_listen(struct server *s)
{
	assert_int_equal(listen(s->fd, 64), 0);
	assert_int_equal(evhttp_accept_socket(s->http, s->fd), 0);
	s->listening = true;
}

/* Bound to 127.0.0.1:0 at once (so the port is known and refuses connections); listening
 * only when `listen` (or later, server_listen). */
static void server_start(struct server *s, struct event_base *base, const struct cert *c,
			 bool listen_now)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	socklen_t alen = sizeof a;

	memset(s, 0, sizeof *s);
	s->base = base;
	s->ctx = SSL_CTX_new(TLS_server_method());
	assert_int_equal(SSL_CTX_use_certificate(s->ctx, c->x509), 1);
	assert_int_equal(SSL_CTX_use_PrivateKey(s->ctx, c->key), 1);
	s->http = evhttp_new(base);
	evhttp_set_bevcb(s->http, server_on_bev, s);
	evhttp_set_gencb(s->http, server_on_request, s);
	evhttp_set_max_body_size(s->http, PR_BODY_MAX);
	evhttp_set_allowed_methods(s->http, EVHTTP_REQ_POST | EVHTTP_REQ_GET);
	s->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	assert_true(s->fd >= 0);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(s->fd, (struct sockaddr *)&a, sizeof a), 0);
	{
		/* accepted sockets inherit it (Linux): small answers are not held for ACKs */
		int one = 1;
		setsockopt(s->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	}
	assert_int_equal(getsockname(s->fd, (struct sockaddr *)&a, &alen), 0);
	s->port = ntohs(a.sin_port);
	if (listen_now)
		server_listen(s);
}

static void server_stop(struct server *s)
{
	for (size_t i = 0; i < s->nheld; i++)
		reply(s->held[i], 200, "{\"ack\":0}"); /* freed by evhttp, sent or not */
	s->nheld = 0;
	evhttp_free(s->http); /* closes the listener (and its socket) and the connections */
	if (!s->listening)
		close(s->fd);
	SSL_CTX_free(s->ctx);
}

/* ---- the client side ---------------------------------------------------------------------- */

struct run {
	struct event_base *base;
	struct uplink *up;
	struct server *srv;
	uint64_t next_seq, total;
	unsigned chunk;          /* events pushed per tick */
	struct event *tick;      /* pushes a chunk, then finishes */
	bool finishing;
	int done_called, acked_all;
	int cancels, detaches;
	char log[4096];
	uint64_t pushed_shed;
	/* for test_down_at_start: listen once the uplink failed this often */
	uint64_t listen_after_failures;
	/* finish (start the stop budget) only once the server got this many requests and the
	 * uplink failed this often: a short budget then always ends with them behind it, however
	 * slow the machine */
	uint64_t finish_after_requests, finish_after_failures;
	struct timeval budget;
};

static const struct timespec T0 = {1795675200, 0};

static json_t *make_event(uint64_t seq)
{
	json_t *ev;
	char text[64];

	if (is_test_seq(seq)) {
		ev = pr_event_new(PR_TYPE_TEST);
		snprintf(text, sizeof text, "t%llu", (unsigned long long)seq);
		json_object_set_new(ev, "name", json_string(text));
		json_object_set_new(ev, "status", json_string(seq % 20 ? "passed" : "failed"));
	} else {
		ev = pr_event_new(PR_TYPE_LOG);
		snprintf(text, sizeof text, "line %llu", (unsigned long long)seq);
		json_object_set_new(ev, "process", json_string("php"));
		json_object_set_new(ev, "fd", json_string("stdout"));
		json_object_set_new(ev, "line", json_string(text));
	}
	assert_int_equal(pr_event_stamp(ev, STREAM, seq, &T0, NULL), 0);
	return ev;
}

static void on_done(void *arg, int acked_all)
{
	struct run *r = arg;
	r->done_called++;
	r->acked_all = acked_all;
	event_base_loopbreak(r->base);
}

static void on_control(void *arg, bool cancel, bool detach)
{
	struct run *r = arg;
	r->cancels += cancel;
	r->detaches += detach;
}

static void on_log(void *arg, const char *line)
{
	struct run *r = arg;
	size_t n = strlen(r->log);
	snprintf(r->log + n, sizeof r->log - n, "%s\n", line);
}

static bool failures_at_least(struct uplink *up, uint64_t n)
{
	struct uplink_stats st;
	if (n == 0)
		return true;
	uplink_get_stats(up, &st);
	return st.failures >= n;
}

static void run_on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct run *r = arg;
	struct timeval next = {0, 2000};

	if (r->listen_after_failures && !r->srv->listening) {
		struct uplink_stats st;
		uplink_get_stats(r->up, &st);
		if (st.failures >= r->listen_after_failures)
			server_listen(r->srv);
	}
	for (unsigned i = 0; i < r->chunk && r->next_seq <= r->total; i++, r->next_seq++) {
		json_t *ev = make_event(r->next_seq);
		size_t len;
		char *text = pr_event_encode(ev, &len);
		int rc = uplink_push(r->up, ev, text, len);
		assert_true(rc == 0 || rc == 1 || (rc == -1 && r->detaches));
		assert_true(rc != 1 || !is_test_seq(r->next_seq)); /* results are never shed */
		r->pushed_shed += rc == 1;
		free(text);
		json_decref(ev);
	}
	if (r->next_seq > r->total && !r->finishing &&
	    (!r->listen_after_failures || r->srv->listening) && r->srv->requests >= r->finish_after_requests &&
	    failures_at_least(r->up, r->finish_after_failures)) {
		r->finishing = true;
		uplink_finish(r->up, &r->budget, on_done, r);
		return;
	}
	if (!r->finishing)
		evtimer_add(r->tick, &next);
}

static void config_for(struct uplink_config *c, const struct server *s, const unsigned char *pin,
		       struct run *r)
{
	char url[64];

	uplink_config_defaults(c);
	strcpy(c->stream, STREAM);
	strcpy(c->token, TOKEN);
	snprintf(url, sizeof url, "https://127.0.0.1:%d/", s->port);
	assert_int_equal(uplink_config_set_url(c, url, NULL, 0), 0);
	if (pin) {
		c->have_pin = true;
		memcpy(c->pin, pin, 32);
	}
	c->batch_bytes = 8 * 1024; /* many requests, so the faults land in the middle */
	c->backoff_base_ms = 10;
	c->backoff_cap_ms = 200;
	c->timeout_ms = 400;
	c->spool_path[0] = '\0';
	snprintf(c->spool_path, sizeof c->spool_path, "/tmp/sv-uplink-spool-%d", (int)getpid());
	c->on_control = on_control;
	c->on_log = on_log;
	c->cb_arg = r;
}

/* Push `total` events, `chunk` per 2 ms tick, finish, and run the loop until done. */
static void drive(struct run *r, struct event_base *base, struct uplink *up, struct server *s,
		  uint64_t total, unsigned chunk)
{
	struct timeval zero = {0, 0};

	r->base = base;
	r->up = up;
	r->srv = s;
	r->next_seq = 1;
	r->total = total;
	r->chunk = chunk;
	if (!r->budget.tv_sec && !r->budget.tv_usec)
		r->budget.tv_sec = 60;
	r->tick = evtimer_new(base, run_on_tick, r);
	evtimer_add(r->tick, &zero);
	event_base_dispatch(base);
	event_free(r->tick);
}

/* ---- the tests ------------------------------------------------------------------------------ */

static enum fault script_faults(uint64_t n)
{
	if (n >= 3 && n <= 6)
		return F_503;
	if (n == 8)
		return F_429;
	if (n == 11 || n == 17)
		return F_HOLD;
	if (n == 13 || n == 21 || n == 40)
		return F_CLOSE;
	if (n == 25)
		return F_CANCEL;
	return F_NONE;
}

static void test_faults_exactly_once(void **state)
{
	struct event_base *base = event_base_new();
	struct cert c;
	struct server s;
	struct uplink_config cfg;
	struct run r = {0};
	struct uplink_stats st;
	char err[256];
	struct uplink *up;

	(void)state;
	cert_mint(&c, "coordinator");
	server_start(&s, base, &c, true);
	s.script = script_faults;
	config_for(&cfg, &s, c.sha256, &r);
	up = uplink_new(base, &cfg, err, sizeof err);
	assert_non_null(up);
	drive(&r, base, up, &s, 10000, 100);
	uplink_get_stats(up, &st);
	print_message("faults: %llu requests, %llu failures, %llu connections, %llu duplicates, "
		      "429 then %ld ms\n%s",
		      (unsigned long long)s.requests, (unsigned long long)st.failures,
		      (unsigned long long)st.connections, (unsigned long long)s.duplicates,
		      s.gap_after_429_ms, r.log);
	assert_int_equal(r.done_called, 1);
	assert_int_equal(r.acked_all, 1);
	assert_int_equal(s.ack, 10000);          /* all arrived, once, in order (check_stored) */
	assert_int_equal(s.tests_seen, 1000);
	assert_int_equal(s.bad + s.unauthorized, 0);
	assert_true(s.duplicates > 0);           /* the lost answers were resent */
	assert_true(st.failures >= 4 + 1 + 2);   /* 503s, 429, held */
	assert_true(st.connections >= 3 + 2);    /* closes and timeouts replaced the connection */
	assert_true(s.gap_after_429_ms >= 900);  /* Retry-After: 1 was honoured */
	assert_int_equal(r.cancels, 1);
	assert_int_equal(st.acked, 10000);
	assert_int_equal(st.mem_bytes, 0);
	assert_int_equal(uplink_shed_logs(up), 0);
	assert_non_null(strstr(r.log, "answered 503"));
	uplink_free(up);
	server_stop(&s);
	cert_free(&c);
	event_base_free(base);
}

static void test_down_at_start(void **state)
{
	struct event_base *base = event_base_new();
	struct cert c;
	struct server s;
	struct uplink_config cfg;
	struct run r = {0};
	struct uplink_stats st;
	struct uplink *up;

	(void)state;
	cert_mint(&c, "coordinator");
	server_start(&s, base, &c, false); /* bound, refusing connections */
	config_for(&cfg, &s, c.sha256, &r);
	up = uplink_new(base, &cfg, NULL, 0);
	assert_non_null(up);
	r.listen_after_failures = 4;
	drive(&r, base, up, &s, 3000, 50);
	uplink_get_stats(up, &st);
	assert_int_equal(r.acked_all, 1);
	assert_int_equal(s.ack, 3000);
	assert_true(st.failures >= 4);
	assert_non_null(strstr(r.log, "no answer from 127.0.0.1"));
	assert_non_null(strstr(r.log, "delivering again"));
	uplink_free(up);
	server_stop(&s);
	cert_free(&c);
	event_base_free(base);
}

static void test_wrong_pin_refused(void **state)
{
	struct event_base *base = event_base_new();
	struct cert c;
	struct server s;
	struct uplink_config cfg;
	struct run r = {0};
	struct uplink_stats st;
	unsigned char pin[32];
	struct uplink *up;

	(void)state;
	cert_mint(&c, "coordinator");
	server_start(&s, base, &c, true);
	memcpy(pin, c.sha256, 32);
	pin[31] ^= 1;
	config_for(&cfg, &s, pin, &r);
	up = uplink_new(base, &cfg, NULL, 0);
	r.budget.tv_usec = 600000;
	r.finish_after_failures = 2; /* it tries again after a refused certificate */
	drive(&r, base, up, &s, 10, 10);
	uplink_get_stats(up, &st);
	assert_int_equal(r.done_called, 1);
	assert_int_equal(r.acked_all, 0);
	assert_true(st.failures >= 2);
	assert_int_equal(s.requests, 0); /* nothing reached the HTTP layer */
	assert_int_equal(s.ack, 0);
	assert_non_null(strstr(r.log, "does not match STAGEVISOR_PIN"));
	uplink_free(up);
	server_stop(&s);
	cert_free(&c);
	event_base_free(base);
}

static void write_pem(const char *path, X509 *x)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(PEM_write_X509(f, x), 1);
	fclose(f);
}

static void test_ca_bundle(void **state)
{
	struct event_base *base = event_base_new();
	struct cert c, other;
	struct server s;
	struct uplink_config cfg;
	struct run r = {0}, r2 = {0};
	struct uplink *up;
	char ca[64], ca2[64];

	(void)state;
	cert_mint(&c, "coordinator");
	cert_mint(&other, "someone else");
	snprintf(ca, sizeof ca, "/tmp/sv-ca-%d.pem", (int)getpid());
	snprintf(ca2, sizeof ca2, "/tmp/sv-ca2-%d.pem", (int)getpid());
	write_pem(ca, c.x509);
	write_pem(ca2, other.x509);
	server_start(&s, base, &c, true);
	/* the right CA (the self-signed certificate itself) and the IP in its SAN */
	config_for(&cfg, &s, NULL, &r);
	strcpy(cfg.ca_file, ca);
	up = uplink_new(base, &cfg, NULL, 0);
	assert_non_null(up);
	drive(&r, base, up, &s, 500, 100);
	assert_int_equal(r.acked_all, 1);
	assert_int_equal(s.ack, 500);
	uplink_free(up);
	/* a CA that did not sign it */
	config_for(&cfg, &s, NULL, &r2);
	strcpy(cfg.ca_file, ca2);
	up = uplink_new(base, &cfg, NULL, 0);
	r2.budget.tv_usec = 500000;
	drive(&r2, base, up, &s, 10, 10);
	assert_int_equal(r2.acked_all, 0);
	assert_int_equal(s.ack, 500);
	uplink_free(up);
	/* neither pin nor CA: refused at creation */
	config_for(&cfg, &s, NULL, &r2);
	{
		char err[200];
		assert_null(uplink_new(base, &cfg, err, sizeof err));
		assert_non_null(strstr(err, "unverified"));
	}
	unlink(ca);
	unlink(ca2);
	server_stop(&s);
	cert_free(&c);
	cert_free(&other);
	event_base_free(base);
}

/* Tiny bounds and the server down: log lines are shed (placeholders keep their seqs), results
 * are all kept; once the server listens, everything arrives, placeholders counted. */
static void test_shedding_end_to_end(void **state)
{
	struct event_base *base = event_base_new();
	struct cert c;
	struct server s;
	struct uplink_config cfg;
	struct run r = {0};
	struct uplink_stats st;
	struct uplink *up;

	(void)state;
	cert_mint(&c, "coordinator");
	server_start(&s, base, &c, false);
	config_for(&cfg, &s, c.sha256, &r);
	cfg.buffer_bytes = 64 * 1024;
	cfg.spool_bytes = 64 * 1024;
	up = uplink_new(base, &cfg, NULL, 0);
	r.listen_after_failures = 6;
	drive(&r, base, up, &s, 8000, 400);
	uplink_get_stats(up, &st);
	print_message("shedding: %llu shed, %llu over the bound\n", (unsigned long long)st.shed_log,
		      (unsigned long long)st.over_bound);
	assert_int_equal(r.acked_all, 1);
	assert_int_equal(s.ack, 8000);
	assert_int_equal(s.tests_seen, 800);      /* every result */
	assert_true(st.shed_log > 1000);
	assert_int_equal(s.placeholders, st.shed_log);
	assert_int_equal(r.pushed_shed, st.shed_log);
	uplink_free(up);
	server_stop(&s);
	cert_free(&c);
	event_base_free(base);
}

static enum fault script_detach(uint64_t n)
{
	return n == 3 ? F_DETACH : F_NONE;
}

/* A playground handed over: the coordinator detaches; the uplink stops sending for good. */
static void test_detach(void **state)
{
	struct event_base *base = event_base_new();
	struct cert c;
	struct server s;
	struct uplink_config cfg;
	struct run r = {0};
	struct uplink_stats st;
	struct uplink *up;

	(void)state;
	cert_mint(&c, "coordinator");
	server_start(&s, base, &c, true);
	s.script = script_detach;
	config_for(&cfg, &s, c.sha256, &r);
	up = uplink_new(base, &cfg, NULL, 0);
	drive(&r, base, up, &s, 3000, 100);
	uplink_get_stats(up, &st);
	assert_int_equal(r.detaches, 1);
	assert_int_equal(r.cancels, 0);
	assert_true(st.detached);
	assert_int_equal(r.done_called, 1);
	assert_int_equal(r.acked_all, 0);
	assert_int_equal(s.requests, 3);
	assert_int_equal(st.mem_bytes, 0);
	uplink_free(up);
	server_stop(&s);
	cert_free(&c);
	event_base_free(base);
}

/* ---- a cutting path: a TCP proxy that resets each connection after 2-8 KB ----------------- */

struct proxy {
	struct event_base *base;
	struct evconnlistener *l;
	int port, upstream;
	uint64_t rng;
	unsigned conns, cuts;
	struct pconn *open; /* the pairs still open, freed by proxy_stop */
};

struct pconn {
	struct proxy *p;
	struct bufferevent *a, *b;
	long left;
	struct pconn *next, *prev;
};

static void pconn_close(struct pconn *pc, bool reset)
{
	struct bufferevent *bevs[2] = {pc->a, pc->b};

	if (pc->prev)
		pc->prev->next = pc->next;
	else
		pc->p->open = pc->next;
	if (pc->next)
		pc->next->prev = pc->prev;
	for (int i = 0; i < 2; i++) {
		if (reset) {
			struct linger lg = {1, 0};
			int fd = bufferevent_getfd(bevs[i]);
			if (fd >= 0)
				setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
		}
		bufferevent_free(bevs[i]);
	}
	free(pc);
}

static void proxy_on_read(struct bufferevent *src, void *arg)
{
	struct pconn *pc = arg;
	struct evbuffer *in = bufferevent_get_input(src);

	pc->left -= (long)evbuffer_get_length(in);
	if (pc->left <= 0) {
		pc->p->cuts++;
		pconn_close(pc, true);
		return;
	}
	bufferevent_write_buffer(src == pc->a ? pc->b : pc->a, in);
}

static void proxy_on_event(struct bufferevent *bev, short what, void *arg)
{
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
		pconn_close(arg, false);
}

static void proxy_on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
			    int len, void *arg)
{
	struct proxy *p = arg;
	struct pconn *pc = calloc(1, sizeof *pc);
	struct sockaddr_in up = {.sin_family = AF_INET};
	int one = 1;

	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	pc->p = p;
	pc->next = p->open;
	if (p->open)
		p->open->prev = pc;
	p->open = pc;
	p->rng = p->rng * 6364136223846793005ull + 1442695040888963407ull;
	pc->left = 2048 + (long)((p->rng >> 33) % 6145);
	pc->a = bufferevent_socket_new(p->base, fd, BEV_OPT_CLOSE_ON_FREE);
	pc->b = bufferevent_socket_new(p->base, -1, BEV_OPT_CLOSE_ON_FREE);
	up.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	up.sin_port = htons((uint16_t)p->upstream);
	bufferevent_setcb(pc->a, proxy_on_read, NULL, proxy_on_event, pc);
	bufferevent_setcb(pc->b, proxy_on_read, NULL, proxy_on_event, pc);
	bufferevent_enable(pc->a, EV_READ | EV_WRITE);
	bufferevent_enable(pc->b, EV_READ | EV_WRITE);
	if (bufferevent_socket_connect(pc->b, (struct sockaddr *)&up, sizeof up) < 0) {
		pconn_close(pc, false);
		return;
	}
	setsockopt(bufferevent_getfd(pc->b), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	p->conns++;
}

static void proxy_start(struct proxy *p, struct event_base *base, int upstream)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	socklen_t alen = sizeof a;

	memset(p, 0, sizeof *p);
	p->base = base;
	p->upstream = upstream;
	p->rng = 1;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	p->l = evconnlistener_new_bind(base, proxy_on_accept, p, LEV_OPT_CLOSE_ON_FREE, 64,
				       (struct sockaddr *)&a, sizeof a);
	assert_non_null(p->l);
	assert_int_equal(getsockname(evconnlistener_get_fd(p->l), (struct sockaddr *)&a, &alen), 0);
	p->port = ntohs(a.sin_port);
}

static void proxy_stop(struct proxy *p)
{
	while (p->open)
		pconn_close(p->open, false);
	evconnlistener_free(p->l);
}

/* A path that resets every connection after 2-8 KB (TLS handshake included): batches shrink
 * until they fit, a broken kept-alive connection is replaced at once, and everything arrives
 * once. */
static void test_cutting_path(void **state)
{
	struct event_base *base = event_base_new();
	struct cert c;
	struct server s;
	struct proxy p;
	struct uplink_config cfg;
	struct run r = {0};
	struct uplink_stats st;
	struct uplink *up;
	struct timespec t0;
	char url[64];

	(void)state;
	cert_mint(&c, "coordinator");
	server_start(&s, base, &c, true);
	proxy_start(&p, base, s.port);
	config_for(&cfg, &s, c.sha256, &r);
	cfg.batch_bytes = UPLINK_BATCH_BYTES_DEFAULT;
	cfg.backoff_cap_ms = UPLINK_BACKOFF_CAP_MS_DEFAULT;
	cfg.backoff_base_ms = UPLINK_BACKOFF_BASE_MS_DEFAULT;
	snprintf(url, sizeof url, "https://127.0.0.1:%d/", p.port);
	assert_int_equal(uplink_config_set_url(&cfg, url, NULL, 0), 0);
	up = uplink_new(base, &cfg, NULL, 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	drive(&r, base, up, &s, 3000, 300);
	uplink_get_stats(up, &st);
	print_message("cutting path: %ld ms, %u connections (%llu resumed), %u cuts, %llu requests, %llu failures\n",
		      ms_since(&t0), p.conns, (unsigned long long)st.resumed, p.cuts, (unsigned long long)st.requests,
		      (unsigned long long)st.failures);
	assert_int_equal(r.acked_all, 1);
	assert_int_equal(s.ack, 3000);
	assert_true(p.cuts >= 20);
	uplink_free(up);
	proxy_stop(&p);
	server_stop(&s);
	cert_free(&c);
	event_base_free(base);
}

static enum fault script_hold(uint64_t n)
{
	(void)n;
	return F_HOLD;
}

/* Frees the uplink once the server holds its second request (polled every 2 ms). */
static void free_when_held(evutil_socket_t fd, short what, void *arg)
{
	struct run *r = arg;
	struct timeval tick = {0, 2000};
	(void)fd;
	(void)what;
	if (r->srv->requests < 2) {
		event_base_once(r->base, -1, EV_TIMEOUT, free_when_held, r, &tick);
		return;
	}
	uplink_free(r->up);
	r->up = NULL;
	event_base_loopbreak(r->base);
}

/* The coordinator stopped answering: the stop budget ends the finish with a request in
 * flight (cancelled); and an uplink freed with a request in flight leaks nothing. */
static void test_deadline_and_free_in_flight(void **state)
{
	struct event_base *base = event_base_new();
	struct cert c;
	struct server s;
	struct uplink_config cfg;
	struct run r = {0}, r2 = {0};
	struct uplink_stats st;
	struct uplink *up;
	struct timeval now = {0, 0};

	(void)state;
	cert_mint(&c, "coordinator");
	server_start(&s, base, &c, true);
	s.script = script_hold;
	config_for(&cfg, &s, c.sha256, &r);
	cfg.timeout_ms = 30000;
	up = uplink_new(base, &cfg, NULL, 0);
	r.budget.tv_usec = 300000;
	r.finish_after_requests = 1; /* the budget starts with the first batch held by the server */
	drive(&r, base, up, &s, 100, 100);
	uplink_get_stats(up, &st);
	assert_int_equal(r.done_called, 1);
	assert_int_equal(r.acked_all, 0);
	assert_int_equal(st.requests, 1);
	assert_true(s.ack > 0 && s.ack < 100); /* the first batch (8 KiB) stored, never answered */
	assert_non_null(strstr(r.log, "stop budget used up with 100 events unacknowledged"));
	uplink_free(up);
	/* again, and free it while its request waits */
	config_for(&cfg, &s, c.sha256, &r2);
	cfg.timeout_ms = 30000;
	r2.base = base;
	r2.srv = &s;
	r2.up = uplink_new(base, &cfg, NULL, 0);
	for (uint64_t seq = 1; seq <= 10; seq++) {
		json_t *ev = make_event(seq);
		assert_int_equal(uplink_push(r2.up, ev, NULL, 0), 0);
		json_decref(ev);
	}
	event_base_once(base, -1, EV_TIMEOUT, free_when_held, &r2, &now);
	event_base_dispatch(base);
	assert_null(r2.up);
	assert_int_equal(s.requests, 2);
	server_stop(&s);
	cert_free(&c);
	event_base_free(base);
}

static void test_bad_pushes_and_quick_finish(void **state)
{
	struct event_base *base = event_base_new();
	struct cert c;
	struct server s;
	struct uplink_config cfg;
	struct run r = {0};
	struct uplink *up;
	json_t *ev;
	struct timeval budget = {5, 0};

	(void)state;
	cert_mint(&c, "coordinator");
	server_start(&s, base, &c, true);
	config_for(&cfg, &s, c.sha256, &r);
	up = uplink_new(base, &cfg, NULL, 0);
	ev = make_event(1);
	assert_int_equal(uplink_push(up, ev, NULL, 0), 0);
	json_decref(ev);
	ev = make_event(3); /* out of order */
	assert_int_equal(uplink_push(up, ev, NULL, 0), -1);
	json_decref(ev);
	ev = make_event(2);
	json_object_set_new(ev, "stream", json_string("other"));
	assert_int_equal(uplink_push(up, ev, NULL, 0), -1);
	json_decref(ev);
	ev = pr_event_new(PR_TYPE_METRIC); /* not stamped */
	assert_int_equal(uplink_push(up, ev, NULL, 0), -1);
	json_decref(ev);
	r.base = base;
	uplink_finish(up, &budget, on_done, &r);
	assert_int_equal(r.done_called, 0); /* never from inside uplink_finish */
	event_base_dispatch(base);
	assert_int_equal(r.done_called, 1);
	assert_int_equal(r.acked_all, 1);
	assert_int_equal(s.ack, 1);
	ev = make_event(2);
	assert_int_equal(uplink_push(up, ev, NULL, 0), -1); /* finished */
	json_decref(ev);
	uplink_free(up);
	server_stop(&s);
	cert_free(&c);
	event_base_free(base);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_faults_exactly_once),
		cmocka_unit_test(test_down_at_start),
		cmocka_unit_test(test_wrong_pin_refused),
		cmocka_unit_test(test_ca_bundle),
		cmocka_unit_test(test_shedding_end_to_end),
		cmocka_unit_test(test_detach),
		cmocka_unit_test(test_deadline_and_free_in_flight),
		cmocka_unit_test(test_cutting_path),
		cmocka_unit_test(test_bad_pushes_and_quick_finish),
	};
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
