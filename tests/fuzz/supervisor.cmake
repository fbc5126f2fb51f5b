# libFuzzer target of the supervisor's text parsers (built only with -DSV_FUZZ=ON and clang):
#   fuzz.cgroup  cgroup_oom_counter_path + cgroup_parse_oom_kill (/proc/self/cgroup, mountinfo,
#                memory.events / memory.oom_control texts)
# A longer run: build-fuzz/tests/fuzz/fuzz_cgroup -max_total_time=600 CORPUS tests/fuzz/seeds/cgroup
sv_add_fuzz_test(cgroup SOURCE ${CMAKE_CURRENT_LIST_DIR}/fuzz_cgroup.c LIBS sv_supervisor
                 SEEDS ${CMAKE_CURRENT_LIST_DIR}/seeds/cgroup SECONDS 10)
