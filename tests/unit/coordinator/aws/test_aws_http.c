/* Unit tests of coordinator/aws/aws_http.c against a tiny HTTP/1.1 server on 127.0.0.1 (a
 * thread of this test): keep-alive reuse of one handle's connection, the body bound, a reset
 * classified as broken, a refused port as a connection failure, and several requests run
 * together through aws_http_multi; and aws_client in four threads at once, one client each. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "aws_client.h"
#include "aws_http.h"
#include "awsfix.h"

struct server {
	int fd;
	int port;
	int connections; /* accepted so far */
	int requests;
	int reset_next;  /* close the next connection with RST instead of answering */
	pthread_mutex_t mu;
	pthread_t thr;
};

/* Serves one connection: answers each request ("GET /n") with a body of n bytes of 'x'. */
static void *serve_conn(void *arg)
{
	int c = (int)(intptr_t)arg;
	char buf[8192];
	size_t have = 0;

	for (;;) {
		char *end;
		ssize_t n = read(c, buf + have, sizeof buf - 1 - have);
		if (n <= 0)
			break;
		have += (size_t)n;
		buf[have] = '\0';
		while ((end = strstr(buf, "\r\n\r\n"))) {
			size_t len = (size_t)strtoul(buf + 5, NULL, 10), hl = (size_t)(end + 4 - buf);
			char head[200];
			int hn = snprintf(head, sizeof head, "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\nx-amzn-RequestId: r1\r\n\r\n", len);
			char *body = malloc(len + 1);
			memset(body, 'x', len);
			if (write(c, head, (size_t)hn) < 0 || (len && write(c, body, len) < 0)) {
				free(body);
				goto out;
			}
			free(body);
			memmove(buf, buf + hl, have - hl + 1);
			have -= hl;
		}
	}
out:
	close(c);
	return NULL;
}

static void *accept_loop(void *arg)
{
	struct server *s = arg;

	for (;;) {
		pthread_t t;
		int c = accept(s->fd, NULL, NULL);
		if (c < 0)
			return NULL;
		pthread_mutex_lock(&s->mu);
		s->connections++;
		if (s->reset_next) {
			struct linger lg = {1, 0};
			s->reset_next = 0;
			pthread_mutex_unlock(&s->mu);
			/* Read the request first: a reset before it was sent would be a refused
			 * connection to the client, not one broken mid-answer. */
			{
				char req[4096];
				ssize_t got = 0, n;
				while (!memmem(req, (size_t)got, "\r\n\r\n", 4) && got < (ssize_t)sizeof req &&
				       (n = recv(c, req + got, sizeof req - (size_t)got, 0)) > 0)
					got += n;
			}
			setsockopt(c, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
			close(c);
			continue;
		}
		pthread_mutex_unlock(&s->mu);
		pthread_create(&t, NULL, serve_conn, (void *)(intptr_t)c);
		pthread_detach(t);
	}
}

static int setup(void **state)
{
	struct server *s = calloc(1, sizeof *s);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t al = sizeof a;

	pthread_mutex_init(&s->mu, NULL);
	s->fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(s->fd >= 0);
	assert_int_equal(bind(s->fd, (struct sockaddr *)&a, sizeof a), 0);
	assert_int_equal(listen(s->fd, 16), 0);
	getsockname(s->fd, (struct sockaddr *)&a, &al);
	s->port = ntohs(a.sin_port);
	pthread_create(&s->thr, NULL, accept_loop, s);
	assert_int_equal(aws_http_global_init(), 0);
	*state = s;
	return 0;
}

static int teardown(void **state)
{
	struct server *s = *state;

	shutdown(s->fd, SHUT_RDWR);
	close(s->fd);
	pthread_join(s->thr, NULL);
	aws_http_global_cleanup();
	free(s);
	return 0;
}

static int connections(struct server *s)
{
	int n;
	pthread_mutex_lock(&s->mu);
	n = s->connections;
	pthread_mutex_unlock(&s->mu);
	return n;
}

static void keep_alive(void **state)
{
	struct server *s = *state;
	struct aws_http *h = aws_http_new();
	struct aws_http_header hd[] = {{"X-Test", "1"}, {"X-Empty", ""}};
	struct aws_http_request rq = {.method = "GET", .headers = hd, .n_headers = 2, .timeout_ms = 20000};
	struct aws_http_response r;
	char url[64];

	for (int i = 1; i <= 3; i++) {
		snprintf(url, sizeof url, "http://127.0.0.1:%d/%d", s->port, i * 10);
		rq.url = url;
		assert_int_equal(aws_http_perform(h, &rq, &r), 0);
		assert_int_equal(r.outcome, AWS_HTTP_OK);
		assert_int_equal(r.status, 200);
		assert_int_equal(r.len, (size_t)(i * 10));
		assert_string_equal(r.request_id, "r1");
	}
	assert_int_equal(connections(s), 1); /* one connection, kept alive */
	aws_http_free(h);
}

static void body_bound(void **state)
{
	struct server *s = *state;
	struct aws_http *h = aws_http_new();
	char url[64];
	struct aws_http_request rq = {.method = "GET", .url = url, .timeout_ms = 60000};
	struct aws_http_response r;

	snprintf(url, sizeof url, "http://127.0.0.1:%d/%u", s->port, AWS_HTTP_MAX_BODY + 1);
	assert_int_equal(aws_http_perform(h, &rq, &r), -1);
	assert_int_equal(r.outcome, AWS_HTTP_TOO_LARGE);
	aws_http_free(h);
}

static void reset_and_refused(void **state)
{
	struct server *s = *state;
	struct aws_http *h = aws_http_new();
	char url[64];
	struct aws_http_request rq = {.method = "GET", .url = url, .timeout_ms = 20000};
	struct aws_http_response r;

	pthread_mutex_lock(&s->mu);
	s->reset_next = 1;
	pthread_mutex_unlock(&s->mu);
	snprintf(url, sizeof url, "http://127.0.0.1:%d/5", s->port);
	assert_int_equal(aws_http_perform(h, &rq, &r), -1);
	assert_int_equal(r.outcome, AWS_HTTP_BROKEN);
	/* a port nobody listens on (this server's, once closed, is not reliable: use port 1) */
	snprintf(url, sizeof url, "http://127.0.0.1:1/5");
	assert_int_equal(aws_http_perform(h, &rq, &r), -1);
	assert_int_equal(r.outcome, AWS_HTTP_CONNECT);
	assert_true(r.error[0] != '\0');
	aws_http_free(h);
}

static void multi(void **state)
{
	struct server *s = *state;
	struct aws_http_multi *m = aws_http_multi_new();
	struct aws_http *h[3];
	struct aws_http_request rq[3];
	char url[3][64];
	int done[3] = {0, 0, 0}, n = 0;

	for (int i = 0; i < 3; i++) {
		h[i] = aws_http_new();
		snprintf(url[i], sizeof url[i], "http://127.0.0.1:%d/%d", s->port, 100 + i);
		memset(&rq[i], 0, sizeof rq[i]);
		rq[i].method = "GET";
		rq[i].url = url[i];
		rq[i].timeout_ms = 20000;
		assert_int_equal(aws_http_multi_add(m, h[i], &rq[i]), 0);
	}
	while (n < 3) {
		struct aws_http_response r;
		struct aws_http *got = aws_http_multi_take(m, 1000, &r);
		if (!got)
			continue;
		for (int i = 0; i < 3; i++)
			if (got == h[i]) {
				assert_int_equal(r.outcome, AWS_HTTP_OK);
				assert_int_equal(r.len, (size_t)(100 + i));
				assert_false(done[i]);
				done[i] = 1;
				n++;
			}
	}
	assert_null(aws_http_multi_take(m, 0, &(struct aws_http_response){0}));
	for (int i = 0; i < 3; i++)
		aws_http_free(h[i]);
	aws_http_multi_free(m);
}

struct lane {
	struct server *s;
	int ok;
	char err[300];
};

/* One client per thread, no shared state: each makes 20 signed calls on its own connection. */
static void *lane_run(void *arg)
{
	struct lane *l = arg;
	char endpoint[64];
	struct fake_env env = {{"AWS_ACCESS_KEY_ID", "AKIDLANE", "AWS_SECRET_ACCESS_KEY", "lane-secret",
	                        "AWS_CONFIG_FILE", "/nonexistent/config", "AWS_SHARED_CREDENTIALS_FILE",
	                        "/nonexistent/credentials", "AWS_EC2_METADATA_DISABLED", "true", "AWS_REGION", "eu-west-1",
	                        "AWS_ENDPOINT_URL", endpoint, NULL}};
	struct aws_client_options o = {.env = fake_getenv, .env_arg = &env, .timeout_ms = 20000};
	struct aws_client *c;
	struct aws_call call = {.service = "s3", .operation = "GetObject", .method = "GET", .path = "/7"};
	struct aws_result r;

	snprintf(endpoint, sizeof endpoint, "http://127.0.0.1:%d", l->s->port);
	c = aws_client_new(&o, l->err, sizeof l->err);
	if (!c)
		return NULL;
	for (int i = 0; i < 20; i++) {
		if (aws_client_call(c, &call, &r) == 0 && r.status == 200 && r.len == 7 && r.attempts == 1)
			l->ok++;
		else
			aws_error_format(&r.error, "s3", "GetObject", l->err, sizeof l->err);
		aws_result_clear(&r);
	}
	aws_client_free(c);
	return NULL;
}

static void clients_in_threads(void **state)
{
	struct server *s = *state;
	struct lane lanes[4];
	pthread_t t[4];

	for (int i = 0; i < 4; i++) {
		memset(&lanes[i], 0, sizeof lanes[i]);
		lanes[i].s = s;
		assert_int_equal(pthread_create(&t[i], NULL, lane_run, &lanes[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		if (lanes[i].ok != 20)
			fail_msg("lane %d: %d of 20 calls: %s", i, lanes[i].ok, lanes[i].err);
	}
	assert_int_equal(connections(s), 4); /* one kept-alive connection per client */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(keep_alive, setup, teardown),
		cmocka_unit_test_setup_teardown(body_bound, setup, teardown),
		cmocka_unit_test_setup_teardown(reset_and_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(multi, setup, teardown),
		cmocka_unit_test_setup_teardown(clients_in_threads, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
