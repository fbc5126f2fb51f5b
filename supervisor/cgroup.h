/*
 * cgroup — where this process's OOM-kill counter lives, and reading it.
 *
 * The kernel counts the processes its OOM killer killed in a memory cgroup: cgroup v2 in
 * `memory.events` ("oom_kill N"), cgroup v1 in `memory.oom_control` (the same "oom_kill N"
 * line; Linux 4.13 and later). The agent reads the counter before a process starts and again
 * when it dies of SIGKILL: when it grew, the kernel's OOM killer did it (status.h).
 *
 * Which file: the process's memory cgroup from /proc/self/cgroup ("N:memory:/path" on v1,
 * "0::/path" on v2), joined to where that hierarchy is mounted, from /proc/self/mountinfo
 * (fstype "cgroup" with the "memory" option, or "cgroup2"; the mount's root is taken off the
 * path, as in a container that sees only its own cgroup). The v1 memory controller wins when
 * both are there: on a hybrid host (v1 controllers, v2 mounted for systemd only) the v2 tree
 * has no memory.events.
 *
 * The parsers are pure (text in, answer out). cgroup_find_oom_counter() and
 * cgroup_read_oom_kills() are the thin I/O layer; they allocate nothing.
 * It does not: create cgroups, set limits, or watch the counter (it is read when asked).
 */
#ifndef SV_CGROUP_H
#define SV_CGROUP_H

#include <stddef.h>
#include <stdint.h>

enum cgroup_version { CGROUP_NONE = 0, CGROUP_V1 = 1, CGROUP_V2 = 2 };

/* The "oom_kill N" value of a memory.events (v2) or memory.oom_control (v1) text; -1 when
 * the line is absent or its value is not a number. */
int64_t cgroup_parse_oom_kill(const char *text);

/* The counter file of the process whose /proc/self/cgroup and /proc/self/mountinfo texts are
 * given (mountinfo may be NULL: then the usual mount points /sys/fs/cgroup/memory for v1 and
 * /sys/fs/cgroup for v2 are assumed). The path is written into buf as the system sees it
 * (starting with "/"). Returns CGROUP_V1 or CGROUP_V2, or -1 when the process has no memory
 * cgroup, its hierarchy is not mounted where its cgroup is visible, or buf is too small. */
int cgroup_oom_counter_path(const char *proc_cgroup, const char *mountinfo, char *buf, size_t size);

/* Reads ROOT/proc/self/cgroup and ROOT/proc/self/mountinfo, finds the counter file with
 * cgroup_oom_counter_path() and writes ROOT + its path into buf; root NULL or "" is the real
 * system (a test points it at a fake tree: STAGEVISOR_CGROUP_ROOT, agents/README.md).
 * Returns CGROUP_V1 or CGROUP_V2 when the file is there and holds a counter, else -1. */
int cgroup_find_oom_counter(const char *root, char *buf, size_t size);

/* The counter in the file at path; -1 when unreadable or absent. */
int64_t cgroup_read_oom_kills(const char *path);

#endif
