# libFuzzer targets for the protocol's decoders (built only with -DSV_FUZZ=ON and clang):
#   fuzz.protocol_body  pr_batch_decode + pr_ack_plan + pr_response_format/parse (request bodies)
#   fuzz.protocol_line  pr_fallback_parse_line + pr_rebuild (fallback marker lines)
# ctest runs each for 15 s on the seeds in seeds/<name>/ plus a corpus dir in the build tree
# (new inputs go there, never into the source tree). A longer run by hand:
#   build-test-fuzz/fuzz_protocol_body -max_total_time=600 CORPUS tests/fuzz/seeds/protocol_body
foreach(_name protocol_body protocol_line)
  add_executable(fuzz_${_name} ${CMAKE_CURRENT_LIST_DIR}/fuzz_${_name}.c)
  target_link_libraries(fuzz_${_name} PRIVATE sv_protocol)
  target_link_options(fuzz_${_name} PRIVATE -fsanitize=fuzzer)
  set(_corpus ${CMAKE_CURRENT_BINARY_DIR}/corpus_${_name})
  file(MAKE_DIRECTORY ${_corpus})
  add_test(NAME fuzz.${_name}
           COMMAND fuzz_${_name} -max_total_time=15 -rss_limit_mb=512 -timeout=10
                   ${_corpus} ${CMAKE_CURRENT_LIST_DIR}/seeds/${_name})
  set_tests_properties(fuzz.${_name} PROPERTIES TIMEOUT 90 LABELS fuzz)
endforeach()
