# Unit tests of coordinator/aws/sigv4.c: every case of the AWS SigV4 test suite, read at test
# time from ../shared/data/aws4_testsuite beside the repository (the test fails, naming the
# path, when it is missing), and the signer's own rules (S3, errors, wiping).
sv_add_unit_test(aws_sigv4 SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_sigv4.c LIBS sv_aws)
target_compile_definitions(aws_sigv4 PRIVATE
  SV_AWS4_TESTSUITE="${PROJECT_SOURCE_DIR}/../shared/data/aws4_testsuite")
