# `stagevisor playground up|down|list --backend fargate` and `stagevisor teardown` against moto
# (authentication on, the coordinator's IAM policy) and a moto without authentication for
# Route 53, with fargate_launcher.py playing Fargate (issue 9).
sv_add_py_test(fargate_playground test_fargate_playground.py)
set_tests_properties(integration.fargate_playground PROPERTIES TIMEOUT 600)
