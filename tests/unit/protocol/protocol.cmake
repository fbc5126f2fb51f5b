# Unit tests of sv_protocol (protocol/). test_examples.c checks the fenced examples of
# protocol/PROTOCOL.md, so the document and the library cannot drift apart.
set(_d ${CMAKE_CURRENT_LIST_DIR})
sv_add_unit_test(protocol_examples SOURCES ${_d}/test_examples.c LIBS sv_protocol)
target_compile_definitions(protocol_examples PRIVATE
  SV_PROTOCOL_MD="${_d}/../../../protocol/PROTOCOL.md")
sv_add_unit_test(protocol_event SOURCES ${_d}/test_event.c LIBS sv_protocol)
sv_add_unit_test(protocol_batch SOURCES ${_d}/test_batch.c LIBS sv_protocol)
sv_add_unit_test(protocol_ack SOURCES ${_d}/test_ack.c LIBS sv_protocol)
sv_add_unit_test(protocol_response SOURCES ${_d}/test_response.c LIBS sv_protocol)
sv_add_unit_test(protocol_token SOURCES ${_d}/test_token.c LIBS sv_protocol)
sv_add_unit_test(protocol_fallback SOURCES ${_d}/test_fallback.c LIBS sv_protocol)
