# deploy/: ECS task-definition templates against botocore's ECS model, IAM documents against
# moto's policy-grammar validators and botocore's operation names, and the coordinator's policy
# against the operations coordinator/*.c calls.
sv_add_py_test(deploy_iam test_deploy_iam.py)
