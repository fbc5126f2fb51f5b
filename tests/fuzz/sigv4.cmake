# libFuzzer target for the SigV4 signer (coordinator/aws/sigv4.c): bytes read as an HTTP
# request (the AWS test suite's .req form), signed with S3 rules, session tokens and
# UNSIGNED-PAYLOAD picked by a hash of the input, invariants of the canonical request checked.
# Seeds: seeds/sigv4 and, read in place, the AWS test suite (../shared/data/aws4_testsuite).
sv_add_fuzz_test(sigv4 SOURCE ${CMAKE_CURRENT_LIST_DIR}/fuzz_sigv4.c LIBS sv_aws
                 SEEDS ${CMAKE_CURRENT_LIST_DIR}/seeds/sigv4 ${PROJECT_SOURCE_DIR}/../shared/data/aws4_testsuite
                 SECONDS 15 MAX_LEN 8192 TIMEOUT 120 SMALL_QUARANTINE)
