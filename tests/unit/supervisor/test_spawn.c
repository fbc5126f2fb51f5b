/* Tests of supervisor/spawn.c: environment merging (pure), and real spawns: exec and chdir
 * failures reported before spawn_process() returns, own process group, clean fds and signals. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "spawn.h"

static void merges_environment(void **state)
{
	char *base[] = { "PATH=/bin", "HOME=/root", "A=1", NULL };
	char *add[] = { "A=2", "NEW=x", "HOME=/srv", NULL };
	char **m = spawn_merge_env(base, add);
	(void)state;

	assert_non_null(m);
	assert_string_equal(m[0], "PATH=/bin");
	assert_string_equal(m[1], "A=2");
	assert_string_equal(m[2], "NEW=x");
	assert_string_equal(m[3], "HOME=/srv");
	assert_null(m[4]);
	free(m);
	m = spawn_merge_env(base, NULL);
	assert_string_equal(m[2], "A=1");
	assert_null(m[3]);
	free(m);
	/* A key that is a prefix of another is a different key. */
	char *b2[] = { "AB=1", NULL };
	char *a2[] = { "A=2", NULL };
	m = spawn_merge_env(b2, a2);
	assert_string_equal(m[0], "AB=1");
	assert_string_equal(m[1], "A=2");
	free(m);
}

static int reap(pid_t pid)
{
	int st;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void exec_failures(void **state)
{
	char *missing[] = { "/nonexistent/prog", NULL };
	char path[] = "/tmp/sv-spawn-test-XXXXXX";
	int tfd = mkstemp(path); /* mode 0600: not executable */
	char *notexec[] = { path, NULL };
	char *ok[] = { "true", NULL };
	struct spawn_request req = { missing, NULL, NULL, -1, -1, -1 };
	struct spawn_result r;
	(void)state;

	assert_int_equal(spawn_process(&req, &r), 0);
	assert_int_equal(r.failure, SPAWN_EXEC);
	assert_int_equal(r.err, ENOENT);
	assert_int_equal(reap(r.pid), 127);

	req.argv = notexec;
	assert_int_equal(spawn_process(&req, &r), 0);
	assert_int_equal(r.failure, SPAWN_EXEC);
	assert_int_equal(r.err, EACCES);
	assert_int_equal(reap(r.pid), 126);
	close(tfd);
	unlink(path);

	req.argv = ok;
	req.cwd = "/nonexistent-dir";
	assert_int_equal(spawn_process(&req, &r), 0);
	assert_int_equal(r.failure, SPAWN_CHDIR);
	assert_int_equal(reap(r.pid), 127);

	req.cwd = "/";
	assert_int_equal(spawn_process(&req, &r), 0);
	assert_int_equal(r.failure, SPAWN_OK);
	assert_int_equal(reap(r.pid), 0);
}

/* The child reports its process group, blocked and ignored signals and open fds. */
static void clean_child(void **state)
{
	int pfd[2];
	char out[1024] = "";
	char *argv[] = { "sh", "-c",
		"ps -o pgid= -p $$ | tr -d ' '; grep -E '^Sig(Blk|Ign)' /proc/self/status; ls /proc/self/fd | wc -l; echo \"$SV_T\"",
		NULL };
	char *env[] = { "SV_T=from-spec", NULL };
	struct spawn_request req = { argv, env, "/", -1, -1, -1 };
	struct spawn_result r;
	int leak = open("/dev/null", O_RDONLY); /* no O_CLOEXEC: must still not be inherited */
	sigset_t block, old;
	(void)state;

	assert_int_equal(pipe(pfd), 0);
	req.out_fd = pfd[1];
	signal(SIGUSR1, SIG_IGN);
	sigemptyset(&block);
	sigaddset(&block, SIGUSR2);
	sigprocmask(SIG_BLOCK, &block, &old);
	assert_int_equal(spawn_process(&req, &r), 0);
	sigprocmask(SIG_SETMASK, &old, NULL);
	signal(SIGUSR1, SIG_DFL);
	close(pfd[1]);
	assert_int_equal(r.failure, SPAWN_OK);
	size_t n = 0;
	ssize_t k;
	while ((k = read(pfd[0], out + n, sizeof out - 1 - n)) > 0)
		n += (size_t)k;
	out[n] = '\0';
	assert_int_equal(reap(r.pid), 0);
	char expect[256];
	/* own group; nothing blocked; nothing ignored; fds 0, 1, 2 and ls's own directory fd */
	snprintf(expect, sizeof expect, "%d\nSigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\n4\nfrom-spec\n", r.pid);
	assert_string_equal(out, expect);
	close(pfd[0]);
	close(leak);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(merges_environment),
		cmocka_unit_test(exec_failures),
		cmocka_unit_test(clean_child),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
