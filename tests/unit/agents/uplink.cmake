# Unit tests of sv_uplink (agents/uplink/): the pure parts (backoff, pacer: batch limit, request
# timeout and retry pace; config, spool placement and shedding), and test_uplink_loop.c: the uplink against an in-process evhttp + OpenSSL server
# on 127.0.0.1 with a certificate minted in memory (faults: 503, 429 + Retry-After, lost
# answers, closed connections, server down at start, wrong pin, CA bundle, shedding).
set(_d ${CMAKE_CURRENT_LIST_DIR})
sv_add_unit_test(uplink_backoff SOURCES ${_d}/test_uplink_backoff.c LIBS sv_uplink)
sv_add_unit_test(uplink_pacer SOURCES ${_d}/test_uplink_pacer.c LIBS sv_uplink)
sv_add_unit_test(uplink_config SOURCES ${_d}/test_uplink_config.c LIBS sv_uplink)
sv_add_unit_test(uplink_spool SOURCES ${_d}/test_uplink_spool.c LIBS sv_uplink)
sv_add_unit_test(uplink_loop SOURCES ${_d}/test_uplink_loop.c LIBS sv_uplink)
set_tests_properties(unit.uplink_loop PROPERTIES TIMEOUT 300)
