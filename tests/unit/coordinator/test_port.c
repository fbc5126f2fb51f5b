/* Unit tests of coordinator/port.c: listening sockets of a port in /proc/net/tcp{,6} tables,
 * and (against the real kernel) a listener of our own found and attributed to this process. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "port.h"

static const char tcp4[] =
	"  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
	"   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1111 1 0000 100 0 0 10 0\n"
	"   1: 00000000:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000    33        0 2222 1 0000 100 0 0 10 0\n"
	"   2: 0100007F:1F90 0100007F:C350 01 00000000:00000000 00:00000000 00000000     0        0 3333 1 0000 20 4 30 10 -1\n"
	"   3: 0100007F:1F91 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4444 1 0000 100 0 0 10 0\n"
	"   4: 0100007F:0050 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 0 1 0000 100 0 0 10 0\n";
static const char tcp6[] =
	"  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
	"   0: 00000000000000000000000001000000:1F90 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 5555 1 0000 100 0 0 10 0\n";

static void parses_listeners_of_one_port(void **state)
{
	unsigned long in[8];
	size_t n;
	(void)state;
	n = port_parse_proc_net(tcp4, 8080, in, 0, 8);
	assert_int_equal(n, 2); /* 127.0.0.1 and 0.0.0.0 listening; the established one is not */
	assert_int_equal(in[0], 1111);
	assert_int_equal(in[1], 2222);
	n = port_parse_proc_net(tcp6, 8080, in, n, 8);
	assert_int_equal(n, 3);
	assert_int_equal(in[2], 5555);
	assert_int_equal(port_parse_proc_net(tcp4, 8081, in, 0, 8), 1);
	assert_int_equal(port_parse_proc_net(tcp4, 80, in, 0, 8), 0); /* inode 0: not ours to see */
	assert_int_equal(port_parse_proc_net(tcp4, 8080, in, 0, 1), 1); /* bounded */
	assert_int_equal(port_parse_proc_net("", 8080, in, 0, 8), 0);
	assert_int_equal(port_parse_proc_net("header only", 8080, in, 0, 8), 0);
	assert_int_equal(port_parse_proc_net("h\ngarbage : :\n\n  0: x:y z 0A\n", 8080, in, 0, 8), 0);
}

static void finds_our_own_listener(void **state)
{
	struct sockaddr_in a;
	socklen_t alen = sizeof a;
	int fd = socket(AF_INET, SOCK_STREAM, 0), port;
	unsigned long in[PORT_MAX_LISTENERS];
	char holder[300];
	size_t n;
	(void)state;
	assert_true(fd >= 0);
	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
	assert_int_equal(listen(fd, 1), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &alen), 0);
	port = ntohs(a.sin_port);
	n = port_listeners(port, in, PORT_MAX_LISTENERS);
	assert_int_equal(n, 1);
	assert_int_equal(port_owned_by_tree(in, n, getpid(), holder, sizeof holder), 1);
	/* The tree of a pid that does not run holds nothing; the holder is still named. */
	assert_int_equal(port_owned_by_tree(in, n, 0x7ffffff0, holder, sizeof holder), 0);
	assert_non_null(strstr(holder, "pid "));
	assert_true(port_taken(port, holder, sizeof holder));
	assert_int_equal(port_pick(&port, 1) != port, 1);
	{
		/* Picked below the ephemeral range (here: Linux's default 32768-60999). */
		int lo = 0, hi = 0, p = port_pick(NULL, 0);
		FILE *f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "r");
		assert_true(p > 0);
		assert_false(port_taken(p, holder, sizeof holder));
		if (f && fscanf(f, "%d %d", &lo, &hi) == 2 && lo > 20100)
			assert_true(p >= 20000 && p < lo);
		if (f)
			fclose(f);
	}
	close(fd);
	assert_false(port_taken(port, holder, sizeof holder));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parses_listeners_of_one_port),
		cmocka_unit_test(finds_our_own_listener),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
