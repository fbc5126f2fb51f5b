# libFuzzer targets for every parser of AWS answers and files in coordinator/aws/ (issue 8):
#   fuzz.aws_error  error answers: JSON, XML, HTML, truncated bodies; the one-line format
#   fuzz.aws_ini    shared config/credentials files, then profile/region/endpoint resolution
#   fuzz.aws_creds  ECS container / EC2 instance-metadata credential documents, ISO times
#   fuzz.aws_xml    REST-XML and query answers to JSON
# Seeds: seeds/aws_<name>.
foreach(t error ini creds xml)
  sv_add_fuzz_test(aws_${t} SOURCE ${CMAKE_CURRENT_LIST_DIR}/fuzz_aws_${t}.c LIBS sv_aws
                   SEEDS ${CMAKE_CURRENT_LIST_DIR}/seeds/aws_${t} SECONDS 10 MAX_LEN 16384 SMALL_QUARANTINE)
endforeach()
