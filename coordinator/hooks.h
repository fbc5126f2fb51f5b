/*
 * hooks — `stagevisor hooks DIR`: runs a codebase's devops_hooks scripts during the build
 * stage, one after the other in name order (C locale byte order), each in its own process
 * group with stdin from /dev/null; streams their output line by line prefixed with the
 * script's name, times each, stops at the first failure and exits with its code, and writes a
 * JUnit case per script (README.md, "stagevisor hooks").
 *
 * What it does not do: run scripts in parallel, run a shell of its own (a script is exec'ed,
 * its #! line decides), or descend into subdirectories.
 *
 * The pure parts (which names are hooks, their order, the exit code of a wait status, a
 * script's label) are exported for the unit tests; hooks_scan() reads a directory.
 * Ownership: a struct hooks_list and every string in it belong to the list; hooks_list_free().
 */
#ifndef SV_COORD_HOOKS_H
#define SV_COORD_HOOKS_H

#include <stddef.h>
#include <sys/types.h>

/* Exit codes of the command besides a script's own (README.md). */
#define HOOKS_EXIT_USAGE 2
#define HOOKS_EXIT_INFRA 3
#define HOOKS_EXIT_TIMEOUT 124 /* as GNU timeout(1) */

/* Why a directory entry's name alone makes it no hook (a dotfile, an editor's backup or
 * autosave: `*~`, `*.bak`, `*.swp`, `*.swo`, `*.orig`, `#*#`), or NULL when the name may be
 * one. Pure. */
const char *hooks_name_skip_reason(const char *name);

/* Sorts names in C locale byte order (strcmp), the order the hooks run in. Pure. */
void hooks_sort(char **names, size_t n);

/* The command's exit code for a script's wait status: its exit code, or 128 + n when it was
 * killed by signal n. Pure. */
int hooks_exit_code(int wstatus);

/* The name shown before a script's output lines: the file name without a trailing ".sh"
 * (`10-cache-flush.sh` -> `10-cache-flush`), written to out (at most size bytes with its NUL).
 * Pure. */
void hooks_label(const char *name, char *out, size_t size);

struct hooks_entry {
	char *name;       /* the file name in the directory */
	const char *skip; /* NULL: a hook to run; else why it is skipped (static text) */
};

struct hooks_list {
	struct hooks_entry *entries; /* every entry but "." and "..", in hooks_sort order */
	size_t n;
	size_t hooks; /* how many of them are hooks (skip == NULL) */
};

/* Reads dir: every entry, sorted, each classified: by its name (hooks_name_skip_reason), then
 * by what stat(2) says (a directory, not a regular file, not executable by us). Symbolic links
 * are followed: a link to an executable file is a hook. At most 10000 entries.
 * Returns NULL with errno set (and err filled) when dir cannot be read. */
struct hooks_list *hooks_scan(const char *dir, char *err, size_t errsize);
void hooks_list_free(struct hooks_list *l);

/* `stagevisor hooks ...` (argv[0] is "hooks"). Returns the exit code. */
int hooks_command(int argc, char **argv);

#endif
