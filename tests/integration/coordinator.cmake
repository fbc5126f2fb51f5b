# Integration tests of the coordinator (stagevisor): the real binary on loopback, with a
# scripted agent (coord_fake_agent.py) and, in test_coord_e2e.py, the real stagevisor-agent.
# sv_ingest_server (tests/bench/ingest_bench_server.c) is the ingest server with N streams and
# no agent: used by test_coord_ingest.py and by tests/bench/ingest_bench.sh.
add_executable(sv_ingest_server ${PROJECT_SOURCE_DIR}/tests/bench/ingest_bench_server.c)
target_link_libraries(sv_ingest_server PRIVATE sv_coord)

foreach(t ingest run playground faults e2e speccheck verdict retention)
  if(EXISTS ${CMAKE_CURRENT_LIST_DIR}/test_coord_${t}.py)
    sv_add_py_test(coord_${t} test_coord_${t}.py)
    set_property(TEST integration.coord_${t} APPEND PROPERTY ENVIRONMENT
                 "SV_INGEST_SERVER=$<TARGET_FILE:sv_ingest_server>")
  endif()
endforeach()

# The ECS requests of coordinator/taskdef.c against botocore's ECS model.
sv_add_py_test(coord_taskdef_botocore test_taskdef_botocore.py)

# Slack notifications against local HTTP(S) servers.
sv_add_py_test(coord_slack test_coord_slack.py)
