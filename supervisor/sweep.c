/* sweep — see sweep.h. */
#include "sweep.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int sweep_parse_stat(const char *text, struct sweep_entry *out)
{
	/* "pid (comm) S ppid pgrp ..." where comm may hold spaces and parentheses. */
	const char *rp = strrchr(text, ')');
	long pid, ppid, pgrp;
	char st;

	if (!rp || sscanf(text, "%ld", &pid) != 1)
		return -1;
	if (sscanf(rp + 1, " %c %ld %ld", &st, &ppid, &pgrp) != 3)
		return -1;
	out->pid = (pid_t)pid;
	out->ppid = (pid_t)ppid;
	out->pgid = (pid_t)pgrp;
	out->state = st;
	return 0;
}

long sweep_scan(struct sweep_entry *e, size_t max)
{
	DIR *d = opendir("/proc");
	struct dirent *de;
	size_t n = 0;

	if (!d)
		return -1;
	while (n < max && (de = readdir(d)) != NULL) {
		char path[300], buf[512];
		int fd;
		ssize_t len;

		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof path, "/proc/%s/stat", de->d_name);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue; /* gone meanwhile */
		len = read(fd, buf, sizeof buf - 1);
		close(fd);
		if (len <= 0)
			continue;
		buf[len] = '\0';
		if (sweep_parse_stat(buf, &e[n]) == 0)
			n++;
	}
	closedir(d);
	return (long)n;
}

size_t sweep_select(struct sweep_entry *e, size_t n, pid_t root)
{
	size_t found = 0;
	bool changed = true;

	/* Grow the set [0, found) of descendants until a pass adds nothing: each pass moves the
	 * entries whose parent is root or already in the set. O(n * depth), fine for /proc. */
	while (changed) {
		changed = false;
		for (size_t i = found; i < n; i++) {
			bool child = e[i].ppid == root;
			for (size_t j = 0; j < found && !child; j++)
				child = e[i].ppid == e[j].pid;
			if (child) {
				struct sweep_entry t = e[found];
				e[found] = e[i];
				e[i] = t;
				found++;
				changed = true;
			}
		}
	}
	/* Drop zombies (the reaper takes them), keeping the order. */
	size_t k = 0;
	for (size_t i = 0; i < found; i++)
		if (e[i].state != 'Z')
			e[k++] = e[i];
	return k;
}
