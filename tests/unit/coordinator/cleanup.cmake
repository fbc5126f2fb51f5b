# Unit tests of coordinator/cleanup.c (`stagevisor cleanup`): its pure helpers.
sv_add_unit_test(coord_cleanup SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_cleanup.c LIBS sv_coord)
