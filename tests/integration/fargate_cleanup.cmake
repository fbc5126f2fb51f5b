# `stagevisor cleanup` against moto's server (ECR images, task-definition revisions) as a user
# with exactly deploy/iam/coordinator-policy.json. Without moto it is skipped (exit 77).
sv_add_py_test(fargate_cleanup test_fargate_cleanup.py)
