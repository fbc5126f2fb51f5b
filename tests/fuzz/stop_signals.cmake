# libFuzzer target for the agent's STAGEVISOR_STOP_SIGNALS list (spec_add_stop_signals,
# agents/spec): the images set it to their STOPSIGNAL (images/README.md).
sv_add_fuzz_test(stop_signals SOURCE ${CMAKE_CURRENT_LIST_DIR}/fuzz_stop_signals.c LIBS sv_spec
                 SEEDS ${CMAKE_CURRENT_LIST_DIR}/seeds/stop_signals SECONDS 10 TIMEOUT 60)
