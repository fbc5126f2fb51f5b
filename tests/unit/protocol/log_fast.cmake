# The direct `log` event path (protocol/event.c quoting, agents/events.c events_emit_log)
# checked byte for byte against the jansson path.
set(_d ${CMAKE_CURRENT_LIST_DIR})
sv_add_unit_test(protocol_log_fast SOURCES ${_d}/test_log_fast.c ${_d}/../../../agents/events.c
  LIBS sv_protocol)
target_include_directories(protocol_log_fast PRIVATE ${_d}/../../..)
