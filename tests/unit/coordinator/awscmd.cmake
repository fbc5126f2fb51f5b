# Unit tests of coordinator/awscmd.c (`stagevisor aws`): operation names, JSON printed as `aws` does.
sv_add_unit_test(coord_awscmd SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_awscmd.c LIBS sv_coord)
