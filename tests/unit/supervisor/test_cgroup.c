/* Tests of supervisor/cgroup.c: the oom_kill counter in cgroup v1 memory.oom_control and v2
 * memory.events texts, finding the counter file from /proc/self/cgroup + /proc/self/mountinfo
 * texts of real layouts (v1, v2, hybrid, containers with and without a cgroup namespace), and
 * the I/O layer on a fake tree in a temporary directory (the counter read before and after). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "cgroup.h"

/* /proc/self/mountinfo of a cgroup v1 host with v2 mounted for systemd only (hybrid), as on
 * this project's CI machines. */
static const char HYBRID_MOUNTINFO[] =
	"22 1 253:1 / / rw,relatime shared:1 - ext4 /dev/vda rw\n"
	"30 22 0:27 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
	"31 30 0:28 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
	"33 30 0:30 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset\n"
	"34 30 0:31 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
	"39 30 0:36 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd\n"
	"40 30 0:37 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";
static const char HYBRID_CGROUP[] =
	"9:name=systemd:/\n"
	"4:memory:/process_api/7d5168619ee7e881732a63ed9e1add7d\n"
	"3:cpuset:/\n"
	"1:cpu:/\n"
	"0::/\n";

static const char V2_MOUNTINFO[] =
	"22 1 253:1 / / rw,relatime shared:1 - ext4 /dev/vda rw\n"
	"26 22 0:23 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 cgroup2 "
	"rw,nsdelegate,memory_recursiveprot\n";

static void parse_counter(void **state)
{
	(void)state;
	/* v2 memory.events */
	assert_int_equal(cgroup_parse_oom_kill("low 0\nhigh 0\nmax 3\noom 2\noom_kill 7\noom_group_kill 0\n"), 7);
	/* v1 memory.oom_control */
	assert_int_equal(cgroup_parse_oom_kill("oom_kill_disable 0\nunder_oom 0\noom_kill 3\n"), 3);
	assert_int_equal(cgroup_parse_oom_kill("oom_kill_disable 0\nunder_oom 0\noom_kill 0"), 0);
	assert_int_equal(cgroup_parse_oom_kill("oom_kill 18446744073\n"), 18446744073LL);
	/* v1 before Linux 4.13 has no counter; "oom_kill_disable 1" is not it */
	assert_int_equal(cgroup_parse_oom_kill("oom_kill_disable 1\nunder_oom 0\n"), -1);
	assert_int_equal(cgroup_parse_oom_kill("oom 2\noom_group_kill 4\n"), -1);
	assert_int_equal(cgroup_parse_oom_kill(""), -1);
	assert_int_equal(cgroup_parse_oom_kill(NULL), -1);
	assert_int_equal(cgroup_parse_oom_kill("oom_kill x\n"), -1);
	assert_int_equal(cgroup_parse_oom_kill("oom_kill -1\n"), -1);
	assert_int_equal(cgroup_parse_oom_kill("oom_kill 5x\n"), -1);
	assert_int_equal(cgroup_parse_oom_kill("oom_kill 99999999999999999999\n"), -1);
}

static void path_v1_hybrid_host(void **state)
{
	char buf[256];
	(void)state;
	assert_int_equal(cgroup_oom_counter_path(HYBRID_CGROUP, HYBRID_MOUNTINFO, buf, sizeof buf), CGROUP_V1);
	assert_string_equal(buf, "/sys/fs/cgroup/memory/process_api/7d5168619ee7e881732a63ed9e1add7d/memory.oom_control");
	/* the root cgroup */
	assert_int_equal(cgroup_oom_counter_path("4:memory:/\n0::/\n", HYBRID_MOUNTINFO, buf, sizeof buf), CGROUP_V1);
	assert_string_equal(buf, "/sys/fs/cgroup/memory/memory.oom_control");
	/* without mountinfo: the usual mount point */
	assert_int_equal(cgroup_oom_counter_path(HYBRID_CGROUP, NULL, buf, sizeof buf), CGROUP_V1);
	assert_string_equal(buf, "/sys/fs/cgroup/memory/process_api/7d5168619ee7e881732a63ed9e1add7d/memory.oom_control");
	/* too small a buffer */
	assert_int_equal(cgroup_oom_counter_path(HYBRID_CGROUP, HYBRID_MOUNTINFO, buf, 40), -1);
}

static void path_v1_container(void **state)
{
	char buf[256];
	/* Docker/ECS on v1 without a cgroup namespace: the container sees its own cgroup mounted
	 * at /sys/fs/cgroup/memory, the mount's root being that cgroup. */
	static const char mi[] =
		"600 580 0:31 /ecs/task1/c0ffee /sys/fs/cgroup/memory ro,nosuid master:15 - cgroup cgroup rw,memory\n";
	(void)state;
	assert_int_equal(cgroup_oom_counter_path("11:memory:/ecs/task1/c0ffee\n", mi, buf, sizeof buf), CGROUP_V1);
	assert_string_equal(buf, "/sys/fs/cgroup/memory/memory.oom_control");
	assert_int_equal(cgroup_oom_counter_path("11:memory:/ecs/task1/c0ffee/sub\n", mi, buf, sizeof buf), CGROUP_V1);
	assert_string_equal(buf, "/sys/fs/cgroup/memory/sub/memory.oom_control");
	/* a cgroup outside the mount's root is not visible; a name that only starts like the
	 * root is another cgroup */
	assert_int_equal(cgroup_oom_counter_path("11:memory:/ecs/task2\n", mi, buf, sizeof buf), -1);
	assert_int_equal(cgroup_oom_counter_path("11:memory:/ecs/task1/c0ffee2\n", mi, buf, sizeof buf), -1);
	/* memory co-mounted with another controller, optional fields, an escaped mount point */
	assert_int_equal(cgroup_oom_counter_path(
				 "5:cpu,memory:/j\n",
				 "40 30 0:40 / /mnt/cg\\040root rw shared:3 master:1 - cgroup none rw,cpu,memory\n", buf,
				 sizeof buf),
			 CGROUP_V1);
	assert_string_equal(buf, "/mnt/cg root/j/memory.oom_control");
	/* a mount point or root that is not absolute is not a mount the kernel wrote */
	assert_int_equal(cgroup_oom_counter_path("5:memory:/j\n", "40 30 0:40 / m rw - cgroup cgroup rw,memory\n", buf,
						 sizeof buf),
			 -1);
	assert_int_equal(cgroup_oom_counter_path("5:memory:/j\n", "40 30 0:40 j /m rw - cgroup cgroup rw,memory\n", buf,
						 sizeof buf),
			 -1);
	/* "memory" must be a whole controller name, in both files */
	assert_int_equal(cgroup_oom_counter_path("5:memoryx:/j\n", HYBRID_MOUNTINFO, buf, sizeof buf), -1);
	assert_int_equal(cgroup_oom_counter_path(
				 "5:memory:/j\n", "40 30 0:40 / /m rw - cgroup cgroup rw,memoryx\n", buf, sizeof buf),
			 -1);
}

static void path_v2(void **state)
{
	char buf[256];
	(void)state;
	assert_int_equal(cgroup_oom_counter_path("0::/system.slice/x.scope\n", V2_MOUNTINFO, buf, sizeof buf),
			 CGROUP_V2);
	assert_string_equal(buf, "/sys/fs/cgroup/system.slice/x.scope/memory.events");
	assert_int_equal(cgroup_oom_counter_path("0::/\n", V2_MOUNTINFO, buf, sizeof buf), CGROUP_V2);
	assert_string_equal(buf, "/sys/fs/cgroup/memory.events");
	assert_int_equal(cgroup_oom_counter_path("0::/a\n", NULL, buf, sizeof buf), CGROUP_V2);
	assert_string_equal(buf, "/sys/fs/cgroup/a/memory.events");
	/* a container without a cgroup namespace, its cgroup bind-mounted */
	assert_int_equal(cgroup_oom_counter_path(
				 "0::/kubepods/pod1/c\n",
				 "50 40 0:23 /kubepods/pod1 /sys/fs/cgroup ro - cgroup2 cgroup2 rw\n", buf, sizeof buf),
			 CGROUP_V2);
	assert_string_equal(buf, "/sys/fs/cgroup/c/memory.events");
	/* memory is bound to v1 but not mounted here: the v2 tree has no memory controller then */
	assert_int_equal(cgroup_oom_counter_path(
				 "4:memory:/x\n0::/y\n",
				 "40 30 0:37 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n", buf, sizeof buf),
			 -1);
	/* a hybrid host where memory is on v2 (no v1 memory line) */
	assert_int_equal(cgroup_oom_counter_path("1:cpu:/\n0::/y\n", HYBRID_MOUNTINFO, buf, sizeof buf), CGROUP_V2);
	assert_string_equal(buf, "/sys/fs/cgroup/unified/y/memory.events");
	/* no memory cgroup at all */
	assert_int_equal(cgroup_oom_counter_path("1:cpu:/\n", V2_MOUNTINFO, buf, sizeof buf), -1);
	assert_int_equal(cgroup_oom_counter_path("0::/x\n", "22 1 253:1 / / rw - ext4 /dev/vda rw\n", buf,
						 sizeof buf),
			 -1);
	assert_int_equal(cgroup_oom_counter_path("", V2_MOUNTINFO, buf, sizeof buf), -1);
	assert_int_equal(cgroup_oom_counter_path("garbage\n::\n0:\n", "- - -\n\n", buf, sizeof buf), -1);
	assert_int_equal(cgroup_oom_counter_path(NULL, V2_MOUNTINFO, buf, sizeof buf), -1);
}

/* ---- the I/O layer on a fake tree --------------------------------------------------------- */

static void put(const char *root, const char *rel, const char *text)
{
	char path[512], dir[512];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", root, rel);
	for (char *s = strchr(path + strlen(root) + 1, '/'); s; s = strchr(s + 1, '/')) {
		snprintf(dir, sizeof dir, "%.*s", (int)(s - path), path);
		mkdir(dir, 0755);
	}
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void rm_tree(const char *root)
{
	char cmd[600];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
	assert_int_equal(system(cmd), 0);
}

static void fake_tree_v1(void **state)
{
	char root[] = "/tmp/sv-cgroup-test-XXXXXX", buf[1024], want[1024];
	(void)state;
	assert_non_null(mkdtemp(root));
	put(root, "proc/self/cgroup", HYBRID_CGROUP);
	put(root, "proc/self/mountinfo", HYBRID_MOUNTINFO);
	/* no counter file yet: nothing to read */
	assert_int_equal(cgroup_find_oom_counter(root, buf, sizeof buf), -1);
	assert_string_equal(buf, "");
	/* a kernel older than 4.13: the file has no counter */
	put(root, "sys/fs/cgroup/memory/process_api/7d5168619ee7e881732a63ed9e1add7d/memory.oom_control",
	    "oom_kill_disable 0\nunder_oom 0\n");
	assert_int_equal(cgroup_find_oom_counter(root, buf, sizeof buf), -1);
	put(root, "sys/fs/cgroup/memory/process_api/7d5168619ee7e881732a63ed9e1add7d/memory.oom_control",
	    "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n");
	assert_int_equal(cgroup_find_oom_counter(root, buf, sizeof buf), CGROUP_V1);
	snprintf(want, sizeof want,
		 "%s/sys/fs/cgroup/memory/process_api/7d5168619ee7e881732a63ed9e1add7d/memory.oom_control", root);
	assert_string_equal(buf, want);
	assert_int_equal(cgroup_read_oom_kills(buf), 2);
	put(root, "sys/fs/cgroup/memory/process_api/7d5168619ee7e881732a63ed9e1add7d/memory.oom_control",
	    "oom_kill_disable 0\nunder_oom 1\noom_kill 3\n");
	assert_int_equal(cgroup_read_oom_kills(buf), 3);
	/* too small a buffer for root + path */
	assert_int_equal(cgroup_find_oom_counter(root, buf, 40), -1);
	rm_tree(root);
}

static void fake_tree_v2(void **state)
{
	char root[] = "/tmp/sv-cgroup-test-XXXXXX", buf[1024], want[1024];
	(void)state;
	assert_non_null(mkdtemp(root));
	put(root, "proc/self/cgroup", "0::/system.slice/ci.scope\n");
	/* no mountinfo: /sys/fs/cgroup is assumed */
	put(root, "sys/fs/cgroup/system.slice/ci.scope/memory.events", "low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\n");
	assert_int_equal(cgroup_find_oom_counter(root, buf, sizeof buf), CGROUP_V2);
	snprintf(want, sizeof want, "%s/sys/fs/cgroup/system.slice/ci.scope/memory.events", root);
	assert_string_equal(buf, want);
	assert_int_equal(cgroup_read_oom_kills(buf), 0);
	put(root, "proc/self/mountinfo", V2_MOUNTINFO);
	assert_int_equal(cgroup_find_oom_counter(root, buf, sizeof buf), CGROUP_V2);
	assert_string_equal(buf, want);
	put(root, "sys/fs/cgroup/system.slice/ci.scope/memory.events", "low 0\nhigh 0\nmax 1\noom 1\noom_kill 1\n");
	assert_int_equal(cgroup_read_oom_kills(buf), 1);
	rm_tree(root);
	assert_int_equal(cgroup_read_oom_kills(buf), -1);
	assert_int_equal(cgroup_read_oom_kills(""), -1);
	assert_int_equal(cgroup_read_oom_kills(NULL), -1);
	assert_int_equal(cgroup_find_oom_counter(root, buf, sizeof buf), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parse_counter),
		cmocka_unit_test(path_v1_hybrid_host),
		cmocka_unit_test(path_v1_container),
		cmocka_unit_test(path_v2),
		cmocka_unit_test(fake_tree_v1),
		cmocka_unit_test(fake_tree_v2),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
