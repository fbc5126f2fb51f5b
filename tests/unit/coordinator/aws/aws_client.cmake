# Unit tests of the AWS request layer (coordinator/aws/): configuration files and profiles,
# the credential chain (injected environment, files, metadata endpoints and clock), error
# parsing, retry decisions, backoff bounds, token buckets, endpoint resolution; the transport.
foreach(t ini config creds chain error retry xml)
  sv_add_unit_test(aws_${t} SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_aws_${t}.c LIBS sv_aws)
endforeach()
# The transport against an HTTP/1.1 server thread on 127.0.0.1: keep-alive, bounds, multi.
find_package(Threads REQUIRED)
sv_add_unit_test(aws_http SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_aws_http.c LIBS sv_aws Threads::Threads)
