# libFuzzer targets of agents/results: one per format, all from fuzz_results.c.
# ctest runs each briefly (label fuzz); a longer run: scripts/fuzz-results FORMAT SECONDS.
set(SV_RESULTS_FUZZ_SECONDS 10 CACHE STRING "seconds per results fuzz target in ctest")
foreach(fmt junit teamcity checkstyle phpstan-json pmd pmd-cpd phploc-json)
  string(REPLACE "-" "_" id ${fmt})
  sv_add_fuzz_test(results_${id} SOURCE ${CMAKE_CURRENT_LIST_DIR}/fuzz_results.c LIBS sv_results
                   DEFINITIONS RS_FUZZ_FORMAT="${fmt}" SEEDS ${CMAKE_CURRENT_LIST_DIR}/seeds/results_${id}
                   SECONDS ${SV_RESULTS_FUZZ_SECONDS} MAX_LEN 65536 TIMEOUT 120)
endforeach()
# The XML formats in declared encodings (agents/results/xmlenc.c): the input picks the
# encoding and the format (see fuzz_results.c).
sv_add_fuzz_test(results_encodings SOURCE ${CMAKE_CURRENT_LIST_DIR}/fuzz_results.c LIBS sv_results
                 DEFINITIONS RS_FUZZ_ENCODINGS=1 SEEDS ${CMAKE_CURRENT_LIST_DIR}/seeds/results_encodings
                 SECONDS ${SV_RESULTS_FUZZ_SECONDS} MAX_LEN 65536 TIMEOUT 120)
