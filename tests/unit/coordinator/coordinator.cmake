# Unit tests of the coordinator (coordinator/): pure logic and in-memory modules.
foreach(t stream ingest junit report console cert playground slug placeholder port retention hooks
          pipeline slack taskdef taskfail taskwatch fargate)
  sv_add_unit_test(coord_${t} SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_${t}.c LIBS sv_coord)
endforeach()

# A tool for tests/integration/test_taskdef_botocore.py: the ECS requests of each stage.
add_executable(taskdef_dump ${CMAKE_CURRENT_LIST_DIR}/taskdef_dump.c)
target_link_libraries(taskdef_dump PRIVATE sv_coord)

# A tool for tests/integration/test_coord_slack.py: one Slack post through coordinator/slack.c.
add_executable(slack_send ${CMAKE_CURRENT_LIST_DIR}/slack_send.c)
target_link_libraries(slack_send PRIVATE sv_coord)
