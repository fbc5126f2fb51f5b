# Unit tests of the Fargate playgrounds and teardown: the close-of-business expiry (TZ database,
# daylight-saving changes), the Route 53 request bodies and answers, teardown's decision.
foreach(t expiry route53 teardown)
  sv_add_unit_test(coord_${t} SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_${t}.c LIBS sv_coord)
endforeach()
