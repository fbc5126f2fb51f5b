# The Fargate backend (issue 9) against moto's server with authentication on, as the IAM user
# that holds only deploy/iam/coordinator-policy.json; fargatetest.py sets the scene and
# fargate_launcher.py plays Fargate (the real agent per task). Without moto they exit 77.
# fgtask_tool (fgtask_tool.c) is a test-only driver of coordinator/fgtask.c.
add_executable(fgtask_tool ${CMAKE_CURRENT_LIST_DIR}/fgtask_tool.c)
target_link_libraries(fgtask_tool PRIVATE sv_coord)

sv_add_py_test(fgtask test_fgtask.py)
set_property(TEST integration.fgtask APPEND PROPERTY ENVIRONMENT "SV_FGTASK_TOOL=$<TARGET_FILE:fgtask_tool>")

# `stagevisor run --backend fargate` end to end (test_fargate_run.py): passing and failing
# stages, the HTTPS path blocked (CloudWatch fallback), parallel stages, SIGINT.
sv_add_py_test(fargate_run test_fargate_run.py)
