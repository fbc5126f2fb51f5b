# Integration tests of the AWS request layer and `stagevisor aws` (issue 8): the real binary
# against moto's server with request authentication on and the AWS CLI (test_aws_client.py),
# stand-in endpoints injecting faults (test_aws_faults.py), and emulated ECS container
# credentials and IMDSv2 for the credential chain (test_aws_chain.py). awsfake.py has the peers;
# every test environment disables IMDS or points it at loopback.
foreach(t client faults chain)
  if(EXISTS ${CMAKE_CURRENT_LIST_DIR}/test_aws_${t}.py)
    sv_add_py_test(aws_${t} test_aws_${t}.py)
  endif()
endforeach()
# Without moto, test_aws_client.py prints why and exits 77: "Skipped" in ctest's summary.
set_tests_properties(integration.aws_client PROPERTIES SKIP_RETURN_CODE 77)
