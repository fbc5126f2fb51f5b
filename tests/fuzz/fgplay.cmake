# fuzz.route53: the Route 53 answers read by `playground --backend fargate` and `teardown`, and
# the change bodies built from any name and address. Seeds: seeds/route53.
if(TARGET sv_coord)
  sv_add_fuzz_test(route53 SOURCE ${CMAKE_CURRENT_LIST_DIR}/fuzz_route53.c LIBS sv_coord
                   SEEDS ${CMAKE_CURRENT_LIST_DIR}/seeds/route53 SECONDS 10 MAX_LEN 8192 SMALL_QUARANTINE)
endif()
