# Unit tests of agents/results (result parsers, fingerprints, the watcher).
foreach(t boundtext fingerprint parser watch xmlenc)
  sv_add_unit_test(results_${t} SOURCES ${CMAKE_CURRENT_LIST_DIR}/results/test_${t}.c LIBS sv_results)
endforeach()
# test_parser reads the fuzz seeds (real tool reports); test_watch runs the real phpunit
# on a copy of examples/site.
target_compile_definitions(results_parser PRIVATE SV_SRC_DIR="${PROJECT_SOURCE_DIR}")
target_compile_definitions(results_watch PRIVATE SV_SRC_DIR="${PROJECT_SOURCE_DIR}")
target_link_libraries(results_watch PRIVATE PkgConfig::LIBEVENT)
