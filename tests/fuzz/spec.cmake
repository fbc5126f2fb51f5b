# libFuzzer target for the stage spec parser (agents/spec). A short run is part of the suite;
# a longer one: scripts/fuzz-spec SECONDS.
sv_add_fuzz_test(spec SOURCE ${CMAKE_CURRENT_LIST_DIR}/fuzz_spec.c LIBS sv_spec
                 SEEDS ${CMAKE_CURRENT_LIST_DIR}/seeds/spec SECONDS 20 MAX_LEN 65536 TIMEOUT 120
                 ARGS -dict=${CMAKE_CURRENT_LIST_DIR}/spec.dict)
