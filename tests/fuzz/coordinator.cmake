# libFuzzer target for the coordinator's request handling (built only with -DSV_FUZZ=ON):
#   fuzz.coord_batch  ingest_handle_batch: decode, ack plan, stream store, answer
# Seeds: the protocol's request bodies (seeds/protocol_body, kept by the protocol area).
# A longer run: build-test-fuzz/fuzz_coord_batch -max_total_time=600 CORPUS tests/fuzz/seeds/protocol_body
add_executable(fuzz_coord_batch ${CMAKE_CURRENT_LIST_DIR}/fuzz_coord_batch.c)
target_link_libraries(fuzz_coord_batch PRIVATE sv_coord)
target_link_options(fuzz_coord_batch PRIVATE -fsanitize=fuzzer)
set(_corpus ${CMAKE_CURRENT_BINARY_DIR}/corpus_coord_batch)
file(MAKE_DIRECTORY ${_corpus})
add_test(NAME fuzz.coord_batch
         COMMAND fuzz_coord_batch -max_total_time=15 -rss_limit_mb=512 -timeout=10
                 ${_corpus} ${CMAKE_CURRENT_LIST_DIR}/seeds/protocol_body)
set_tests_properties(fuzz.coord_batch PROPERTIES TIMEOUT 90 LABELS fuzz)

#   fuzz.coord_slug   slug_make: any branch name, any maxlen (seeds/slug)
add_executable(fuzz_coord_slug ${CMAKE_CURRENT_LIST_DIR}/fuzz_coord_slug.c)
target_link_libraries(fuzz_coord_slug PRIVATE sv_coord)
target_link_options(fuzz_coord_slug PRIVATE -fsanitize=fuzzer)
set(_corpus ${CMAKE_CURRENT_BINARY_DIR}/corpus_coord_slug)
file(MAKE_DIRECTORY ${_corpus})
add_test(NAME fuzz.coord_slug
         COMMAND fuzz_coord_slug -max_total_time=10 -rss_limit_mb=512 -timeout=10
                 ${_corpus} ${CMAKE_CURRENT_LIST_DIR}/seeds/slug)
set_tests_properties(fuzz.coord_slug PROPERTIES TIMEOUT 60 LABELS fuzz)

#   fuzz.coord_placeholder  placeholder_expand(_json): any text (seeds/placeholder)
add_executable(fuzz_coord_placeholder ${CMAKE_CURRENT_LIST_DIR}/fuzz_coord_placeholder.c)
target_link_libraries(fuzz_coord_placeholder PRIVATE sv_coord)
target_link_options(fuzz_coord_placeholder PRIVATE -fsanitize=fuzzer)
set(_corpus ${CMAKE_CURRENT_BINARY_DIR}/corpus_coord_placeholder)
file(MAKE_DIRECTORY ${_corpus})
add_test(NAME fuzz.coord_placeholder
         COMMAND fuzz_coord_placeholder -max_total_time=10 -rss_limit_mb=512 -timeout=10
                 ${_corpus} ${CMAKE_CURRENT_LIST_DIR}/seeds/placeholder)
set_tests_properties(fuzz.coord_placeholder PROPERTIES TIMEOUT 60 LABELS fuzz)

#   fuzz.coord_port   port_parse_proc_net: any /proc/net/tcp-like text (seeds/port)
add_executable(fuzz_coord_port ${CMAKE_CURRENT_LIST_DIR}/fuzz_coord_port.c)
target_link_libraries(fuzz_coord_port PRIVATE sv_coord)
target_link_options(fuzz_coord_port PRIVATE -fsanitize=fuzzer)
set(_corpus ${CMAKE_CURRENT_BINARY_DIR}/corpus_coord_port)
file(MAKE_DIRECTORY ${_corpus})
add_test(NAME fuzz.coord_port
         COMMAND fuzz_coord_port -max_total_time=10 -rss_limit_mb=512 -timeout=10
                 ${_corpus} ${CMAKE_CURRENT_LIST_DIR}/seeds/port)
set_tests_properties(fuzz.coord_port PROPERTIES TIMEOUT 60 LABELS fuzz)

# fuzz.pipeline: the pipeline config parser. Seeds: tests/fuzz/seeds/pipeline.
add_executable(fuzz_pipeline ${CMAKE_CURRENT_LIST_DIR}/fuzz_pipeline.c)
target_link_libraries(fuzz_pipeline PRIVATE sv_coord)
target_link_options(fuzz_pipeline PRIVATE -fsanitize=fuzzer)
set(_corpus ${CMAKE_CURRENT_BINARY_DIR}/corpus_pipeline)
file(MAKE_DIRECTORY ${_corpus})
add_test(NAME fuzz.pipeline
         COMMAND fuzz_pipeline -max_total_time=10 -rss_limit_mb=512 -timeout=10
                 ${_corpus} ${CMAKE_CURRENT_LIST_DIR}/seeds/pipeline)
set_tests_properties(fuzz.pipeline PROPERTIES TIMEOUT 60 LABELS fuzz)
