# Unit tests of the coordinator (coordinator/): pure logic and in-memory modules.
foreach(t stream ingest junit report console cert playground pipeline)
  sv_add_unit_test(coord_${t} SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_${t}.c LIBS sv_coord)
endforeach()
