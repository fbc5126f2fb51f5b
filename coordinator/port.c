/* port — see port.h. */
#include "port.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#define PORT_PROC_MAX (8u << 20) /* /proc/net/tcp of a busy host: bounded */
#define PORT_PICK_LOW 20000       /* port_pick() tries [PORT_PICK_LOW, ephemeral range) first */

size_t port_parse_proc_net(const char *text, int port, unsigned long *inodes, size_t n, size_t max)
{
	const char *line = strchr(text, '\n'); /* the first line is the header */

	while (line && *++line) {
		char local[64], state[8];
		unsigned long inode;
		unsigned p;
		const char *colon;
		/* sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode */
		if (sscanf(line, "%*s %63s %*s %7s %*s %*s %*s %*u %*u %lu", local, state, &inode) == 3 &&
		    strcmp(state, "0A") == 0 && (colon = strrchr(local, ':')) != NULL &&
		    sscanf(colon + 1, "%x", &p) == 1 && (int)p == port && n < max && inode != 0) {
			inodes[n++] = inode;
		}
		line = strchr(line, '\n');
	}
	return n;
}

static char *port_read(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t cap = 65536, n = 0;
	char *buf = NULL, *grown;
	ssize_t r;

	if (fd < 0)
		return NULL;
	for (;;) {
		if (n + 1 >= cap || !buf) {
			if (buf)
				cap *= 2;
			if (cap > PORT_PROC_MAX)
				break;
			grown = realloc(buf, cap);
			if (!grown)
				break;
			buf = grown;
		}
		r = read(fd, buf + n, cap - n - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	if (buf)
		buf[n] = '\0';
	return buf;
}

size_t port_listeners(int port, unsigned long *inodes, size_t max)
{
	static const char *tables[] = {"/proc/net/tcp", "/proc/net/tcp6"};
	size_t n = 0;

	for (size_t i = 0; i < 2; i++) {
		char *text = port_read(tables[i]);
		if (text)
			n = port_parse_proc_net(text, port, inodes, n, max);
		free(text);
	}
	return n;
}

/* The processes this user can see: pids and their parents. */
struct port_procs {
	pid_t *pid, *ppid;
	size_t n;
};

static void port_procs_load(struct port_procs *ps)
{
	DIR *d = opendir("/proc");
	struct dirent *de;
	size_t cap = 0;

	memset(ps, 0, sizeof *ps);
	while (d && (de = readdir(d)) != NULL) {
		char path[64], buf[512], *p;
		long pid;
		FILE *f;
		size_t r;
		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		pid = strtol(de->d_name, NULL, 10);
		snprintf(path, sizeof path, "/proc/%ld/stat", pid);
		f = fopen(path, "re");
		if (!f)
			continue;
		r = fread(buf, 1, sizeof buf - 1, f);
		fclose(f);
		buf[r] = '\0';
		p = strrchr(buf, ')');
		if (!p || strlen(p) < 5)
			continue;
		if (ps->n == cap) {
			size_t ncap = cap ? cap * 2 : 1024;
			pid_t *a = realloc(ps->pid, ncap * sizeof *a), *b;
			if (!a)
				break;
			ps->pid = a;
			b = realloc(ps->ppid, ncap * sizeof *b);
			if (!b)
				break;
			ps->ppid = b;
			cap = ncap;
		}
		ps->pid[ps->n] = (pid_t)pid;
		ps->ppid[ps->n] = (pid_t)strtol(p + 4, NULL, 10); /* ") S PPID" */
		ps->n++;
	}
	if (d)
		closedir(d);
}

static void port_procs_free(struct port_procs *ps)
{
	free(ps->pid);
	free(ps->ppid);
}

/* Whether pid holds one of inodes: 1, 0, or -1 when its descriptors cannot be read. */
static int port_pid_holds(pid_t pid, const unsigned long *inodes, size_t n)
{
	char path[64], link[64];
	DIR *d;
	struct dirent *de;
	int found = 0;

	snprintf(path, sizeof path, "/proc/%ld/fd", (long)pid);
	d = opendir(path);
	if (!d)
		return errno == ENOENT ? 0 : -1;
	while (!found && (de = readdir(d)) != NULL) {
		ssize_t l = readlinkat(dirfd(d), de->d_name, link, sizeof link - 1);
		unsigned long ino;
		if (l <= 8)
			continue;
		link[l] = '\0';
		if (sscanf(link, "socket:[%lu]", &ino) != 1)
			continue;
		for (size_t i = 0; i < n; i++)
			if (inodes[i] == ino)
				found = 1;
	}
	closedir(d);
	return found;
}

static void port_describe(pid_t pid, char *buf, size_t len)
{
	char path[64], cmd[256];
	int fd;
	ssize_t r = 0;

	snprintf(path, sizeof path, "/proc/%ld/cmdline", (long)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		r = read(fd, cmd, sizeof cmd - 1);
		close(fd);
	}
	if (r < 0)
		r = 0;
	for (ssize_t i = 0; i < r; i++)
		if (cmd[i] == '\0' || (unsigned char)cmd[i] < 0x20)
			cmd[i] = ' ';
	while (r > 0 && cmd[r - 1] == ' ')
		r--;
	cmd[r] = '\0';
	snprintf(buf, len, "pid %ld (%s)", (long)pid, r > 0 ? cmd : "command line not readable");
}

/* Names the first visible process that holds one of inodes. */
static void port_find_holder(const struct port_procs *ps, const unsigned long *inodes, size_t n, char *holder,
                             size_t len)
{
	if (!holder || len == 0)
		return;
	snprintf(holder, len, "a process this user cannot see");
	for (size_t i = 0; i < ps->n; i++)
		if (port_pid_holds(ps->pid[i], inodes, n) == 1) {
			port_describe(ps->pid[i], holder, len);
			return;
		}
}

bool port_taken(int port, char *holder, size_t len)
{
	unsigned long inodes[PORT_MAX_LISTENERS];
	size_t n = port_listeners(port, inodes, PORT_MAX_LISTENERS);
	struct sockaddr_in a;
	int fd, one = 1;
	bool bound;

	if (n > 0) {
		struct port_procs ps;
		port_procs_load(&ps);
		port_find_holder(&ps, inodes, n, holder, len);
		port_procs_free(&ps);
		return true;
	}
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return false;
	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	a.sin_port = htons((unsigned short)port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	bound = bind(fd, (struct sockaddr *)&a, sizeof a) == 0;
	close(fd);
	if (!bound && holder && len)
		snprintf(holder, len, "a socket bound to it (not listening, or in another namespace)");
	return !bound;
}

/* The kernel's range for outgoing connections' local ports (ip_local_port_range). */
static void port_ephemeral_range(int *lo, int *hi)
{
	char *text = port_read("/proc/sys/net/ipv4/ip_local_port_range");

	*lo = 32768;
	*hi = 60999;
	if (text && sscanf(text, "%d %d", lo, hi) != 2) {
		*lo = 32768;
		*hi = 60999;
	}
	free(text);
}

static bool port_usable(int port, const int *avoid, size_t navoid)
{
	for (size_t i = 0; i < navoid; i++)
		if (avoid[i] == port)
			return false;
	return !port_taken(port, NULL, 0);
}

int port_pick(const int *avoid, size_t navoid)
{
	int lo, hi;

	/* Below the ephemeral range first: no outgoing connection (the agent's own probes
	 * included) is ever given such a port as its local one, so nothing but a server can
	 * hold it when the playground's server binds. */
	port_ephemeral_range(&lo, &hi);
	if (lo > PORT_PICK_LOW + 100) {
		for (int attempt = 0; attempt < 200; attempt++) {
			unsigned r;
			int port;
			if (getrandom(&r, sizeof r, 0) != (ssize_t)sizeof r)
				break;
			port = PORT_PICK_LOW + (int)(r % (unsigned)(lo - PORT_PICK_LOW));
			if (port_usable(port, avoid, navoid))
				return port;
		}
	}
	/* Else one the kernel calls free. */
	for (int attempt = 0; attempt < 64; attempt++) {
		struct sockaddr_in a;
		socklen_t alen = sizeof a;
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), port = -1;
		if (fd < 0)
			return -1;
		memset(&a, 0, sizeof a);
		a.sin_family = AF_INET;
		a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		if (bind(fd, (struct sockaddr *)&a, sizeof a) == 0 && getsockname(fd, (struct sockaddr *)&a, &alen) == 0)
			port = ntohs(a.sin_port);
		close(fd);
		if (port <= 0)
			return -1;
		if (port_usable(port, avoid, navoid))
			return port;
	}
	return -1;
}

int port_owned_by_tree(const unsigned long *inodes, size_t n, pid_t root, char *holder, size_t len)
{
	struct port_procs ps;
	bool *in;
	bool grew = true, unreadable = false;
	int rc = 0;

	port_procs_load(&ps);
	in = calloc(ps.n + 1, sizeof *in);
	if (!in) {
		port_procs_free(&ps);
		return -1;
	}
	for (size_t i = 0; i < ps.n; i++)
		in[i] = ps.pid[i] == root;
	/* Descendants: anything whose parent is in, until nothing changes. */
	while (grew) {
		grew = false;
		for (size_t i = 0; i < ps.n; i++) {
			if (in[i])
				continue;
			for (size_t j = 0; j < ps.n; j++)
				if (in[j] && ps.ppid[i] == ps.pid[j]) {
					in[i] = grew = true;
					break;
				}
		}
	}
	for (size_t i = 0; i < ps.n && rc != 1; i++) {
		int h;
		if (!in[i])
			continue;
		h = port_pid_holds(ps.pid[i], inodes, n);
		if (h == 1)
			rc = 1;
		else if (h < 0)
			unreadable = true;
	}
	if (rc != 1) {
		port_find_holder(&ps, inodes, n, holder, len);
		rc = unreadable ? -1 : 0;
	}
	free(in);
	port_procs_free(&ps);
	return rc;
}
