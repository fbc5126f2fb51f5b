# stagevisor-agent: main.c (the table of contents), stage.c (spec -> supervisor, reports ->
# events), events.c (the event sink). Links the supervisor engine, the spec parser, the
# protocol library and, when they exist, the result parsers (results_glue.c) and the uplink
# (uplink_glue.c). Never libcurl; OpenSSL only through the uplink, and only initialised when
# STAGEVISOR_URL is set.
add_executable(stagevisor-agent
  ${CMAKE_CURRENT_LIST_DIR}/main.c
  ${CMAKE_CURRENT_LIST_DIR}/stage.c
  ${CMAKE_CURRENT_LIST_DIR}/events.c)
target_include_directories(stagevisor-agent PRIVATE ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries(stagevisor-agent PRIVATE sv_supervisor sv_spec sv_protocol PkgConfig::JANSSON)
if(TARGET sv_results)
  target_sources(stagevisor-agent PRIVATE ${CMAKE_CURRENT_LIST_DIR}/results_glue.c)
  target_link_libraries(stagevisor-agent PRIVATE sv_results)
  target_compile_definitions(stagevisor-agent PRIVATE SV_HAVE_RESULTS)
endif()
if(TARGET sv_uplink)
  target_sources(stagevisor-agent PRIVATE ${CMAKE_CURRENT_LIST_DIR}/uplink_glue.c)
  target_link_libraries(stagevisor-agent PRIVATE sv_uplink)
  target_compile_definitions(stagevisor-agent PRIVATE SV_HAVE_UPLINK)
endif()
