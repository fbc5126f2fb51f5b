# fuzz.cleanup: the parsers of `stagevisor cleanup` (image references from ECS answers,
# task-definition ARNs, image tags). Seeds: seeds/cleanup.
if(TARGET sv_coord)
  add_executable(fuzz_cleanup ${CMAKE_CURRENT_LIST_DIR}/fuzz_cleanup.c)
  target_link_libraries(fuzz_cleanup PRIVATE sv_coord)
  target_link_options(fuzz_cleanup PRIVATE -fsanitize=fuzzer)
  add_test(NAME fuzz.cleanup
    COMMAND sh -c "rm -rf \"$1\" && mkdir -p \"$1\" && cp \"$2\"/* \"$1\"/ && \"$3\" -max_total_time=10 -rss_limit_mb=512 -timeout=10 -max_len=1300 \"$1\""
            fuzz_cleanup ${CMAKE_CURRENT_BINARY_DIR}/fuzz_cleanup_corpus
            ${CMAKE_CURRENT_LIST_DIR}/seeds/cleanup $<TARGET_FILE:fuzz_cleanup>)
  set_tests_properties(fuzz.cleanup PROPERTIES LABELS fuzz TIMEOUT 90
    ENVIRONMENT "ASAN_OPTIONS=quarantine_size_mb=32")
endif()
