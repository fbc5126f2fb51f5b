# libFuzzer target for the SigV4 signer (coordinator/aws/sigv4.c): bytes read as an HTTP
# request (the AWS test suite's .req form), signed with S3 rules, session tokens and
# UNSIGNED-PAYLOAD picked by a hash of the input, invariants of the canonical request checked.
# Seeds: seeds/sigv4 and, read in place, the AWS test suite (../shared/data/aws4_testsuite).
# The run works on a copy of the seeds so the repository's corpus is never written to.
add_executable(fuzz_sigv4 ${CMAKE_CURRENT_LIST_DIR}/fuzz_sigv4.c)
target_link_libraries(fuzz_sigv4 PRIVATE sv_aws)
target_link_options(fuzz_sigv4 PRIVATE -fsanitize=fuzzer)
add_test(NAME fuzz.sigv4
  COMMAND sh -c "rm -rf \"$1\" && mkdir -p \"$1\" && cp \"$2\"/* \"$1\"/ && \"$3\" -max_total_time=15 -rss_limit_mb=512 -timeout=10 -max_len=8192 \"$1\" \"$4\""
          fuzz_sigv4 ${CMAKE_CURRENT_BINARY_DIR}/fuzz_sigv4_corpus
          ${CMAKE_CURRENT_LIST_DIR}/seeds/sigv4 $<TARGET_FILE:fuzz_sigv4>
          ${PROJECT_SOURCE_DIR}/../shared/data/aws4_testsuite)
# Each input frees a few tens of KiB: ASan's default 256 MiB quarantine alone would take the
# run close to the RSS limit, so it is made smaller (a leak would still grow past the limit).
set_tests_properties(fuzz.sigv4 PROPERTIES LABELS fuzz TIMEOUT 120
  ENVIRONMENT "ASAN_OPTIONS=quarantine_size_mb=32")
