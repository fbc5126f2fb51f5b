/* ingest — see ingest.h. */
#include "ingest.h"

#include "protocol/protocol.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/util.h>
#include <openssl/crypto.h>
#include <openssl/err.h>

#define INGEST_MAX_HEADERS (16u << 10)
#define INGEST_MAX_FAULTS 8

struct ingest_route {
	struct stream *stream;
	char *token;
};

struct ingest_fault {
	int status;
	unsigned remaining;
};

struct ingest {
	struct event_base *base;
	SSL_CTX *ctx;
	struct evhttp *http;
	struct evhttp_bound_socket *bound;
	int conn_idx; /* SSL ex_data index of the struct ingest_conn */
	size_t max_body;
	unsigned max_conns;
	struct ingest_route *routes;
	size_t nroutes, caproutes;
	struct ingest_fault faults[INGEST_MAX_FAULTS];
	size_t nfaults;
	struct ingest_core *core;
};

/*
 * What connections share with the server. libevent finalizes bufferevents (and so frees their
 * SSL objects and our struct ingest_conn) lazily, possibly after ingest_free() during
 * event_base_free(), so connections hold a counted reference to this, not to the ingest.
 */
struct ingest_core {
	unsigned long refs;
	bool closed;
	struct timeval timeout;
	struct ingest_stats stats;
	struct ingest_conn *conns; /* open connections, for ingest_free() */
};

/* One TLS connection. Freed with its SSL object (ex_data free callback), so there is one
 * place where a connection ends, whoever closes it. */
struct ingest_conn {
	struct ingest_core *core;
	struct bufferevent *bev;
	struct event *deadline;
	int refused;
	struct ingest_conn *prev, *next;
};

static void ingest_core_unref(struct ingest_core *core)
{
	if (core && --core->refs == 0)
		free(core);
}

static void ingest_conn_free_ex(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl, void *argp)
{
	struct ingest_conn *c = ptr;

	(void)parent;
	(void)ad;
	(void)idx;
	(void)argl;
	(void)argp;
	if (!c)
		return;
	if (c->core->stats.conns_open > 0)
		c->core->stats.conns_open--;
	if (c->prev)
		c->prev->next = c->next;
	else if (c->core->conns == c)
		c->core->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	if (c->deadline)
		event_free(c->deadline);
	ingest_core_unref(c->core);
	free(c);
}

static struct ingest_conn *ingest_conn_of_bev(struct ingest *in, struct bufferevent *bev)
{
	SSL *ssl = bev ? bufferevent_openssl_get_ssl(bev) : NULL;

	return ssl ? SSL_get_ex_data(ssl, in->conn_idx) : NULL;
}

/* The request deadline expired: drop the connection however far its request got. */
static void ingest_on_deadline(evutil_socket_t fd, short what, void *arg)
{
	struct ingest_conn *c = arg;
	bufferevent_data_cb rd, wr;
	bufferevent_event_cb ev;
	void *cbarg = NULL;

	(void)fd;
	(void)what;
	if (c->core->closed)
		return;
	c->core->stats.conns_expired++;
	/* evhttp keeps its connection as the bufferevent's callback argument. */
	bufferevent_getcb(c->bev, &rd, &wr, &ev, &cbarg);
	if (cbarg)
		evhttp_connection_free(cbarg); /* frees the bufferevent, the SSL and c */
}

static int ingest_on_client_hello(SSL *ssl, int *alert, void *arg)
{
	struct ingest *in = arg;
	struct ingest_conn *c = SSL_get_ex_data(ssl, in->conn_idx);

	if (c && c->refused) {
		*alert = SSL_AD_INTERNAL_ERROR;
		return SSL_CLIENT_HELLO_ERROR;
	}
	return SSL_CLIENT_HELLO_SUCCESS;
}

static struct bufferevent *ingest_on_accept(struct event_base *base, void *arg)
{
	struct ingest *in = arg;
	struct ingest_conn *c = calloc(1, sizeof *c);
	SSL *ssl = NULL;

	if (!c)
		return NULL;
	c->core = in->core;
	ssl = SSL_new(in->ctx);
	if (!ssl || !SSL_set_ex_data(ssl, in->conn_idx, c)) {
		SSL_free(ssl);
		free(c);
		return NULL;
	}
	in->core->refs++;
	c->next = in->core->conns;
	if (c->next)
		c->next->prev = c;
	in->core->conns = c;
	in->core->stats.conns_open++;
	in->core->stats.conns_total++;
	if (in->core->stats.conns_open > in->max_conns) {
		/* Refused in the TLS handshake (see ingest_on_client_hello): evhttp gives us no
		 * way to close a connection it is about to create. */
		c->refused = 1;
		in->core->stats.conns_refused++;
	}
	c->bev = bufferevent_openssl_socket_new(base, -1, ssl, BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
	if (!c->bev)
		return NULL; /* SSL_free happened inside, and with it c */
	bufferevent_openssl_set_allow_dirty_shutdown(c->bev, 1);
	c->deadline = evtimer_new(base, ingest_on_deadline, c);
	if (c->deadline)
		evtimer_add(c->deadline, &in->core->timeout);
	return c->bev;
}

int ingest_parse_path(const char *path, char *id, size_t idlen)
{
	char buf[PR_STREAM_MAX + 1];

	if (pr_path_stream(path, buf) != 0 || strlen(buf) >= idlen)
		return -1;
	memcpy(id, buf, strlen(buf) + 1);
	return 0;
}

int ingest_token_ok(const char *authorization, const char *expected)
{
	char presented[PR_TOKEN_LEN + 1];

	if (pr_token_from_authorization(authorization, presented) != 0)
		return 0;
	return pr_token_equal(presented, expected);
}

static void ingest_answer_text(char *answer, size_t cap, const char *text)
{
	snprintf(answer, cap, "%s", text);
}

/* Skips whitespace; returns the new position. */
static size_t ingest_ws(const char *b, size_t i, size_t len)
{
	while (i < len && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r'))
		i++;
	return i;
}

/* The end of the JSON value that starts at i (one past it); *compact is cleared when the value
 * has whitespace outside its strings. The text is known to be valid JSON. */
static size_t ingest_value_end(const char *b, size_t i, size_t len, bool *compact)
{
	size_t depth = 0;

	for (; i < len; i++) {
		char c = b[i];
		if (c == '"') {
			/* To the closing quote: one not preceded by an odd number of backslashes. */
			for (;;) {
				const char *q = memchr(b + i + 1, '"', len - i - 1);
				size_t bs = 0;
				if (!q)
					return len;
				i = (size_t)(q - b);
				while (b[i - 1 - bs] == '\\')
					bs++;
				if (bs % 2 == 0)
					break;
			}
			if (depth == 0)
				return i + 1;
		} else if (c == '{' || c == '[') {
			depth++;
		} else if (c == '}' || c == ']') {
			if (depth == 0)
				return i; /* the end of the enclosing container */
			if (--depth == 0)
				return i + 1;
		} else if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
			if (depth == 0)
				return i;
			*compact = false;
		} else if (depth == 0 && c == ',') {
			return i;
		}
	}
	return i;
}

int ingest_event_spans(const char *b, size_t len, struct ingest_span *spans, size_t n)
{
	size_t i = ingest_ws(b, 0, len), found = 0;
	bool compact = true;

	if (i >= len || b[i] != '{')
		return -1;
	i = ingest_ws(b, i + 1, len);
	while (i < len && b[i] == '"') {
		size_t kend = ingest_value_end(b, i, len, &compact);
		bool events = kend - i == 8 && memcmp(b + i, "\"events\"", 8) == 0;
		i = ingest_ws(b, kend, len);
		if (i >= len || b[i] != ':')
			return -1;
		i = ingest_ws(b, i + 1, len);
		if (events) {
			if (i >= len || b[i] != '[')
				return -1;
			i = ingest_ws(b, i + 1, len);
			while (i < len && b[i] != ']') {
				size_t vend;
				compact = true;
				vend = ingest_value_end(b, i, len, &compact);
				if (found >= n || vend == i)
					return -1;
				spans[found].off = i;
				spans[found].len = compact ? vend - i : 0;
				found++;
				i = ingest_ws(b, vend, len);
				if (i < len && b[i] == ',')
					i = ingest_ws(b, i + 1, len);
			}
			return found == n ? 0 : -1;
		}
		i = ingest_value_end(b, i, len, &compact);
		i = ingest_ws(b, i, len);
		if (i < len && b[i] == ',')
			i = ingest_ws(b, i + 1, len);
	}
	return -1;
}

int ingest_handle_batch(struct stream *s, const char *body, size_t len, char *answer, size_t cap)
{
	struct pr_batch b;
	struct pr_error e;
	struct pr_ack_plan plan;
	struct pr_response resp = {0};
	struct ingest_span *spans = NULL;
	char why[200];
	int status = 200;

	memset(&e, 0, sizeof e);
	if (pr_batch_decode(body, len, stream_id(s), &b, &e) != 0) {
		ingest_answer_text(answer, cap, e.text);
		return e.status == 413 ? 413 : 400;
	}
	if (pr_ack_plan_batch(stream_ack(s), &b, &plan, &e) != 0) {
		ingest_answer_text(answer, cap, e.text);
		pr_batch_clear(&b);
		return 400;
	}
	/* The events' own bytes go to the store and the JSONL file: no second encoding. When the
	 * body's layout is not what the scanner expects, each event is encoded instead. */
	if (plan.store_count > 0) {
		spans = malloc(b.count * sizeof *spans);
		if (spans && ingest_event_spans(body, len, spans, b.count) != 0) {
			free(spans);
			spans = NULL;
		}
	}
	for (size_t i = plan.store_from; i < plan.store_from + plan.store_count; i++) {
		const char *text = spans && spans[i].len ? body + spans[i].off : NULL;
		size_t tlen = text ? spans[i].len : 0;
		if (stream_add_valid(s, json_array_get(b.events, i), text, tlen, STREAM_FROM_HTTPS, why, sizeof why) < 0) {
			/* Valid by the protocol but not for this stream (a second `end`): stop here;
			 * the ack tells the agent what was kept. */
			ingest_answer_text(answer, cap, why);
			status = 400;
			break;
		}
	}
	free(spans);
	stream_flush(s);
	pr_batch_clear(&b);
	if (status != 200)
		return status;
	resp.ack = stream_ack(s);
	resp.resend_from = plan.resend_from ? resp.ack + 1 : 0;
	resp.cancel = stream_cancel(s);
	resp.detach = stream_detach(s);
	if (pr_response_format(&resp, answer, cap) < 0) {
		ingest_answer_text(answer, cap, "response too large");
		return 500;
	}
	return 200;
}

static void ingest_reply(struct evhttp_request *req, int status, const char *reason, const char *body)
{
	struct evbuffer *out = evhttp_request_get_output_buffer(req);
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);

	evhttp_add_header(h, "Content-Type", status == 200 ? "application/json" : "text/plain; charset=utf-8");
	evbuffer_add(out, body, strlen(body));
	evbuffer_add(out, "\n", 1);
	evhttp_send_reply(req, status, reason, NULL);
}

static struct ingest_route *ingest_find(struct ingest *in, const char *id)
{
	for (size_t i = 0; i < in->nroutes; i++)
		if (strcmp(stream_id(in->routes[i].stream), id) == 0)
			return &in->routes[i];
	return NULL;
}

static int ingest_next_fault(struct ingest *in)
{
	for (size_t i = 0; i < in->nfaults; i++) {
		if (in->faults[i].remaining > 0) {
			in->faults[i].remaining--;
			return in->faults[i].status;
		}
	}
	return 0;
}

static const char *ingest_reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 413: return "Payload Too Large";
	case 429: return "Too Many Requests";
	case 503: return "Service Unavailable";
	default: return "Internal Server Error";
	}
}

static void ingest_request(struct ingest *in, struct evhttp_request *req)
{
	char id[PR_STREAM_MAX + 1], answer[PR_RESPONSE_MAX];
	const char *path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));
	struct ingest_route *route;
	struct evbuffer *body;
	size_t len;
	int status, fault;

	in->core->stats.requests++;
	if (!path || ingest_parse_path(path, id, sizeof id) || !(route = ingest_find(in, id))) {
		ingest_reply(req, 404, ingest_reason(404), "no such stream");
		return;
	}
	if (evhttp_request_get_command(req) != EVHTTP_REQ_POST) {
		evhttp_add_header(evhttp_request_get_output_headers(req), "Allow", "POST");
		ingest_reply(req, 405, ingest_reason(405), "POST only");
		return;
	}
	/* Before anything looks at the body. (libevent 2.1 has no server-side hook between the
	 * headers and the body, so evhttp has read it, within max_body; it is never decoded.) */
	if (!ingest_token_ok(evhttp_find_header(evhttp_request_get_input_headers(req), "Authorization"),
	                     route->token)) {
		in->core->stats.rejected_401++;
		evhttp_add_header(evhttp_request_get_output_headers(req), "WWW-Authenticate", "Bearer");
		ingest_reply(req, 401, ingest_reason(401), "no valid token for this stream");
		return;
	}
	fault = ingest_next_fault(in);
	if (fault) {
		in->core->stats.faults_injected++;
		evhttp_add_header(evhttp_request_get_output_headers(req), "Retry-After", "0");
		ingest_reply(req, fault, ingest_reason(fault), "injected fault (STAGEVISOR_TEST_FAULTS)");
		return;
	}
	body = evhttp_request_get_input_buffer(req);
	len = evbuffer_get_length(body);
	if (len > in->max_body) {
		in->core->stats.rejected_413++;
		ingest_reply(req, 413, ingest_reason(413), "body too large");
		return;
	}
	status = ingest_handle_batch(route->stream, (const char *)evbuffer_pullup(body, -1), len, answer,
	                             sizeof answer);
	if (status == 200)
		in->core->stats.stored_batches++;
	else if (status == 413)
		in->core->stats.rejected_413++;
	else
		in->core->stats.rejected_400++;
	ingest_reply(req, status, ingest_reason(status), answer);
}

static void ingest_on_request(struct evhttp_request *req, void *arg)
{
	struct ingest *in = arg;
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);
	struct ingest_conn *c = evcon ? ingest_conn_of_bev(in, evhttp_connection_get_bufferevent(evcon)) : NULL;

	ingest_request(in, req);
	/* The next request on this connection gets a full deadline of its own. */
	if (c && c->deadline)
		evtimer_add(c->deadline, &in->core->timeout);
}

static int ingest_parse_faults(struct ingest *in, const char *spec)
{
	const char *p = spec;

	while (p && *p) {
		char *end;
		long status = strtol(p, &end, 10), count;
		if (end == p || *end != 'x' || (status != 503 && status != 429 && status != 500))
			return -1;
		p = end + 1;
		count = strtol(p, &end, 10);
		if (end == p || count < 0 || count > 1000000 || in->nfaults >= INGEST_MAX_FAULTS)
			return -1;
		in->faults[in->nfaults].status = (int)status;
		in->faults[in->nfaults].remaining = (unsigned)count;
		in->nfaults++;
		p = *end == ',' ? end + 1 : end;
		if (*end && *end != ',')
			return -1;
	}
	return 0;
}

struct ingest *ingest_new(struct event_base *base, SSL_CTX *ctx, const struct ingest_options *opt)
{
	struct ingest *in = calloc(1, sizeof *in);

	if (!in)
		return NULL;
	in->base = base;
	in->conn_idx = -1;
	in->core = calloc(1, sizeof *in->core);
	if (!in->core)
		goto fail;
	in->core->refs = 1;
	in->max_body = opt && opt->max_body ? opt->max_body : INGEST_MAX_BODY_DEFAULT;
	in->max_conns = opt && opt->max_conns ? opt->max_conns : INGEST_MAX_CONNS_DEFAULT;
	in->core->timeout.tv_sec = opt && opt->timeout_s ? opt->timeout_s : INGEST_TIMEOUT_DEFAULT_S;
	if (opt && opt->faults && ingest_parse_faults(in, opt->faults))
		goto fail;
	if (SSL_CTX_up_ref(ctx) != 1)
		goto fail;
	in->ctx = ctx;
	SSL_CTX_set_client_hello_cb(ctx, ingest_on_client_hello, in);
	in->conn_idx = SSL_get_ex_new_index(0, NULL, NULL, NULL, ingest_conn_free_ex);
	if (in->conn_idx < 0)
		goto fail;
	in->http = evhttp_new(base);
	if (!in->http)
		goto fail;
	evhttp_set_bevcb(in->http, ingest_on_accept, in);
	evhttp_set_gencb(in->http, ingest_on_request, in);
	evhttp_set_max_headers_size(in->http, INGEST_MAX_HEADERS);
	/* evhttp answers 413 itself and stops reading once Content-Length or the chunks exceed this. */
	evhttp_set_max_body_size(in->http, (ev_ssize_t)in->max_body);
	evhttp_set_timeout(in->http, (int)in->core->timeout.tv_sec);
	evhttp_set_allowed_methods(in->http, EVHTTP_REQ_POST | EVHTTP_REQ_GET | EVHTTP_REQ_HEAD |
	                                     EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE | EVHTTP_REQ_OPTIONS);
	return in;
fail:
	ingest_free(in);
	return NULL;
}

void ingest_free(struct ingest *in)
{
	if (!in)
		return;
	if (in->core) {
		in->core->closed = true;
		for (struct ingest_conn *c = in->core->conns; c; c = c->next)
			if (c->deadline)
				event_del(c->deadline);
	}
	if (in->http)
		evhttp_free(in->http); /* closes every connection; their SSL objects go later */
	if (in->ctx) {
		SSL_CTX_set_client_hello_cb(in->ctx, NULL, NULL);
		SSL_CTX_free(in->ctx);
	}
	for (size_t i = 0; i < in->nroutes; i++)
		free(in->routes[i].token);
	free(in->routes);
	ingest_core_unref(in->core);
	free(in);
}

int ingest_listen(struct ingest *in, const char *host, int port)
{
	int one = 1;

	in->bound = evhttp_bind_socket_with_handle(in->http, host, (ev_uint16_t)port);
	if (!in->bound)
		return -1;
	/* Accepted sockets inherit TCP_NODELAY from the listener on Linux. Without it a response
	 * that goes out as two TLS records waits for the peer's delayed ACK (40 ms) each time. */
	setsockopt(evhttp_bound_socket_get_fd(in->bound), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	return 0;
}

int ingest_port(const struct ingest *in)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;
	evutil_socket_t fd;

	if (!in->bound)
		return -1;
	fd = evhttp_bound_socket_get_fd(in->bound);
	if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0)
		return -1;
	if (ss.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)&ss)->sin_port);
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return -1;
}

int ingest_add_stream(struct ingest *in, struct stream *s, const char *token)
{
	struct ingest_route *r;

	if (!token || !*token || ingest_find(in, stream_id(s)))
		return -1;
	if (in->nroutes == in->caproutes) {
		size_t cap = in->caproutes ? in->caproutes * 2 : 8;
		r = realloc(in->routes, cap * sizeof *r);
		if (!r)
			return -1;
		in->routes = r;
		in->caproutes = cap;
	}
	r = &in->routes[in->nroutes];
	r->token = strdup(token);
	if (!r->token)
		return -1;
	r->stream = s;
	in->nroutes++;
	return 0;
}

void ingest_remove_stream(struct ingest *in, struct stream *s)
{
	for (size_t i = 0; i < in->nroutes; i++) {
		if (in->routes[i].stream == s) {
			free(in->routes[i].token);
			in->routes[i] = in->routes[--in->nroutes];
			return;
		}
	}
}

struct ingest_stats ingest_stats(const struct ingest *in)
{
	return in->core->stats;
}
