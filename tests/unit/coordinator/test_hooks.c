/* Unit tests of coordinator/hooks.c: which directory entries are hooks, their order, the exit
 * code of a wait status, a script's label. The command itself is tested with the real binary
 * (tests/integration/test_hooks.py). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "hooks.h"

static void names_that_are_never_hooks(void **state)
{
	static const struct {
		const char *name, *reason;
	} cases[] = {
		{".hidden", "hidden file"}, {".", "hidden file"}, {"10-a.sh~", "editor backup"},
		{"~", "editor backup"}, {"10-a.sh.bak", "editor backup"}, {".10-a.sh.swp", "hidden file"},
		{"10-a.sh.swp", "editor backup"}, {"10-a.sh.swo", "editor backup"}, {"10-a.sh.orig", "editor backup"},
		{"#10-a.sh#", "editor autosave"}, {"##", "editor autosave"}, {"", "empty name"},
	};
	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const char *r = hooks_name_skip_reason(cases[i].name);
		assert_non_null(r);
		assert_string_equal(r, cases[i].reason);
	}
}

static void names_that_may_be_hooks(void **state)
{
	static const char *const ok[] = {"10-cache-flush.sh", "20-config-import", "a~b", "#1", "x#", "bak",
					 "10.bak.sh", "orig", "swp.sh", "run.php"};
	(void)state;
	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
		assert_null(hooks_name_skip_reason(ok[i]));
}

static void order_is_c_locale_bytes(void **state)
{
	/* Digits before upper case before '_' before lower case before UTF-8; "10" before "2"
	 * (no natural sort: name hooks with leading zeros or equal widths). */
	char *names[] = {"b", "\xc3\xa9t\xc3\xa9", "_x", "2-two", "10-ten", "B", "a", "10-ten.sh", "01"};
	const char *want[] = {"01", "10-ten", "10-ten.sh", "2-two", "B", "_x", "a", "b", "\xc3\xa9t\xc3\xa9"};
	(void)state;
	hooks_sort(names, sizeof names / sizeof names[0]);
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
		assert_string_equal(names[i], want[i]);
	hooks_sort(names, 0); /* nothing to do, no crash */
}

static void exit_codes(void **state)
{
	(void)state;
	assert_int_equal(hooks_exit_code(W_EXITCODE(0, 0)), 0);
	assert_int_equal(hooks_exit_code(W_EXITCODE(3, 0)), 3);
	assert_int_equal(hooks_exit_code(W_EXITCODE(255, 0)), 255);
	assert_int_equal(hooks_exit_code(W_EXITCODE(0, 9)), 137);
	assert_int_equal(hooks_exit_code(W_EXITCODE(0, 15)), 143);
	assert_int_equal(hooks_exit_code(W_EXITCODE(0, 6) | 0x80), 134); /* core dumped */
}

static void labels(void **state)
{
	char out[16];
	(void)state;
	hooks_label("10-cache-flush.sh", out, sizeof out);
	assert_string_equal(out, "10-cache-flush");
	hooks_label("20-import", out, sizeof out);
	assert_string_equal(out, "20-import");
	hooks_label(".sh", out, sizeof out); /* nothing would be left: kept whole */
	assert_string_equal(out, ".sh");
	hooks_label("run.php", out, sizeof out);
	assert_string_equal(out, "run.php");
	hooks_label("a-very-long-hook-name.sh", out, sizeof out); /* bounded */
	assert_string_equal(out, "a-very-long-hoo");
	hooks_label("x.sh", out, 2);
	assert_string_equal(out, "x");
}

static void put_file(const char *dir, const char *name, mode_t mode)
{
	char path[512];
	int fd;
	snprintf(path, sizeof path, "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "#!/bin/sh\n", 10), 10);
	close(fd);
	assert_int_equal(chmod(path, mode), 0);
}

static const char *skip_of(const struct hooks_list *l, const char *name, int *found)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->entries[i].name, name) == 0) {
			*found = 1;
			return l->entries[i].skip;
		}
	*found = 0;
	return NULL;
}

static void scan_classifies_entries(void **state)
{
	char dir[] = "/tmp/sv-hooks-unit-XXXXXX", path[512], err[600];
	struct hooks_list *l;
	int found;
	static const char *const order[] = {"#20-b.sh#", ".env", "10-a.sh", "15-link", "20-b.sh", "20-b.sh~",
					    "25-dangling", "30-c.sh", "40-sub", "50-fifo", "README"};
	(void)state;
	assert_non_null(mkdtemp(dir));
	put_file(dir, "20-b.sh", 0755);
	put_file(dir, "10-a.sh", 0700);
	put_file(dir, "30-c.sh", 0644);   /* not executable */
	put_file(dir, "20-b.sh~", 0755);  /* backup, although executable */
	put_file(dir, "#20-b.sh#", 0755); /* autosave */
	put_file(dir, ".env", 0755);      /* dotfile */
	put_file(dir, "README", 0644);
	snprintf(path, sizeof path, "%s/40-sub", dir);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(path, sizeof path, "%s/50-fifo", dir);
	assert_int_equal(mkfifo(path, 0755), 0);
	snprintf(path, sizeof path, "%s/15-link", dir);
	assert_int_equal(symlink("10-a.sh", path), 0); /* a link to a hook is a hook */
	snprintf(path, sizeof path, "%s/25-dangling", dir);
	assert_int_equal(symlink("nowhere", path), 0);

	l = hooks_scan(dir, err, sizeof err);
	assert_non_null(l);
	assert_int_equal(l->n, sizeof order / sizeof order[0]);
	for (size_t i = 0; i < l->n; i++)
		assert_string_equal(l->entries[i].name, order[i]);
	assert_int_equal(l->hooks, 3);
	assert_null(skip_of(l, "10-a.sh", &found));
	assert_true(found);
	assert_null(skip_of(l, "15-link", &found));
	assert_true(found);
	assert_null(skip_of(l, "20-b.sh", &found));
	assert_true(found);
	assert_string_equal(skip_of(l, "30-c.sh", &found), "not executable");
	assert_string_equal(skip_of(l, "20-b.sh~", &found), "editor backup");
	assert_string_equal(skip_of(l, "#20-b.sh#", &found), "editor autosave");
	assert_string_equal(skip_of(l, ".env", &found), "hidden file");
	assert_string_equal(skip_of(l, "40-sub", &found), "a directory");
	assert_string_equal(skip_of(l, "50-fifo", &found), "not a regular file");
	assert_string_equal(skip_of(l, "25-dangling", &found), "dangling symbolic link");
	assert_string_equal(skip_of(l, "README", &found), "not executable");
	hooks_list_free(l);

	/* Clean up, then: a directory that is gone is an error naming it. */
	for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
		snprintf(path, sizeof path, "%s/%s", dir, order[i]);
		if (strcmp(order[i], "40-sub") == 0)
			assert_int_equal(rmdir(path), 0);
		else
			assert_int_equal(unlink(path), 0);
	}
	assert_int_equal(rmdir(dir), 0);
	l = hooks_scan(dir, err, sizeof err);
	assert_null(l);
	assert_non_null(strstr(err, dir));
	assert_non_null(strstr(err, "No such file or directory"));
	hooks_list_free(NULL);
}

static void scan_empty_dir(void **state)
{
	char dir[] = "/tmp/sv-hooks-unit-XXXXXX", err[600];
	struct hooks_list *l;
	(void)state;
	assert_non_null(mkdtemp(dir));
	l = hooks_scan(dir, err, sizeof err);
	assert_non_null(l);
	assert_int_equal(l->n, 0);
	assert_int_equal(l->hooks, 0);
	hooks_list_free(l);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(names_that_are_never_hooks), cmocka_unit_test(names_that_may_be_hooks),
		cmocka_unit_test(order_is_c_locale_bytes),    cmocka_unit_test(exit_codes),
		cmocka_unit_test(labels),                     cmocka_unit_test(scan_classifies_entries),
		cmocka_unit_test(scan_empty_dir),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
