/*
 * fuzz_coord_port — port_parse_proc_net() on any text (what /proc/net/tcp and tcp6 hold): never
 * more inodes than the bound, never a zero inode, and the same answer for the same text.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "port.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned long a[4], b[4];
	char *text;
	size_t n, m;
	int port;

	if (size < 2)
		return 0;
	port = data[0] << 8 | data[1]; /* the first two bytes pick the port */
	text = malloc(size - 1);
	if (!text)
		return 0;
	memcpy(text, data + 2, size - 2);
	text[size - 2] = '\0';
	n = port_parse_proc_net(text, port, a, 0, 4);
	m = port_parse_proc_net(text, port, b, 0, 4);
	if (n > 4 || n != m || memcmp(a, b, n * sizeof a[0]) != 0)
		abort();
	for (size_t i = 0; i < n; i++)
		if (a[i] == 0)
			abort();
	free(text);
	return 0;
}
