# Unit tests of the supervisor's pure parts (supervisor/): one cmocka executable per module.
foreach(t backoff cgroup proc graph linesplit outbuf status sweep probe output spawn supervisor)
  sv_add_unit_test(supervisor_${t} SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_${t}.c LIBS sv_supervisor)
endforeach()
