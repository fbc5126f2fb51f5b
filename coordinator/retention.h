/*
 * retention — how long the state directory keeps the runs of `stagevisor run`
 * (runs/<stream>/events.jsonl): the newest N runs and those younger than D days (100 and 14 by
 * default; 0 turns a limit off), pruned at the start of each run. A run in progress is never
 * removed: each run holds an flock on runs/<stream>/lock for as long as it lives, so a live run
 * is recognised by a lock that cannot be taken, and the run of a crashed coordinator (the kernel
 * drops its lock) is pruned like any finished one.
 *
 * Only directories named as run creates them ("sv-" + 16 hex digits, and ".new-" + that while
 * one is being made) are ever considered; anything else under runs/ is left alone. The pure
 * decision (retention_plan) has no system calls; the rest works on the directory.
 */
#ifndef SV_COORD_RETENTION_H
#define SV_COORD_RETENTION_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#define RETENTION_KEEP_RUNS_DEFAULT 100
#define RETENTION_KEEP_DAYS_DEFAULT 14

struct retention_policy {
	unsigned keep_runs; /* the newest N runs are kept (in-progress ones count); 0: no limit */
	unsigned keep_days; /* runs whose last write is older are removed; 0: no limit */
};

struct retention_run {
	const char *name;  /* directory name under runs/ (for ordering ties) */
	double age_s;      /* seconds since its last write (negative: clock skew, treated as new) */
	bool in_progress;  /* never removed */
};

/* Pure (no system calls; one allocation): sets del[i] for each run to remove and returns how
 * many. Runs are ordered newest first: in-progress ones (being written now), then by age, ties
 * by name (the later name first). A run is removed when it is not in progress and either at
 * least keep_runs runs come before it, or it is older than keep_days days. */
size_t retention_plan(const struct retention_run *runs, size_t n, const struct retention_policy *p, bool *del);

/* Whether name is a run directory's name ("sv-" + 16 lowercase hex digits, optionally ".new-"
 * before it). */
bool retention_is_run_name(const char *name);

/* Makes <state_dir>/runs/<stream>/ with its lock file created and held (made as
 * runs/.new-<stream>/ and renamed, so no pruner ever sees it unlocked), then prunes runs/ by p
 * (*pruned: how many were removed). Returns the lock's fd, which the caller keeps open for the
 * run's whole life (O_CLOEXEC: the agent does not inherit it), or -1 with err filled. */
int retention_start_run(const char *state_dir, const char *stream, const struct retention_policy *p,
                        unsigned *pruned, char *err, size_t errlen);

/* For a coordinator re-attaching to a stream an earlier one (now gone) started on this host:
 * takes the lock of the existing runs/<stream>/. Returns its fd; -1 when there is no such
 * directory (start a new run); -2 with err when another process holds it (a live run). */
int retention_resume_run(const char *state_dir, const char *stream, char *err, size_t errlen);

/* Prunes <runs_dir> by p as of now (seconds since the epoch). Returns how many runs were removed, or -1 (err filled) when
 * runs_dir cannot be read. Runs it cannot remove are skipped. */
int retention_prune(const char *runs_dir, const struct retention_policy *p, double now, char *err, size_t errlen);

#endif
