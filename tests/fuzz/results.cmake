# libFuzzer targets of agents/results: one per format, all from fuzz_results.c.
# ctest runs each briefly (label fuzz); a longer run: scripts/fuzz-results FORMAT SECONDS.
# New corpus entries go to the build tree, never into tests/fuzz/seeds.
set(SV_RESULTS_FUZZ_SECONDS 10 CACHE STRING "seconds per results fuzz target in ctest")
foreach(fmt junit teamcity checkstyle phpstan-json pmd pmd-cpd phploc-json)
  string(REPLACE "-" "_" id ${fmt})
  set(t fuzz_results_${id})
  add_executable(${t} ${CMAKE_CURRENT_LIST_DIR}/fuzz_results.c)
  target_compile_definitions(${t} PRIVATE RS_FUZZ_FORMAT="${fmt}")
  target_link_libraries(${t} PRIVATE sv_results)
  target_link_options(${t} PRIVATE -fsanitize=fuzzer)
  set(corpus ${CMAKE_CURRENT_BINARY_DIR}/corpus/results_${id})
  file(MAKE_DIRECTORY ${corpus})
  add_test(NAME fuzz.results_${id}
           COMMAND ${t} -max_total_time=${SV_RESULTS_FUZZ_SECONDS} -rss_limit_mb=512 -timeout=10
                   -max_len=65536 ${corpus} ${CMAKE_CURRENT_LIST_DIR}/seeds/results_${id})
  set_tests_properties(fuzz.results_${id} PROPERTIES LABELS fuzz TIMEOUT 120)
endforeach()
# The XML formats in declared encodings (agents/results/xmlenc.c): the input picks the
# encoding and the format (see fuzz_results.c).
add_executable(fuzz_results_encodings ${CMAKE_CURRENT_LIST_DIR}/fuzz_results.c)
target_compile_definitions(fuzz_results_encodings PRIVATE RS_FUZZ_ENCODINGS=1)
target_link_libraries(fuzz_results_encodings PRIVATE sv_results)
target_link_options(fuzz_results_encodings PRIVATE -fsanitize=fuzzer)
file(MAKE_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR}/corpus/results_encodings)
add_test(NAME fuzz.results_encodings
         COMMAND fuzz_results_encodings -max_total_time=${SV_RESULTS_FUZZ_SECONDS} -rss_limit_mb=512 -timeout=10
                 -max_len=65536 ${CMAKE_CURRENT_BINARY_DIR}/corpus/results_encodings
                 ${CMAKE_CURRENT_LIST_DIR}/seeds/results_encodings)
set_tests_properties(fuzz.results_encodings PROPERTIES LABELS fuzz TIMEOUT 120)
