/* Tests of supervisor/status.c: every exit code and every signal mapped to the stage status,
 * who killed a process (the OOM killer included), and exec errno mapping. */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/wait.h>
#include <cmocka.h>

#include "status.h"

static void every_exit_code_passes_through(void **state)
{
	(void)state;
	for (int code = 0; code < 256; code++) {
		int c, s;
		int ws = (code & 0xff) << 8; /* W_EXITCODE(code, 0) */
		assert_int_equal(status_from_wait(ws, &c, &s), code);
		assert_int_equal(c, code);
		assert_int_equal(s, 0);
	}
}

static void every_signal_is_128_plus_n(void **state)
{
	(void)state;
	for (int sig = 1; sig < 65; sig++) {
		int c, s;
		int ws = sig & 0x7f; /* W_EXITCODE(0, sig) */
		if (sig == 0x7f)
			continue;
		assert_int_equal(status_from_wait(ws, &c, &s), 128 + sig);
		assert_int_equal(c, -1);
		assert_int_equal(s, sig);
	}
}

static void who_killed_it(void **state)
{
	(void)state;
	assert_int_equal(status_killer(0, true, true, true), STATUS_KILLED_NONE);
	assert_int_equal(status_killer(SIGKILL, true, true, false), STATUS_KILLED_AGENT_DEADLINE);
	assert_int_equal(status_killer(SIGKILL, true, false, true), STATUS_KILLED_AGENT_STOP);
	assert_int_equal(status_killer(SIGTERM, true, false, false), STATUS_KILLED_AGENT_STOP);
	assert_int_equal(status_killer(SIGKILL, false, false, true), STATUS_KILLED_OOM);
	assert_int_equal(status_killer(SIGKILL, false, false, false), STATUS_KILLED_OTHER);
	assert_int_equal(status_killer(SIGSEGV, false, false, true), STATUS_KILLED_OTHER);
	assert_null(status_killer_name(STATUS_KILLED_NONE));
	assert_string_equal(status_killer_name(STATUS_KILLED_AGENT_DEADLINE), "agent-deadline");
	assert_string_equal(status_killer_name(STATUS_KILLED_OOM), "oom");
}

static void exec_errors(void **state)
{
	(void)state;
	assert_int_equal(status_exec_errno(ENOENT), 127);
	assert_int_equal(status_exec_errno(ENOTDIR), 127);
	assert_int_equal(status_exec_errno(EACCES), 126);
	assert_int_equal(status_exec_errno(ENOEXEC), 126);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_exit_code_passes_through),
		cmocka_unit_test(every_signal_is_128_plus_n),
		cmocka_unit_test(who_killed_it),
		cmocka_unit_test(exec_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
