# libFuzzer target for the agent's STAGEVISOR_STOP_SIGNALS list (spec_add_stop_signals,
# agents/spec): the images set it to their STOPSIGNAL (images/README.md).
add_executable(fuzz_stop_signals ${CMAKE_CURRENT_LIST_DIR}/fuzz_stop_signals.c)
target_link_libraries(fuzz_stop_signals PRIVATE sv_spec)
target_link_options(fuzz_stop_signals PRIVATE -fsanitize=fuzzer)
set(_corpus ${CMAKE_CURRENT_BINARY_DIR}/corpus_stop_signals)
file(MAKE_DIRECTORY ${_corpus})
add_test(NAME fuzz.stop_signals
         COMMAND fuzz_stop_signals -max_total_time=10 -rss_limit_mb=512 -timeout=10
                 ${_corpus} ${CMAKE_CURRENT_LIST_DIR}/seeds/stop_signals)
set_tests_properties(fuzz.stop_signals PROPERTIES TIMEOUT 60 LABELS fuzz)
