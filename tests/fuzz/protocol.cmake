# libFuzzer targets for the protocol's decoders (built only with -DSV_FUZZ=ON and clang):
#   fuzz.protocol_body  pr_batch_decode + pr_ack_plan + pr_response_format/parse (request bodies)
#   fuzz.protocol_line  pr_fallback_parse_line + pr_rebuild (fallback marker lines)
# ctest runs each for 15 s on the seeds in seeds/<name>/. A longer run by hand:
#   build-test-fuzz/tests/fuzz/fuzz_protocol_body -max_total_time=600 CORPUS tests/fuzz/seeds/protocol_body
foreach(t protocol_body protocol_line)
  sv_add_fuzz_test(${t} SOURCE ${CMAKE_CURRENT_LIST_DIR}/fuzz_${t}.c LIBS sv_protocol
                   SEEDS ${CMAKE_CURRENT_LIST_DIR}/seeds/${t} SECONDS 15)
endforeach()
