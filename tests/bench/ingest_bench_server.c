/*
 * ingest_bench_server — the coordinator's ingest server with N streams and no agent, for the
 * benchmark (tests/bench/ingest_bench.sh) and the ingest fault tests
 * (tests/integration/test_coord_ingest.py). Not shipped; built as sv_ingest_server.
 *
 * Prints one JSON line on stdout once listening:
 *   {"url":"https://127.0.0.1:PORT/","port":PORT,"pin":"…","streams":[{"id":…,"token":…},…]}
 * On SIGUSR1 prints a stats line {"stats":{…}}; on SIGTERM/SIGINT prints it and exits 0.
 * Options: --streams N (1), --listen ADDR:PORT (127.0.0.1:0), --max-connections N,
 * --io-timeout S, --max-body BYTES, --faults SPEC (as STAGEVISOR_TEST_FAULTS),
 * --dir DIR (write each stream's events.jsonl there, as `run` does; default: none).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <event2/event.h>
#include <jansson.h>
#include <openssl/rand.h>

#include "cert.h"
#include "ingest.h"
#include "protocol/protocol.h"
#include "stream.h"

struct bench {
	struct event_base *base;
	struct ingest *ingest;
	struct stream **streams;
	size_t n;
};

static long rss_kb(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long kb = -1;

	while (f && fgets(line, sizeof line, f))
		if (strncmp(line, "VmRSS:", 6) == 0)
			kb = strtol(line + 6, NULL, 10);
	if (f)
		fclose(f);
	return kb;
}

static void print_stats(const struct bench *b)
{
	struct ingest_stats st = ingest_stats(b->ingest);
	struct rusage ru;
	unsigned long long stored = 0, dups = 0;
	json_t *acks = json_array();

	getrusage(RUSAGE_SELF, &ru);
	for (size_t i = 0; i < b->n; i++) {
		struct stream_tally t = stream_tally(b->streams[i]);
		stored += t.stored + (stream_end(b->streams[i]) ? 1 : 0);
		dups += t.duplicates;
		json_array_append_new(acks, json_integer((json_int_t)stream_ack(b->streams[i])));
	}
	json_t *o = json_pack("{s:{s:I,s:I,s:o,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:f,s:f}}", "stats",
	                      "stored", (json_int_t)stored, "duplicates", (json_int_t)dups, "acks", acks,
	                      "conns_open", (json_int_t)st.conns_open, "conns_total", (json_int_t)st.conns_total,
	                      "conns_refused", (json_int_t)st.conns_refused, "conns_expired",
	                      (json_int_t)st.conns_expired, "requests", (json_int_t)st.requests, "batches",
	                      (json_int_t)st.stored_batches, "r401", (json_int_t)st.rejected_401, "r400",
	                      (json_int_t)st.rejected_400, "r413", (json_int_t)st.rejected_413, "faults",
	                      (json_int_t)st.faults_injected, "rss_kb", (json_int_t)rss_kb(), "maxrss_kb",
	                      (json_int_t)ru.ru_maxrss, "cpu_user_s",
	                      ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6, "cpu_sys_s",
	                      ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6);
	json_dumpf(o, stdout, JSON_COMPACT);
	printf("\n");
	fflush(stdout);
	json_decref(o);
}

static void bench_on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct bench *b = arg;

	(void)what;
	print_stats(b);
	if (sig != SIGUSR1)
		event_base_loopbreak(b->base);
}

int main(int argc, char **argv)
{
	struct bench b = {0};
	struct ingest_options io = {0};
	const char *listen = "127.0.0.1:0", *dir = NULL;
	char host[128] = "127.0.0.1", path[4096];
	int port = 0;
	struct cert *cert;
	SSL_CTX *ctx;
	json_t *out, *list;
	struct event *ev[3];
	struct rlimit rl;

	b.n = 1;
	for (int i = 1; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--streams") == 0)
			b.n = strtoul(argv[i + 1], NULL, 10);
		else if (strcmp(argv[i], "--listen") == 0)
			listen = argv[i + 1];
		else if (strcmp(argv[i], "--max-connections") == 0)
			io.max_conns = (unsigned)strtoul(argv[i + 1], NULL, 10);
		else if (strcmp(argv[i], "--io-timeout") == 0)
			io.timeout_s = (unsigned)strtoul(argv[i + 1], NULL, 10);
		else if (strcmp(argv[i], "--max-body") == 0)
			io.max_body = strtoul(argv[i + 1], NULL, 10);
		else if (strcmp(argv[i], "--faults") == 0)
			io.faults = argv[i + 1];
		else if (strcmp(argv[i], "--dir") == 0)
			dir = argv[i + 1];
		else {
			fprintf(stderr, "unknown option %s\n", argv[i]);
			return 2;
		}
	}
	{
		const char *colon = strrchr(listen, ':');
		if (!colon || (size_t)(colon - listen) >= sizeof host)
			return 2;
		memcpy(host, listen, (size_t)(colon - listen));
		host[colon - listen] = '\0';
		port = atoi(colon + 1);
	}
	signal(SIGPIPE, SIG_IGN);
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	b.base = event_base_new();
	cert = cert_new_ephemeral(NULL);
	ctx = cert ? cert_server_ctx(cert) : NULL;
	b.ingest = ctx ? ingest_new(b.base, ctx, &io) : NULL;
	if (!b.ingest || ingest_listen(b.ingest, host, port) != 0) {
		fprintf(stderr, "ingest_bench_server: cannot listen on %s\n", listen);
		return 1;
	}
	b.streams = calloc(b.n, sizeof *b.streams);
	list = json_array();
	for (size_t i = 0; i < b.n; i++) {
		char id[32], token[PR_TOKEN_LEN + 1];
		unsigned char rnd[PR_TOKEN_RANDOM];
		snprintf(id, sizeof id, "bench-%zu", i);
		RAND_bytes(rnd, sizeof rnd);
		pr_token_format(rnd, token);
		if (dir)
			snprintf(path, sizeof path, "%s/%s.jsonl", dir, id);
		b.streams[i] = stream_new(id, dir ? path : NULL, 0);
		if (!b.streams[i] || ingest_add_stream(b.ingest, b.streams[i], token) != 0)
			return 1;
		json_array_append_new(list, json_pack("{s:s,s:s}", "id", id, "token", token));
	}
	/* Before the line that tells the test we are up: its first SIGUSR1 must find a handler. */
	ev[0] = evsignal_new(b.base, SIGTERM, bench_on_signal, &b);
	ev[1] = evsignal_new(b.base, SIGINT, bench_on_signal, &b);
	ev[2] = evsignal_new(b.base, SIGUSR1, bench_on_signal, &b);
	for (int i = 0; i < 3; i++)
		evsignal_add(ev[i], NULL);
	snprintf(path, sizeof path, "https://%s:%d/", host, ingest_port(b.ingest));
	out = json_pack("{s:s,s:i,s:s,s:o}", "url", path, "port", ingest_port(b.ingest), "pin", cert_fingerprint(cert),
	                "streams", list);
	json_dumpf(out, stdout, JSON_COMPACT);
	printf("\n");
	fflush(stdout);
	json_decref(out);
	event_base_dispatch(b.base);
	for (int i = 0; i < 3; i++)
		event_free(ev[i]);
	ingest_free(b.ingest);
	for (size_t i = 0; i < b.n; i++)
		stream_free(b.streams[i]);
	free(b.streams);
	SSL_CTX_free(ctx);
	cert_free(cert);
	event_base_free(b.base);
	return 0;
}
