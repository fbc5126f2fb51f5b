# libFuzzer target for the coordinator's verdict and reports (built only with -DSV_FUZZ=ON):
#   fuzz.coord_report  report_judge + junit_write + report_json over stored events
# Input: JSON lines of events without their envelope (the harness stamps v, stream, seq, ts);
# the first byte chooses how the agent ended. Seeds in seeds/coord_report/.
# A longer run: build-fuzz/tests/fuzz/fuzz_coord_report -max_total_time=600 CORPUS tests/fuzz/seeds/coord_report
add_executable(fuzz_coord_report ${CMAKE_CURRENT_LIST_DIR}/fuzz_coord_report.c)
target_link_libraries(fuzz_coord_report PRIVATE sv_coord)
target_link_options(fuzz_coord_report PRIVATE -fsanitize=fuzzer)
set(_corpus ${CMAKE_CURRENT_BINARY_DIR}/corpus_coord_report)
file(MAKE_DIRECTORY ${_corpus})
add_test(NAME fuzz.coord_report
         COMMAND fuzz_coord_report -max_total_time=15 -rss_limit_mb=512 -timeout=10
                 ${_corpus} ${CMAKE_CURRENT_LIST_DIR}/seeds/coord_report)
set_tests_properties(fuzz.coord_report PROPERTIES TIMEOUT 90 LABELS fuzz)
