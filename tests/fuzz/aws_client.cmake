# libFuzzer targets for every parser of AWS answers and files in coordinator/aws/ (issue 8):
#   fuzz.aws_error  error answers: JSON, XML, HTML, truncated bodies; the one-line format
#   fuzz.aws_ini    shared config/credentials files, then profile/region/endpoint resolution
#   fuzz.aws_creds  ECS container / EC2 instance-metadata credential documents, ISO times
#   fuzz.aws_xml    REST-XML and query answers to JSON
# Seeds: seeds/aws_<name>. Each run works on a copy so the repository's corpus is not written.
foreach(t error ini creds xml)
  add_executable(fuzz_aws_${t} ${CMAKE_CURRENT_LIST_DIR}/fuzz_aws_${t}.c)
  target_link_libraries(fuzz_aws_${t} PRIVATE sv_aws)
  target_link_options(fuzz_aws_${t} PRIVATE -fsanitize=fuzzer)
  add_test(NAME fuzz.aws_${t}
    COMMAND sh -c "rm -rf \"$1\" && mkdir -p \"$1\" && cp \"$2\"/* \"$1\"/ && \"$3\" -max_total_time=10 -rss_limit_mb=512 -timeout=10 -max_len=16384 \"$1\""
            fuzz_aws_${t} ${CMAKE_CURRENT_BINARY_DIR}/fuzz_aws_${t}_corpus
            ${CMAKE_CURRENT_LIST_DIR}/seeds/aws_${t} $<TARGET_FILE:fuzz_aws_${t}>)
  set_tests_properties(fuzz.aws_${t} PROPERTIES LABELS fuzz TIMEOUT 90
    ENVIRONMENT "ASAN_OPTIONS=quarantine_size_mb=32")
endforeach()
