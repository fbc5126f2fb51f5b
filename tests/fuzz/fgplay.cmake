# fuzz.route53: the Route 53 answers read by `playground --backend fargate` and `teardown`, and
# the change bodies built from any name and address. Seeds: seeds/route53.
if(TARGET sv_coord)
  add_executable(fuzz_route53 ${CMAKE_CURRENT_LIST_DIR}/fuzz_route53.c)
  target_link_libraries(fuzz_route53 PRIVATE sv_coord)
  target_link_options(fuzz_route53 PRIVATE -fsanitize=fuzzer)
  add_test(NAME fuzz.route53
    COMMAND sh -c "rm -rf \"$1\" && mkdir -p \"$1\" && cp \"$2\"/* \"$1\"/ && \"$3\" -max_total_time=10 -rss_limit_mb=512 -timeout=10 -max_len=8192 \"$1\""
            fuzz_route53 ${CMAKE_CURRENT_BINARY_DIR}/fuzz_route53_corpus
            ${CMAKE_CURRENT_LIST_DIR}/seeds/route53 $<TARGET_FILE:fuzz_route53>)
  set_tests_properties(fuzz.route53 PROPERTIES LABELS fuzz TIMEOUT 90
    ENVIRONMENT "ASAN_OPTIONS=quarantine_size_mb=32")
endif()
