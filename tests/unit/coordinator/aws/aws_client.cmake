# Unit tests of the AWS request layer (coordinator/aws/): configuration files and profiles,
# the credential chain (injected environment, files, metadata endpoints and clock), error
# parsing, retry decisions, backoff bounds, token buckets, endpoint resolution.
foreach(t ini config creds chain error retry)
  sv_add_unit_test(aws_${t} SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_aws_${t}.c LIBS sv_aws)
endforeach()
