# fuzz.cleanup: the parsers of `stagevisor cleanup` (image references from ECS answers,
# task-definition ARNs, image tags). Seeds: seeds/cleanup.
if(TARGET sv_coord)
  sv_add_fuzz_test(cleanup SOURCE ${CMAKE_CURRENT_LIST_DIR}/fuzz_cleanup.c LIBS sv_coord
                   SEEDS ${CMAKE_CURRENT_LIST_DIR}/seeds/cleanup SECONDS 10 MAX_LEN 1300 SMALL_QUARANTINE)
endif()
