# libFuzzer target for the stage spec parser (agents/spec). A short run is part of the suite;
# a longer one: scripts/fuzz-spec SECONDS.
add_executable(fuzz_spec ${CMAKE_CURRENT_LIST_DIR}/fuzz_spec.c)
target_link_libraries(fuzz_spec PRIVATE sv_spec)
target_link_options(fuzz_spec PRIVATE -fsanitize=fuzzer)
# The run works on a copy of the seeds so the repository's corpus is never written to.
add_test(NAME fuzz.spec
  COMMAND sh -c "rm -rf \"$1\" && mkdir -p \"$1\" && cp \"$2\"/* \"$1\"/ && \"$3\" -max_total_time=20 -rss_limit_mb=512 -max_len=65536 -dict=\"$4\" \"$1\""
          fuzz_spec ${CMAKE_CURRENT_BINARY_DIR}/fuzz_spec_corpus
          ${CMAKE_CURRENT_LIST_DIR}/seeds/spec $<TARGET_FILE:fuzz_spec>
          ${CMAKE_CURRENT_LIST_DIR}/spec.dict)
set_tests_properties(fuzz.spec PROPERTIES LABELS fuzz TIMEOUT 120)
