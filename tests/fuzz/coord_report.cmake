# libFuzzer target for the coordinator's verdict and reports (built only with -DSV_FUZZ=ON):
#   fuzz.coord_report  report_judge + junit_write + report_json over stored events
# Input: JSON lines of events without their envelope (the harness stamps v, stream, seq, ts);
# the first byte chooses how the agent ended. Seeds in seeds/coord_report/.
# A longer run: build-fuzz/tests/fuzz/fuzz_coord_report -max_total_time=600 CORPUS tests/fuzz/seeds/coord_report
sv_add_fuzz_test(coord_report SOURCE ${CMAKE_CURRENT_LIST_DIR}/fuzz_coord_report.c LIBS sv_coord
                 SEEDS ${CMAKE_CURRENT_LIST_DIR}/seeds/coord_report SECONDS 15)
