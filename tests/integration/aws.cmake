# Integration tests of the AWS layer (coordinator/aws/).
# sv_sigv4_tool (tests/integration/sigv4_tool.c) is a test-only driver of the SigV4 signer:
# JSON lines in, signatures out; test_aws_sigv4_botocore.py compares it with botocore on
# thousands of random requests, and tests/bench/sigv4_bench.py times it.
add_executable(sv_sigv4_tool ${CMAKE_CURRENT_LIST_DIR}/sigv4_tool.c)
target_link_libraries(sv_sigv4_tool PRIVATE sv_aws PkgConfig::JANSSON)

sv_add_py_test(aws_sigv4_botocore test_aws_sigv4_botocore.py)
set_property(TEST integration.aws_sigv4_botocore APPEND PROPERTY ENVIRONMENT
             "SV_SIGV4_TOOL=$<TARGET_FILE:sv_sigv4_tool>")
