# libFuzzer target of the supervisor's text parsers (built only with -DSV_FUZZ=ON and clang):
#   fuzz.cgroup  cgroup_oom_counter_path + cgroup_parse_oom_kill (/proc/self/cgroup, mountinfo,
#                memory.events / memory.oom_control texts)
# A longer run: build-fuzz/tests/fuzz/fuzz_cgroup -max_total_time=600 CORPUS tests/fuzz/seeds/cgroup
add_executable(fuzz_cgroup ${CMAKE_CURRENT_LIST_DIR}/fuzz_cgroup.c)
target_link_libraries(fuzz_cgroup PRIVATE sv_supervisor)
target_link_options(fuzz_cgroup PRIVATE -fsanitize=fuzzer)
set(_corpus ${CMAKE_CURRENT_BINARY_DIR}/corpus_cgroup)
file(MAKE_DIRECTORY ${_corpus})
add_test(NAME fuzz.cgroup
         COMMAND fuzz_cgroup -max_total_time=10 -rss_limit_mb=512 -timeout=10
                 ${_corpus} ${CMAKE_CURRENT_LIST_DIR}/seeds/cgroup)
set_tests_properties(fuzz.cgroup PROPERTIES TIMEOUT 90 LABELS fuzz)
