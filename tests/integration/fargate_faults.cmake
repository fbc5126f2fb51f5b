# Faults of the Fargate backend (issue 9): the coordinator killed and run again (re-attach),
# a task that never starts, an OOM-killed container, the IAM policy without one action; against
# moto with authentication on, through ecs_standin.py (a stand-in proxy for the stop codes and
# reasons moto cannot give). Skipped (with the reason) without moto.
sv_add_py_test(fargate_faults test_fargate_faults.py)

# tests/bench/fargate_bench.py's driver: N watchers sharing DescribeTasks through the real
# coordinator/taskwatch.c, with simulated time. Not part of the suite.
add_executable(sv_taskwatch_bench ${PROJECT_SOURCE_DIR}/tests/bench/taskwatch_bench.c)
target_link_libraries(sv_taskwatch_bench PRIVATE sv_coord)
set_tests_properties(integration.fargate_faults PROPERTIES SKIP_RETURN_CODE 77)
