# Integration test of the stage spec (agents/spec) through the real stagevisor-agent:
# every bad-spec case exits 125 naming the field, a good spec with --check starts nothing.
# Registered only once the agent executable exists (agents/agent.cmake).
if(TARGET stagevisor-agent)
  add_test(NAME integration.spec_errors
           COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_LIST_DIR}/test_spec_errors.py)
  set_tests_properties(integration.spec_errors PROPERTIES TIMEOUT 300 LABELS integration
    ENVIRONMENT "SV_AGENT=$<TARGET_FILE:stagevisor-agent>;SV_SRC=${PROJECT_SOURCE_DIR};SV_BUILD=${PROJECT_BINARY_DIR};SV_SANITIZE=$<BOOL:${SV_SANITIZE}>")
endif()
