/*
 * port — the local backend's TCP ports: pick a free one for a playground, tell whether one is
 * taken and by which process, and whether the socket listening on one belongs to a given
 * process tree (so that a playground is never called ready because something else answered).
 *
 * Linux only: reads /proc/net/tcp, /proc/net/tcp6, /proc/PID/stat and /proc/PID/fd of the
 * processes this user may see. It does not reserve a port: between port_pick() and the
 * playground's own bind() another process may take it, which is why `up` also checks the
 * owner of the listening socket once the playground is ready.
 */
#ifndef SV_COORD_PORT_H
#define SV_COORD_PORT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define PORT_MAX_LISTENERS 64

/* Appends to inodes (at most max) the inode of every socket in state LISTEN on local port
 * `port` found in text, a /proc/net/tcp or /proc/net/tcp6 table. Returns the new count (from n).
 * Pure. */
size_t port_parse_proc_net(const char *text, int port, unsigned long *inodes, size_t n, size_t max);

/* The LISTEN sockets on port in this network namespace, IPv4 and IPv6. Returns their count. */
size_t port_listeners(int port, unsigned long *inodes, size_t max);

/* Whether port is taken: a listener in /proc/net, or binding 127.0.0.1:port (SO_REUSEADDR, as
 * servers do) fails. When taken, holder gets "pid N (command line)" or why it is not known. */
bool port_taken(int port, char *holder, size_t len);

/* A free port (not taken, not in avoid[]): a random one from 20000 up to the kernel's
 * ephemeral range (ip_local_port_range), which outgoing connections never use, else one the
 * kernel calls free on 127.0.0.1; -1 after a few hundred tries. */
int port_pick(const int *avoid, size_t navoid);

/* Whether one of the sockets inodes[0..n) is open in root or one of its descendants:
 * 1 yes, 0 no, -1 no but some of the tree's descriptors could not be read. When 0 or -1,
 * holder (if not NULL) names the process that holds the first of them, if any is found. */
int port_owned_by_tree(const unsigned long *inodes, size_t n, pid_t root, char *holder, size_t len);

#endif
