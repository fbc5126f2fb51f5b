/* taskwatch — see taskwatch.h. */
#include "taskwatch.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "state.h"

#define WATCH_MAX 4096          /* registrations read per refresh */
#define STALE_MS (10 * 60 * 1000LL) /* a stopped task's registration left by a dead run */

struct taskwatch {
	char dir[PATH_MAX];     /* STATE/fargate */
	char file[PATH_MAX + 64]; /* our registration */
	char *cluster, *arn;
};

static const char *task_id(const char *arn)
{
	const char *slash = strrchr(arn, '/');
	return slash ? slash + 1 : arn;
}

struct taskwatch *taskwatch_new(const char *state_dir, const char *cluster, const char *task_arn,
				char *err, size_t errlen)
{
	struct taskwatch *w = calloc(1, sizeof *w);
	char watch[PATH_MAX + 16], tmp[PATH_MAX + 80];
	FILE *f;

	if (!w || !(w->cluster = strdup(cluster)) || !(w->arn = strdup(task_arn))) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if (snprintf(w->dir, sizeof w->dir, "%s/fargate", state_dir) >= (int)sizeof w->dir ||
	    snprintf(watch, sizeof watch, "%s/watch", w->dir) >= (int)sizeof watch ||
	    snprintf(w->file, sizeof w->file, "%s/%s", watch, task_id(task_arn)) >= (int)sizeof w->file ||
	    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", w->file, (long)getpid()) >= (int)sizeof tmp) {
		snprintf(err, errlen, "%s: path too long", state_dir);
		goto fail;
	}
	if (state_mkdirs(watch)) {
		snprintf(err, errlen, "%s: %s", watch, strerror(errno));
		goto fail;
	}
	f = fopen(tmp, "we");
	if (!f || fprintf(f, "%s\n%s\n", cluster, task_arn) < 0 || fclose(f) != 0 || rename(tmp, w->file)) {
		snprintf(err, errlen, "%s: %s", w->file, strerror(errno));
		unlink(tmp);
		goto fail;
	}
	return w;
fail:
	if (w) {
		free(w->cluster);
		free(w->arn);
		free(w);
	}
	return NULL;
}

void taskwatch_free(struct taskwatch *w)
{
	if (!w)
		return;
	unlink(w->file);
	free(w->cluster);
	free(w->arn);
	free(w);
}

/* Every registration: {cluster: [arn, …]}, and {arn: path} to prune stale ones. */
static json_t *read_registrations(const char *dir, json_t *paths)
{
	char watch[PATH_MAX + 16], path[PATH_MAX + 300], line[2][2048];
	json_t *by_cluster = json_object();
	struct dirent *de;
	DIR *d;
	int n = 0;

	snprintf(watch, sizeof watch, "%s/watch", dir);
	d = opendir(watch);
	if (!d)
		return by_cluster;
	while ((de = readdir(d)) != NULL && n < WATCH_MAX) {
		FILE *f;
		json_t *list;

		if (de->d_name[0] == '.' || strstr(de->d_name, ".tmp."))
			continue;
		if (snprintf(path, sizeof path, "%s/%s", watch, de->d_name) >= (int)sizeof path)
			continue;
		f = fopen(path, "re");
		if (!f)
			continue;
		if (fgets(line[0], sizeof line[0], f) && fgets(line[1], sizeof line[1], f)) {
			line[0][strcspn(line[0], "\n")] = '\0';
			line[1][strcspn(line[1], "\n")] = '\0';
			list = json_object_get(by_cluster, line[0]);
			if (!list) {
				list = json_array();
				json_object_set_new(by_cluster, line[0], list);
			}
			json_array_append_new(list, json_string(line[1]));
			json_object_set_new(paths, line[1], json_string(path));
			n++;
		}
		fclose(f);
	}
	closedir(d);
	return by_cluster;
}

/* A registration whose task stopped long ago (its run died without unregistering). */
static void prune(const json_t *paths, const json_t *tasks, long long now_ms)
{
	const char *arn;
	json_t *path;

	json_object_foreach((json_t *)paths, arn, path) {
		const json_t *t = json_object_get(tasks, arn);
		const char *status = json_string_value(json_object_get(t, "lastStatus"));
		struct stat st;

		if (!status || (strcmp(status, "STOPPED") != 0 && strcmp(status, "MISSING") != 0))
			continue;
		if (stat(json_string_value(path), &st) == 0 &&
		    now_ms - (long long)st.st_mtime * 1000 > STALE_MS)
			unlink(json_string_value(path));
	}
}

static int refresh(struct taskwatch *w, long long now_ms, taskwatch_describe_fn describe, void *arg,
		   json_t *cache, unsigned *calls)
{
	json_t *paths = json_object(), *by_cluster = read_registrations(w->dir, paths);
	json_t *tasks = json_object(), *list;
	const char *cluster;
	int rc = 0;

	/* Our own task is asked for even if its file vanished (a disk full, a cleaner). */
	list = json_object_get(by_cluster, w->cluster);
	if (!list) {
		list = json_array();
		json_object_set_new(by_cluster, w->cluster, list);
	}
	if (!json_object_get(paths, w->arn))
		json_array_append_new(list, json_string(w->arn));
	json_object_foreach(by_cluster, cluster, list) {
		for (size_t i = 0; i < json_array_size(list) && rc == 0; i += TASKWATCH_BATCH) {
			const char *arns[TASKWATCH_BATCH];
			size_t n = 0, k;
			json_t *out = NULL, *t;

			for (k = i; k < json_array_size(list) && n < TASKWATCH_BATCH; k++)
				arns[n++] = json_string_value(json_array_get(list, k));
			(*calls)++;
			if (describe(arg, cluster, arns, n, &out) != 0) {
				rc = -1;
				break;
			}
			json_array_foreach(json_object_get(out, "tasks"), k, t) {
				const char *arn = json_string_value(json_object_get(t, "taskArn"));
				if (arn)
					json_object_set(tasks, arn, t);
			}
			json_array_foreach(json_object_get(out, "failures"), k, t) {
				const char *arn = json_string_value(json_object_get(t, "arn"));
				if (arn)
					json_object_set_new(tasks, arn, json_pack("{s:s, s:O}", "lastStatus", "MISSING",
										  "failure", t));
			}
			json_decref(out);
		}
	}
	if (rc == 0) {
		json_object_set_new(cache, "at", json_integer(now_ms));
		json_object_set(cache, "tasks", tasks);
		prune(paths, tasks, now_ms);
	}
	json_decref(tasks);
	json_decref(paths);
	json_decref(by_cluster);
	return rc;
}

int taskwatch_poll(struct taskwatch *w, long long now_ms, long long max_age_ms,
		   taskwatch_describe_fn describe, void *arg, json_t **task, unsigned *calls)
{
	char lock[PATH_MAX + 32], path[PATH_MAX + 32], tmp[PATH_MAX + 64];
	json_t *cache = NULL, *t;
	long long at;
	int fd, rc = 0;

	*task = NULL;
	snprintf(lock, sizeof lock, "%s/describe.lock", w->dir);
	snprintf(path, sizeof path, "%s/describe.json", w->dir);
	snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
	fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0 || flock(fd, LOCK_EX) != 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	cache = json_load_file(path, 0, NULL);
	if (!json_is_object(cache)) {
		json_decref(cache);
		cache = json_object();
	}
	t = json_object_get(json_object_get(cache, "tasks"), w->arn);
	at = json_integer_value(json_object_get(cache, "at"));
	/* Refresh when the answer is old, or does not know our task yet (just registered). An
	 * answer a little newer than now_ms was made while we waited for the lock (the caller read
	 * its clock before): it is fresh, not a reason to ask again. Only one from further ahead
	 * than max_age_ms means the clock was set back. */
	if (!t || now_ms - at >= max_age_ms || at - now_ms > max_age_ms) {
		if (refresh(w, now_ms, describe, arg, cache, calls) != 0) {
			rc = -1;
			goto out;
		}
		if (json_dump_file(cache, tmp, JSON_COMPACT) != 0 || rename(tmp, path) != 0)
			unlink(tmp); /* the next poll asks again: slower, never wrong */
		t = json_object_get(json_object_get(cache, "tasks"), w->arn);
	}
	if (t) {
		*task = json_incref(t);
		rc = 1;
	}
out:
	json_decref(cache);
	flock(fd, LOCK_UN);
	close(fd);
	return rc;
}
