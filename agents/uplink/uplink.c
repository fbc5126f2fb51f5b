/*
 * uplink — the agent's HTTPS client (uplink.h).
 *
 * One state machine, driven by four events: a "kick" (run the next step from the loop's top
 * level), the flush delay, the retry delay and the finish deadline; plus evhttp's response and
 * close callbacks, which only record what happened and kick. Every user callback (on_control,
 * done) and every free of a connection happens in the kick handler, never inside evhttp's
 * callbacks, so the user may free the uplink from them.
 *
 * A connection is used until it fails or closes, then freed and replaced by a new one (an SSL
 * object is never reused for a second TCP connection).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "uplink.h"
#include "uplink_backoff.h"
#include "uplink_pacer.h"
#include "uplink_spool.h"

struct uplink {
	struct event_base *base;
	struct uplink_config cfg;
	SSL_CTX *ctx;
	SSL_SESSION *session; /* the last TLS session, resumed by the next connection */
	struct uplink_spool *spool;

	struct evhttp_connection *conn;
	bool conn_dead;             /* closed or failed: free and replace before the next request */
	bool conn_nodelay;          /* TCP_NODELAY is set on its socket */
	unsigned conn_ok;           /* answers received on it: a reused connection */
	struct evhttp_request *req; /* the request in flight (owned by evhttp), or NULL */
	size_t inflight;            /* events in it */
	size_t inflight_bytes;
	struct timespec sent_at;    /* when it started (for the round trip) */
	/* The batch size limit and the request timeout, learnt from the path (uplink_pacer.h). */
	struct uplink_pacer pacer;
	unsigned stall_ms;          /* the timeout of the request in flight */

	struct event *kick_ev, *flush_ev, *retry_ev, *deadline_ev, *stall_ev;
	bool waiting_retry;

	uint64_t acked;    /* the coordinator's ack */
	uint64_t last_seq; /* last pushed seq, 0 before the first push */
	size_t unsent_bytes;
	unsigned attempt;  /* consecutive failures */
	uint64_t rng;

	bool finishing, finished, detached, cancelled;
	bool tell_cancel, tell_detach; /* control flags to report from the kick handler */
	bool done_due;
	int done_acked_all;
	void (*done)(void *arg, int acked_all);
	void *done_arg;

	char prefix[PR_STREAM_MAX + 40];
	size_t prefix_len;
	char hosthdr[UPLINK_HOST_MAX + 16];
	char auth[PR_TOKEN_LEN + 16];
	char tls_error[160]; /* set by the verify callback for the next failure message */

	bool warned_over;
	struct uplink_stats st;
};

static void uplink_on_kick(evutil_socket_t fd, short what, void *arg);

static void up_log(struct uplink *up, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void up_log(struct uplink *up, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	if (up->cfg.on_log)
		up->cfg.on_log(up->cfg.cb_arg, line);
	else
		fprintf(stderr, "stagevisor-agent: uplink: %s\n", line);
}

static void kick(struct uplink *up)
{
	event_active(up->kick_ev, EV_TIMEOUT, 0);
}

static void ms_to_tv(unsigned ms, struct timeval *tv)
{
	tv->tv_sec = ms / 1000;
	tv->tv_usec = (suseconds_t)(ms % 1000) * 1000;
}

/* ---- TLS ---------------------------------------------------------------------------------- */

/*
 * Replaces OpenSSL's chain verification when a pin is configured: with a CA bundle as well,
 * the chain must verify too; then the leaf certificate's SHA-256 must equal the pin.
 */
static int uplink_on_verify(X509_STORE_CTX *x, void *arg)
{
	struct uplink *up = arg;
	X509 *cert = X509_STORE_CTX_get0_cert(x);
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	if (up->cfg.ca_file[0] && X509_verify_cert(x) <= 0) {
		snprintf(up->tls_error, sizeof up->tls_error, "certificate not verified by %.60s: %.60s",
			 up->cfg.ca_file,
			 X509_verify_cert_error_string(X509_STORE_CTX_get_error(x)));
		return 0;
	}
	if (!cert || X509_digest(cert, EVP_sha256(), md, &n) != 1 || n != 32 ||
	    CRYPTO_memcmp(md, up->cfg.pin, 32) != 0) {
		snprintf(up->tls_error, sizeof up->tls_error,
			 "the server's certificate does not match STAGEVISOR_PIN");
		X509_STORE_CTX_set_error(x, X509_V_ERR_CERT_REJECTED);
		return 0;
	}
	return 1;
}

/*
 * Keep the newest session (TLS 1.3 sends it after the handshake) so that a replacement
 * connection resumes it: an abbreviated handshake, no certificate on the wire, which matters
 * on paths that break connections often. The pin was checked when the session was made.
 */
static int uplink_on_new_session(SSL *ssl, SSL_SESSION *sess)
{
	struct uplink *up = SSL_get_app_data(ssl);
	SSL_SESSION *copy;

	/* A copy: OpenSSL marks the connection's own session not resumable when the connection
	 * ends without close_notify, which is how evhttp and broken paths end them. */
	if (!up || !(copy = SSL_SESSION_dup(sess)))
		return 0;
	SSL_SESSION_free(up->session);
	up->session = copy;
	return 0; /* the original reference stays OpenSSL's */
}

static SSL_CTX *tls_ctx_new(struct uplink *up, char *err, size_t errlen)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

	if (!ctx) {
		snprintf(err, errlen, "TLS: cannot create a context");
		return NULL;
	}
	if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1) {
		snprintf(err, errlen, "TLS: cannot require TLS 1.2");
		goto fail;
	}
	/* A small ClientHello: on a path that cuts connections every few KB each handshake's bytes
	 * count. No TLS 1.3 "middlebox compatibility" (a fake 32-byte session id and two
	 * ChangeCipherSpec records: the coordinator is reached directly), two groups, and only
	 * forward-secret AEAD suites for TLS 1.2 (TLS 1.3 keeps OpenSSL's three). */
	SSL_CTX_clear_options(ctx, SSL_OP_ENABLE_MIDDLEBOX_COMPAT);
	if (SSL_CTX_set1_groups_list(ctx, "X25519:P-256") != 1 ||
	    SSL_CTX_set_cipher_list(ctx, "ECDHE+AESGCM:ECDHE+CHACHA20") != 1) {
		snprintf(err, errlen, "TLS: cannot set the groups and cipher suites");
		goto fail;
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
	SSL_CTX_sess_set_new_cb(ctx, uplink_on_new_session);
	if (up->cfg.ca_file[0] && SSL_CTX_load_verify_locations(ctx, up->cfg.ca_file, NULL) != 1) {
		snprintf(err, errlen, "STAGEVISOR_CA_FILE: cannot load %s", up->cfg.ca_file);
		goto fail;
	}
	if (up->cfg.have_pin)
		SSL_CTX_set_cert_verify_callback(ctx, uplink_on_verify, up);
	else if (!up->cfg.ca_file[0]) {
		snprintf(err, errlen, "neither a pin nor a CA bundle: refusing an unverified server");
		goto fail;
	}
	return ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
}

static bool is_ip_literal(const char *host)
{
	unsigned char buf[16];

	return inet_pton(AF_INET, host, buf) == 1 || inet_pton(AF_INET6, host, buf) == 1;
}

/* ---- the connection ----------------------------------------------------------------------- */

static void uplink_on_close(struct evhttp_connection *conn, void *arg)
{
	struct uplink *up = arg;

	if (conn == up->conn)
		up->conn_dead = true;
}

static struct evhttp_connection *conn_new(struct uplink *up)
{
	SSL *ssl = SSL_new(up->ctx);
	struct bufferevent *bev = NULL;
	struct evhttp_connection *conn;
	struct timeval tv;

	if (!ssl)
		return NULL;
	SSL_set_app_data(ssl, up);
	if (up->session && SSL_SESSION_is_resumable(up->session))
		SSL_set_session(ssl, up->session);
	if (is_ip_literal(up->cfg.host)) {
		if (up->cfg.ca_file[0] &&
		    X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), up->cfg.host) != 1)
			goto fail;
	} else {
		SSL_set_tlsext_host_name(ssl, up->cfg.host);
		if (up->cfg.ca_file[0] && SSL_set1_host(ssl, up->cfg.host) != 1)
			goto fail;
	}
	bev = bufferevent_openssl_socket_new(up->base, -1, ssl, BUFFEREVENT_SSL_CONNECTING,
					     BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
	if (!bev)
		goto fail;
	ssl = NULL; /* the bufferevent owns it now */
	bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
	conn = evhttp_connection_base_bufferevent_new(up->base, NULL, bev, up->cfg.host,
						      (unsigned short)up->cfg.port);
	if (!conn) {
		bufferevent_free(bev);
		return NULL;
	}
	ms_to_tv(up->cfg.timeout_ms, &tv);
	evhttp_connection_set_timeout_tv(conn, &tv);
	evhttp_connection_set_retries(conn, 0);
	evhttp_connection_set_max_body_size(conn, PR_RESPONSE_MAX);
	evhttp_connection_set_max_headers_size(conn, 16 * 1024);
	evhttp_connection_set_closecb(conn, uplink_on_close, up);
	up->st.connections++;
	up->conn_nodelay = false;
	up->conn_ok = 0;
	return conn;
fail:
	SSL_free(ssl);
	return NULL;
}

static void conn_drop(struct uplink *up)
{
	if (up->conn) {
		struct evhttp_connection *c = up->conn;
		up->conn = NULL;
		evhttp_connection_free(c);
	}
	up->conn_dead = false;
}

/* ---- outcomes ----------------------------------------------------------------------------- */

static void finish_now(struct uplink *up, int acked_all)
{
	if (up->finished)
		return;
	up->finished = true;
	up->done_due = up->done != NULL;
	up->done_acked_all = acked_all;
	if (up->st.failures > 0)
		up_log(up, "%llu of %llu events acknowledged; %llu requests, %llu failed (%llu timed out), "
			   "%llu connections (%llu resumed the TLS session)",
		       (unsigned long long)up->st.acked, (unsigned long long)up->last_seq,
		       (unsigned long long)up->st.requests, (unsigned long long)up->st.failures,
		       (unsigned long long)up->st.timeouts, (unsigned long long)up->st.connections,
		       (unsigned long long)up->st.resumed);
	evtimer_del(up->flush_ev);
	evtimer_del(up->stall_ev);
	evtimer_del(up->retry_ev);
	evtimer_del(up->deadline_ev);
	kick(up);
}

static void schedule_retry(struct uplink *up, unsigned delay_ms)
{
	struct timeval tv;

	ms_to_tv(delay_ms, &tv);
	up->waiting_retry = true;
	evtimer_add(up->retry_ev, &tv);
}

/*
 * A request failed: status 0 for a connection failure or timeout. A kept-alive connection that
 * had answered before and now broke (closed while idle, or cut), or a connection that broke
 * after the ack advanced (now: uplink_pacer_broken()), is replaced and the request retried at
 * once; every other failure waits for the backoff.
 */
static void on_failure(struct uplink *up, int status, const char *retry_after, const char *why,
		       bool now)
{
	unsigned delay;
	long ra;

	up->st.failures++;
	if (status == 0 && (up->conn_ok > 0 || now)) {
		up->conn_dead = true;
		up->conn_ok = 0;
		schedule_retry(up, 0);
		return;
	}
	delay = uplink_backoff_delay_ms(up->attempt, up->cfg.backoff_base_ms, up->cfg.backoff_cap_ms,
					uplink_backoff_rand(&up->rng));
	if (status >= 400 && status < 500 && status != 408 && status != 429)
		delay = up->cfg.backoff_cap_ms; /* the agent cannot fix it by retrying soon */
	ra = uplink_retry_after_ms(retry_after, UPLINK_RETRY_AFTER_MAX_MS);
	if ((status == 429 || status == 503) && ra > (long)delay)
		delay = (unsigned)ra;
	if (up->attempt < 64)
		up->attempt++;
	/* The first failure of a streak, then every 20th, so a long outage does not flood. */
	if (up->attempt == 1 || up->attempt % 20 == 0)
		up_log(up, "%s; retrying in %u ms (failure %u in a row, %llu events waiting)", why,
		       delay, up->attempt, (unsigned long long)uplink_spool_count(up->spool));
	if (status == 0)
		up->conn_dead = true;
	schedule_retry(up, delay);
}

static void apply_response(struct uplink *up, const struct pr_response *r, size_t sent,
			   unsigned rtt_us)
{
	/* Control flags count whatever else the answer says. */
	if (r->cancel && !up->cancelled) {
		up->cancelled = true;
		up->tell_cancel = true;
	}
	if (r->detach && !up->detached) {
		up->detached = true;
		up->tell_detach = true;
		uplink_spool_drop(up->spool, UINT64_MAX);
		if (up->finishing)
			finish_now(up, up->acked == up->last_seq);
		return;
	}
	if (r->ack > up->last_seq) {
		on_failure(up, 200, NULL, "the coordinator acknowledged events never sent", false);
		return;
	}
	if (r->ack < up->acked) {
		/* It lost what it had stored; those events are gone here. Say so, keep going. */
		on_failure(up, 200, NULL, "the coordinator's ack went backwards", false);
		return;
	}
	if (r->ack == up->acked && sent > 0) {
		/* Nothing of the batch was kept: resending at once could spin. */
		on_failure(up, 200, NULL,
			   r->resend_from ? "the coordinator asks for a resend"
					  : "the coordinator kept nothing of the batch",
			   false);
		return;
	}
	if (up->attempt > 0)
		up_log(up, "delivering again after %u failed attempts", up->attempt);
	up->attempt = 0;
	if (up->conn_ok++ == 0 && up->conn) {
		SSL *ssl = bufferevent_openssl_get_ssl(evhttp_connection_get_bufferevent(up->conn));
		if (ssl && SSL_session_reused(ssl))
			up->st.resumed++;
	}
	uplink_pacer_answered(&up->pacer, rtt_us, r->ack > up->acked);
	uplink_spool_drop(up->spool, r->ack - up->acked);
	up->acked = r->ack;
	up->st.acked = r->ack;
}

static unsigned us_since(const struct timespec *t0)
{
	struct timespec t;
	long long us;

	clock_gettime(CLOCK_MONOTONIC, &t);
	us = (long long)(t.tv_sec - t0->tv_sec) * 1000000 + (t.tv_nsec - t0->tv_nsec) / 1000;
	return us < 0 ? 0 : us > 600000000 ? 600000000u : (unsigned)us;
}

/* The request in flight got no answer: the connection broke or (timed_out) stalled. */
static void request_broken(struct uplink *up, size_t sent_bytes, bool timed_out)
{
	char why[256];
	bool now = uplink_pacer_broken(&up->pacer, sent_bytes, timed_out);

	if (up->tls_error[0])
		snprintf(why, sizeof why, "TLS: %s", up->tls_error);
	else if (timed_out)
		snprintf(why, sizeof why, "no answer from %.100s:%u within %u ms", up->cfg.host,
			 up->cfg.port, up->stall_ms);
	else
		snprintf(why, sizeof why, "no answer from %.100s:%u (connection failed or timed out)",
			 up->cfg.host, up->cfg.port);
	up->tls_error[0] = '\0';
	on_failure(up, 0, NULL, why, now);
}

static void request_done(struct uplink *up)
{
	up->req = NULL;
	evtimer_del(up->stall_ev);
	if (up->unsent_bytes >= up->inflight_bytes)
		up->unsent_bytes -= up->inflight_bytes;
	else
		up->unsent_bytes = 0;
	up->inflight = 0;
	up->inflight_bytes = 0;
}

static void uplink_on_response(struct evhttp_request *req, void *arg)
{
	struct uplink *up = arg;
	int code = req ? evhttp_request_get_response_code(req) : 0;
	char why[256];
	size_t sent = up->inflight, sent_bytes = up->inflight_bytes;
	unsigned rtt_us = us_since(&up->sent_at);

	request_done(up);
	if (up->finished)
		return;
	if (code == 200) {
		struct evbuffer *in = evhttp_request_get_input_buffer(req);
		size_t len = evbuffer_get_length(in);
		struct pr_response r;
		struct pr_error err;
		unsigned char *body = evbuffer_pullup(in, -1);
		if (pr_response_parse((const char *)body, len, &r, &err) < 0) {
			snprintf(why, sizeof why, "a 200 answer that is not a response: %s", err.text);
			on_failure(up, 200, NULL, why, false);
		} else {
			apply_response(up, &r, sent, rtt_us);
		}
	} else if (code == 0) {
		request_broken(up, sent_bytes, false);
	} else {
		const char *ra = evhttp_find_header(evhttp_request_get_input_headers(req),
						    "Retry-After");
		snprintf(why, sizeof why, "the coordinator answered %d", code);
		on_failure(up, code, ra, why, false);
	}
	kick(up);
}

/*
 * The request in flight outlived the pacer's timeout (a stalled path, or a coordinator much
 * slower than its round trips so far): abandon it and its connection, retry on a new one.
 */
static void uplink_on_stall(evutil_socket_t fd, short what, void *arg)
{
	struct uplink *up = arg;
	struct evhttp_request *req = up->req;
	size_t sent_bytes = up->inflight_bytes;

	if (!req || up->finished)
		return;
	request_done(up);
	evhttp_cancel_request(req); /* frees it without calling back; resets the connection */
	up->conn_dead = true;
	up->st.timeouts++;
	request_broken(up, sent_bytes, true);
	kick(up);
}

/* ---- sending -------------------------------------------------------------------------------- */

static int send_batch(struct uplink *up)
{
	struct evhttp_request *req = NULL;
	struct evbuffer *out;
	struct evkeyvalq *h;
	size_t n = 0, before, limit;
	struct timeval tv;

	if (!up->conn) {
		up->conn = conn_new(up);
		if (!up->conn) {
			on_failure(up, 0, NULL, "cannot set up a connection", false);
			return -1;
		}
	}
	req = evhttp_request_new(uplink_on_response, up);
	if (!req)
		goto fail;
	out = evhttp_request_get_output_buffer(req);
	if (evbuffer_add(out, up->prefix, up->prefix_len) < 0)
		goto fail;
	before = evbuffer_get_length(out);
	limit = uplink_pacer_limit(&up->pacer);
	limit = limit > up->prefix_len + 2 ? limit - up->prefix_len - 2 : 1;
	if (uplink_spool_copy(up->spool, out, up->cfg.batch_events, limit, &n) < 0) {
		up_log(up, "the spool file cannot be read");
		goto fail;
	}
	if (evbuffer_add(out, PR_BATCH_SUFFIX, 2) < 0)
		goto fail;
	/* A small body in one piece goes out as one TLS record, not one per spool chunk (22
	 * bytes each: they count on a path that cuts every few KB). */
	if (evbuffer_get_length(out) <= 16 * 1024u)
		evbuffer_pullup(out, -1);
	h = evhttp_request_get_output_headers(req);
	if (evhttp_add_header(h, "Host", up->hosthdr) < 0 ||
	    evhttp_add_header(h, "Authorization", up->auth) < 0 ||
	    evhttp_add_header(h, "Content-Type", "application/json") < 0)
		goto fail;
	up->inflight = n;
	up->inflight_bytes = evbuffer_get_length(out) - before;
	up->req = req;
	if (evhttp_make_request(up->conn, req, EVHTTP_REQ_POST, up->cfg.path) < 0) {
		/* libevent has taken or freed the request: do not touch it again */
		up->req = NULL;
		up->inflight = 0;
		on_failure(up, 0, NULL, "cannot send a request", false);
		return -1;
	}
	up->st.requests++;
	clock_gettime(CLOCK_MONOTONIC, &up->sent_at);
	up->stall_ms = uplink_pacer_timeout_ms(&up->pacer, up->inflight_bytes);
	ms_to_tv(up->stall_ms, &tv);
	evtimer_add(up->stall_ev, &tv);
	if (!up->conn_nodelay) {
		/* The socket exists once the request started connecting. Without TCP_NODELAY the
		 * TLS records of one request wait for delayed ACKs (40 ms per request). */
		int fd = bufferevent_getfd(evhttp_connection_get_bufferevent(up->conn)), one = 1;
		if (fd >= 0 && setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) == 0)
			up->conn_nodelay = true;
	}
	return 0;
fail:
	if (req)
		evhttp_request_free(req);
	on_failure(up, 0, NULL, "cannot build a request (out of memory?)", false);
	return -1;
}

/* The one place where things happen: called from the loop's top level. */
static void step(struct uplink *up)
{
	if (up->conn_dead && !up->req)
		conn_drop(up);
	if (up->finished) {
		if (up->req) {
			struct evhttp_request *r = up->req;
			up->req = NULL;
			evhttp_cancel_request(r);
			up->conn_dead = true;
			conn_drop(up);
		}
	} else if (!up->req && !up->waiting_retry && !up->detached) {
		uint64_t waiting = uplink_spool_count(up->spool);
		/* Send now when finishing, when a batch is full, or when these events waited for
		 * a request in flight already; else the flush timer sends them. */
		if (up->finishing && up->acked == up->last_seq) {
			finish_now(up, 1);
		} else if (waiting > 0 &&
			   (up->finishing || !evtimer_pending(up->flush_ev, NULL) ||
			    up->unsent_bytes >= up->cfg.batch_bytes || waiting >= up->cfg.batch_events)) {
			evtimer_del(up->flush_ev);
			send_batch(up);
		}
	}
}

static void uplink_on_kick(evutil_socket_t fd, short what, void *arg)
{
	struct uplink *up = arg;
	bool cancel, detach, due;
	void (*done)(void *, int);
	void *done_arg;
	int all;

	step(up);
	/* User callbacks last, from saved copies: they may free the uplink. */
	cancel = up->tell_cancel;
	detach = up->tell_detach;
	up->tell_cancel = up->tell_detach = false;
	due = up->done_due;
	up->done_due = false;
	done = up->done;
	done_arg = up->done_arg;
	all = up->done_acked_all;
	if ((cancel || detach) && up->cfg.on_control)
		up->cfg.on_control(up->cfg.cb_arg, cancel, detach);
	if (due)
		done(done_arg, all);
}

static void uplink_on_flush(evutil_socket_t fd, short what, void *arg)
{
	struct uplink *up = arg;

	if (!up->req && !up->waiting_retry && !up->finished && !up->detached &&
	    uplink_spool_count(up->spool) > 0)
		send_batch(up);
}

static void uplink_on_retry(evutil_socket_t fd, short what, void *arg)
{
	struct uplink *up = arg;

	up->waiting_retry = false;
	kick(up);
}

static void uplink_on_deadline(evutil_socket_t fd, short what, void *arg)
{
	struct uplink *up = arg;

	if (up->acked != up->last_seq)
		up_log(up, "stop budget used up with %llu events unacknowledged",
		       (unsigned long long)(up->last_seq - up->acked));
	finish_now(up, up->acked == up->last_seq);
}

/* ---- the API -------------------------------------------------------------------------------- */

struct uplink *uplink_new(struct event_base *base, const struct uplink_config *cfg, char *err,
			  size_t errlen)
{
	struct uplink *up = calloc(1, sizeof *up);
	char spool_path[sizeof cfg->spool_path + 64];
	int n;

	if (!up) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	up->base = base;
	up->cfg = *cfg;
	if (!pr_stream_valid(cfg->stream) || !pr_token_valid(cfg->token) || !cfg->host[0] ||
	    cfg->path[0] != '/') {
		snprintf(err, errlen, "incomplete uplink configuration (stream, token, URL)");
		goto fail;
	}
	if (up->cfg.batch_events == 0 || up->cfg.batch_events > PR_BATCH_EVENTS_MAX)
		up->cfg.batch_events = PR_BATCH_EVENTS_MAX;
	if (up->cfg.batch_bytes < 1024 || up->cfg.batch_bytes > PR_BODY_MAX - 1024)
		up->cfg.batch_bytes = up->cfg.batch_bytes < 1024 ? 1024 : PR_BODY_MAX - 1024;
	if (up->cfg.backoff_cap_ms < up->cfg.backoff_base_ms)
		up->cfg.backoff_cap_ms = up->cfg.backoff_base_ms;
	if (up->cfg.timeout_ms == 0)
		up->cfg.timeout_ms = UPLINK_TIMEOUT_MS_DEFAULT;
	if (cfg->spool_path[0]) {
		snprintf(spool_path, sizeof spool_path, "%s", cfg->spool_path);
	} else {
		const char *tmp = getenv("TMPDIR");
		snprintf(spool_path, sizeof spool_path, "%s/stagevisor-spool-%s",
			 tmp && *tmp ? tmp : "/tmp", cfg->stream);
	}
	up->spool = uplink_spool_new(cfg->stream, cfg->buffer_bytes, cfg->spool_bytes, spool_path);
	n = pr_batch_prefix(cfg->stream, up->prefix, sizeof up->prefix);
	if (!up->spool || n < 0) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	up->prefix_len = (size_t)n;
	uplink_pacer_init(&up->pacer, up->cfg.batch_bytes, up->cfg.timeout_ms);
	if (strchr(cfg->host, ':'))
		snprintf(up->hosthdr, sizeof up->hosthdr, "[%s]:%u", cfg->host, cfg->port);
	else if (cfg->port != 443)
		snprintf(up->hosthdr, sizeof up->hosthdr, "%s:%u", cfg->host, cfg->port);
	else
		snprintf(up->hosthdr, sizeof up->hosthdr, "%s", cfg->host);
	snprintf(up->auth, sizeof up->auth, "Bearer %s", cfg->token);
	up->kick_ev = event_new(base, -1, 0, uplink_on_kick, up);
	up->flush_ev = evtimer_new(base, uplink_on_flush, up);
	up->retry_ev = evtimer_new(base, uplink_on_retry, up);
	up->deadline_ev = evtimer_new(base, uplink_on_deadline, up);
	up->stall_ev = evtimer_new(base, uplink_on_stall, up);
	if (!up->kick_ev || !up->flush_ev || !up->retry_ev || !up->deadline_ev || !up->stall_ev) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	/* OpenSSL is initialised here, and only here: an agent without an uplink never is. */
	up->ctx = tls_ctx_new(up, err, errlen);
	if (!up->ctx)
		goto fail;
	if (RAND_bytes((unsigned char *)&up->rng, sizeof up->rng) != 1 || up->rng == 0)
		up->rng = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32) ^ 0x9e3779b97f4a7c15ull;
	return up;
fail:
	uplink_free(up);
	return NULL;
}

int uplink_push(struct uplink *up, const json_t *event, const char *compact, size_t len)
{
	const json_t *seqv = json_object_get(event, "seq");
	const char *stream = json_string_value(json_object_get(event, "stream"));
	const char *ts = json_string_value(json_object_get(event, "ts"));
	char *owned = NULL;
	uint64_t seq;
	int rc;

	if (!up || up->finished || up->detached)
		return -1;
	if (!json_is_integer(seqv) || json_integer_value(seqv) < 1 || !stream ||
	    strcmp(stream, up->cfg.stream) != 0 || !ts)
		return -1;
	seq = (uint64_t)json_integer_value(seqv);
	if (up->last_seq && seq != up->last_seq + 1)
		return -1;
	if (!compact) {
		owned = pr_event_encode(event, &len);
		if (!owned)
			return -1;
		compact = owned;
	}
	rc = uplink_spool_push(up->spool, seq, pr_event_type(event) == PR_TYPE_LOG, compact, len, ts);
	free(owned);
	if (rc < 0)
		return -1;
	if (!up->last_seq)
		up->acked = seq - 1;
	up->last_seq = seq;
	up->st.pushed++;
	up->unsent_bytes += len;
	if (!up->warned_over) {
		struct uplink_spool_stats ss;
		uplink_spool_stats(up->spool, &ss);
		if (ss.over_bound) {
			up->warned_over = true;
			up_log(up, "memory and spool are full: keeping results beyond the bound "
				   "(log lines are being shed)");
		}
	}
	if (!up->req && !up->waiting_retry) {
		if (up->finishing || up->unsent_bytes >= up->cfg.batch_bytes ||
		    uplink_spool_count(up->spool) >= up->cfg.batch_events) {
			kick(up);
		} else if (!evtimer_pending(up->flush_ev, NULL)) {
			struct timeval tv;
			ms_to_tv(up->cfg.flush_delay_ms, &tv);
			evtimer_add(up->flush_ev, &tv);
		}
	}
	return rc;
}

void uplink_sink(void *arg, json_t *event, const char *compact, size_t len)
{
	uplink_push(arg, event, compact, len);
}

void uplink_finish(struct uplink *up, const struct timeval *budget,
		   void (*done)(void *arg, int acked_all), void *arg)
{
	struct timeval tv = {30, 0};

	if (!up || up->finishing)
		return;
	up->finishing = true;
	up->done = done;
	up->done_arg = arg;
	if (budget)
		tv = *budget;
	if (up->detached) {
		finish_now(up, up->acked == up->last_seq);
		return;
	}
	evtimer_add(up->deadline_ev, &tv);
	kick(up);
}

uint64_t uplink_shed_logs(const struct uplink *up)
{
	struct uplink_spool_stats ss;

	if (!up)
		return 0;
	uplink_spool_stats(up->spool, &ss);
	return ss.shed;
}

void uplink_get_stats(const struct uplink *up, struct uplink_stats *st)
{
	struct uplink_spool_stats ss;

	*st = up->st;
	uplink_spool_stats(up->spool, &ss);
	st->shed_log = ss.shed;
	st->over_bound = ss.over_bound;
	st->mem_bytes = ss.mem_bytes;
	st->spool_bytes = ss.file_bytes;
	st->detached = up->detached;
	st->cancelled = up->cancelled;
}

void uplink_free(struct uplink *up)
{
	if (!up)
		return;
	/* Freeing the connection frees a request in flight without calling back. */
	up->req = NULL;
	conn_drop(up);
	if (up->kick_ev)
		event_free(up->kick_ev);
	if (up->flush_ev)
		event_free(up->flush_ev);
	if (up->retry_ev)
		event_free(up->retry_ev);
	if (up->deadline_ev)
		event_free(up->deadline_ev);
	if (up->stall_ev)
		event_free(up->stall_ev);
	uplink_spool_free(up->spool);
	SSL_SESSION_free(up->session);
	SSL_CTX_free(up->ctx);
	free(up);
}
