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
# The uplink is a module, stagevisor-agent-uplink.so next to the binary, that the agent loads
# only when STAGEVISOR_URL is set (uplink_glue.h): an agent without a coordinator never maps
# OpenSSL (libcrypto's relocations alone cost ~1.8 MB of RSS). The module calls back into the
# executable (stage_*, events_*, sv_*), which therefore exports its symbols.
if(TARGET sv_uplink)
  set_target_properties(sv_uplink sv_protocol PROPERTIES POSITION_INDEPENDENT_CODE ON)
  add_library(stagevisor-agent-uplink MODULE ${CMAKE_CURRENT_LIST_DIR}/uplink_glue.c)
  set_target_properties(stagevisor-agent-uplink PROPERTIES PREFIX ""
    LIBRARY_OUTPUT_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR})
  target_include_directories(stagevisor-agent-uplink PRIVATE ${CMAKE_CURRENT_LIST_DIR}
    $<TARGET_PROPERTY:sv_supervisor,INTERFACE_INCLUDE_DIRECTORIES>
    $<TARGET_PROPERTY:sv_spec,INTERFACE_INCLUDE_DIRECTORIES>)
  target_link_libraries(stagevisor-agent-uplink PRIVATE sv_uplink)
  set_target_properties(stagevisor-agent PROPERTIES ENABLE_EXPORTS ON)
  target_link_libraries(stagevisor-agent PRIVATE ${CMAKE_DL_LIBS})
  target_compile_definitions(stagevisor-agent PRIVATE SV_HAVE_UPLINK)
  target_include_directories(stagevisor-agent PRIVATE $<TARGET_PROPERTY:sv_uplink,INTERFACE_INCLUDE_DIRECTORIES>)
  add_dependencies(stagevisor-agent stagevisor-agent-uplink)
endif()

# `cmake --install BUILD --component agent [--prefix P]`: the agent and its uplink module,
# side by side in P/bin (the agent loads the module from its own directory; an image copies
# both: images/README.md).
include(GNUInstallDirs)
install(TARGETS stagevisor-agent RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT agent)
if(TARGET stagevisor-agent-uplink)
  install(TARGETS stagevisor-agent-uplink LIBRARY DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT agent)
endif()
