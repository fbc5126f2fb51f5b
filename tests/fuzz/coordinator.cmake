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

# fuzz.pipeline: the pipeline config parser. Seeds: tests/fuzz/seeds/pipeline.
add_executable(fuzz_pipeline ${CMAKE_CURRENT_LIST_DIR}/fuzz_pipeline.c)
target_link_libraries(fuzz_pipeline PRIVATE sv_coord)
target_link_options(fuzz_pipeline PRIVATE -fsanitize=fuzzer)
set(_corpus ${CMAKE_CURRENT_BINARY_DIR}/corpus_pipeline)
file(MAKE_DIRECTORY ${_corpus})
add_test(NAME fuzz.pipeline
         COMMAND fuzz_pipeline -max_total_time=15 -rss_limit_mb=512 -timeout=10
                 ${_corpus} ${CMAKE_CURRENT_LIST_DIR}/seeds/pipeline)
set_tests_properties(fuzz.pipeline PROPERTIES TIMEOUT 90 LABELS fuzz)
