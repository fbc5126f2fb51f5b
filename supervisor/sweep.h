/*
 * sweep — finds every living descendant of a process, for the stop plan's final sweep.
 *
 * sweep_scan() reads /proc/<pid>/stat of every process (pid, state, ppid, process group);
 * sweep_select() is the pure part: given that table, it keeps the descendants of root that
 * are not zombies. Neither sends a signal; supervisor.c decides what to send.
 */
#ifndef SV_SWEEP_H
#define SV_SWEEP_H

#include <stddef.h>
#include <sys/types.h>

struct sweep_entry {
	pid_t pid;
	pid_t ppid;
	pid_t pgid;
	char state; /* 'Z' for zombies */
};

/* Reads up to max entries of /proc into e; returns how many, -1 when /proc is unreadable. */
long sweep_scan(struct sweep_entry *e, size_t max);
/* Moves the living descendants of root to the front of e; returns how many. */
size_t sweep_select(struct sweep_entry *e, size_t n, pid_t root);
/* Parses the text of /proc/<pid>/stat into *out; 0 or -1. */
int sweep_parse_stat(const char *text, struct sweep_entry *out);

#endif
