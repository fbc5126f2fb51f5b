/* retention — see retention.h. */
#include "retention.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "state.h"

#define RETENTION_MAX_RUNS 100000 /* a bound on what one prune looks at */
#define RETENTION_DEPTH 8         /* run directories are flat; a bound for the recursive remove */

static int retention_newer(const struct retention_run *a, const struct retention_run *b)
{
	double x = a->age_s < 0 ? 0 : a->age_s, y = b->age_s < 0 ? 0 : b->age_s;

	if (a->in_progress != b->in_progress)
		return a->in_progress ? -1 : 1; /* a live run is being written now: the newest */
	if (x != y)
		return x < y ? -1 : 1;
	return strcmp(b->name ? b->name : "", a->name ? a->name : ""); /* same age: later name first */
}

static int retention_cmp(const void *a, const void *b, void *arg)
{
	const struct retention_run *runs = arg;

	return retention_newer(&runs[*(const size_t *)a], &runs[*(const size_t *)b]);
}

size_t retention_plan(const struct retention_run *runs, size_t n, const struct retention_policy *p, bool *del)
{
	size_t count = 0, *idx = malloc((n + 1) * sizeof *idx);

	for (size_t i = 0; i < n; i++)
		del[i] = false;
	if (!idx)
		return 0; /* nothing removed is the safe answer */
	for (size_t i = 0; i < n; i++)
		idx[i] = i;
	qsort_r(idx, n, sizeof *idx, retention_cmp, (void *)runs);
	/* idx[rank]: rank runs are newer than it. */
	for (size_t rank = 0; rank < n; rank++) {
		size_t i = idx[rank];
		if (runs[i].in_progress)
			continue;
		if ((p->keep_runs && rank >= p->keep_runs) ||
		    (p->keep_days && runs[i].age_s > (double)p->keep_days * 86400.0))
			del[i] = true;
		count += del[i];
	}
	free(idx);
	return count;
}

bool retention_is_run_name(const char *name)
{
	if (strncmp(name, ".new-", 5) == 0)
		name += 5;
	if (strncmp(name, "sv-", 3) != 0 || strlen(name) != 3 + 16)
		return false;
	for (const char *p = name + 3; *p; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
			return false;
	return true;
}

/* Opens <dir>/lock and tries to take it: the fd (locked), or -1 with *busy telling whether
 * another process holds it (in progress) rather than there being no lock file. */
static int retention_try_lock(int dirfd_, bool *busy)
{
	int fd = openat(dirfd_, "lock", O_RDWR | O_CLOEXEC | O_NOFOLLOW);

	*busy = false;
	if (fd < 0)
		return -1;
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		*busy = errno == EWOULDBLOCK;
		close(fd);
		return -1;
	}
	return fd;
}

/* rm -r of the entry name in dir (no symlinks followed). 0 or -1. */
static int retention_remove(int dir, const char *name, int depth)
{
	struct stat st;
	int fd, rc = 0;
	DIR *d;
	struct dirent *de;

	if (fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISDIR(st.st_mode))
		return unlinkat(dir, name, 0);
	if (depth > RETENTION_DEPTH)
		return -1;
	fd = openat(dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -1;
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (retention_remove(dirfd(d), de->d_name, depth + 1) != 0)
			rc = -1;
	}
	closedir(d);
	if (rc == 0 && unlinkat(dir, name, AT_REMOVEDIR) != 0)
		rc = -1;
	return rc;
}

/* The time of a run's last write (seconds since the epoch, with the file system's fraction):
 * the newest of the directory's and its events file's mtime. */
static double retention_last_write(int dir, const char *name)
{
	struct stat st;
	char path[NAME_MAX + 32];
	double t = 0;

	if (fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) == 0)
		t = (double)st.st_mtim.tv_sec + st.st_mtim.tv_nsec / 1e9;
	snprintf(path, sizeof path, "%s/events.jsonl", name);
	if (fstatat(dir, path, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    (double)st.st_mtim.tv_sec + st.st_mtim.tv_nsec / 1e9 > t)
		t = (double)st.st_mtim.tv_sec + st.st_mtim.tv_nsec / 1e9;
	return t;
}

int retention_prune(const char *runs_dir, const struct retention_policy *p, double now, char *err, size_t errlen)
{
	DIR *d = opendir(runs_dir);
	struct dirent *de;
	struct retention_run *runs = NULL;
	char (*names)[NAME_MAX + 1] = NULL;
	bool *del = NULL;
	size_t n = 0, cap = 0;
	int removed = 0;

	if (!d) {
		snprintf(err, errlen, "%s: %s", runs_dir, strerror(errno));
		return -1;
	}
	if (!p->keep_runs && !p->keep_days)
		goto done;
	while ((de = readdir(d)) != NULL && n < RETENTION_MAX_RUNS) {
		struct stat st;
		int sub, lock;
		bool busy;
		if (!retention_is_run_name(de->d_name) || fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
		    !S_ISDIR(st.st_mode))
			continue;
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 64;
			void *a = realloc(runs, ncap * sizeof *runs), *b;
			if (!a)
				break;
			runs = a;
			b = realloc(names, ncap * sizeof *names);
			if (!b)
				break;
			names = b;
			cap = ncap;
		}
		snprintf(names[n], sizeof names[n], "%s", de->d_name);
		sub = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (sub < 0)
			continue;
		lock = retention_try_lock(sub, &busy);
		if (lock >= 0)
			close(lock);
		close(sub);
		runs[n].in_progress = busy;
		runs[n].age_s = now - retention_last_write(dirfd(d), de->d_name);
		n++;
	}
	for (size_t i = 0; i < n; i++)
		runs[i].name = names[i];
	del = calloc(n + 1, sizeof *del);
	if (!del)
		goto done;
	retention_plan(runs, n, p, del);
	for (size_t i = 0; i < n; i++) {
		int sub, lock = -1;
		bool busy = false;
		if (!del[i])
			continue;
		/* Again, under the lock: a run that holds it now is left alone. */
		sub = openat(dirfd(d), names[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (sub < 0)
			continue;
		lock = retention_try_lock(sub, &busy);
		close(sub);
		if (!busy && retention_remove(dirfd(d), names[i], 0) == 0)
			removed++;
		if (lock >= 0)
			close(lock);
	}
done:
	closedir(d);
	free(runs);
	free(names);
	free(del);
	return removed;
}

int retention_start_run(const char *state_dir, const char *stream, const struct retention_policy *p,
                        unsigned *pruned, char *err, size_t errlen)
{
	char runs[PATH_MAX], tmp[PATH_MAX + 64], dir[PATH_MAX + 64], lockpath[PATH_MAX + 96], now[40], line[128];
	int fd = -1, r;

	*pruned = 0;
	if (snprintf(runs, sizeof runs, "%s/runs", state_dir) >= (int)sizeof runs ||
	    snprintf(tmp, sizeof tmp, "%s/.new-%s", runs, stream) >= (int)sizeof tmp ||
	    snprintf(dir, sizeof dir, "%s/%s", runs, stream) >= (int)sizeof dir ||
	    snprintf(lockpath, sizeof lockpath, "%s/lock", tmp) >= (int)sizeof lockpath) {
		snprintf(err, errlen, "--state-dir: path too long");
		return -1;
	}
	if (state_mkdirs(runs) != 0 || mkdir(tmp, 0700) != 0) {
		snprintf(err, errlen, "%s: %s", errno == EEXIST ? tmp : runs, strerror(errno));
		return -1;
	}
	fd = open(lockpath, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) != 0) {
		snprintf(err, errlen, "%s: %s", lockpath, strerror(errno));
		goto fail;
	}
	/* For people: who holds it. The lock, not this text, is what tells a live run. */
	state_utc_now(now, sizeof now);
	snprintf(line, sizeof line, "pid %ld, started %s\n", (long)getpid(), now);
	if (write(fd, line, strlen(line)) < 0) {
		/* informational only */
	}
	if (rename(tmp, dir) != 0) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		goto fail;
	}
	{
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		r = retention_prune(runs, p, (double)ts.tv_sec + ts.tv_nsec / 1e9, err, errlen);
	}
	if (r > 0)
		*pruned = (unsigned)r;
	return fd;
fail:
	if (fd >= 0)
		close(fd);
	unlink(lockpath);
	rmdir(tmp);
	return -1;
}

int retention_resume_run(const char *state_dir, const char *stream, char *err, size_t errlen)
{
	char dir[PATH_MAX], lockpath[PATH_MAX + 16], now[40], line[128];
	int fd;

	if (snprintf(dir, sizeof dir, "%s/runs/%s", state_dir, stream) >= (int)sizeof dir ||
	    snprintf(lockpath, sizeof lockpath, "%s/lock", dir) >= (int)sizeof lockpath)
		return -1;
	fd = open(lockpath, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1; /* no such run here */
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		snprintf(err, errlen, "another stagevisor run on this host is attached to stream %s (it holds %s)",
			 stream, lockpath);
		close(fd);
		return -2;
	}
	state_utc_now(now, sizeof now);
	snprintf(line, sizeof line, "pid %ld, re-attached %s\n", (long)getpid(), now);
	if (ftruncate(fd, 0) != 0 || write(fd, line, strlen(line)) < 0) {
		/* informational only */
	}
	return fd;
}
