# libFuzzer targets for the coordinator's request handling and text parsers (-DSV_FUZZ=ON):
#   fuzz.coord_batch        ingest_handle_batch: decode, ack plan, stream store, answer
#                           (seeds: the protocol's request bodies, seeds/protocol_body)
#   fuzz.coord_slug         slug_make: any branch name, any maxlen (seeds/slug)
#   fuzz.coord_placeholder  placeholder_expand(_json): any text (seeds/placeholder)
#   fuzz.coord_port         port_parse_proc_net: any /proc/net/tcp-like text (seeds/port)
#   fuzz.pipeline           the pipeline config parser (seeds/pipeline)
# A longer run: build-test-fuzz/tests/fuzz/fuzz_coord_batch -max_total_time=600 CORPUS tests/fuzz/seeds/protocol_body
sv_add_fuzz_test(coord_batch SOURCE ${CMAKE_CURRENT_LIST_DIR}/fuzz_coord_batch.c LIBS sv_coord
                 SEEDS ${CMAKE_CURRENT_LIST_DIR}/seeds/protocol_body SECONDS 15)
foreach(t slug placeholder port)
  sv_add_fuzz_test(coord_${t} SOURCE ${CMAKE_CURRENT_LIST_DIR}/fuzz_coord_${t}.c LIBS sv_coord
                   SEEDS ${CMAKE_CURRENT_LIST_DIR}/seeds/${t} SECONDS 10 TIMEOUT 60)
endforeach()
sv_add_fuzz_test(pipeline SOURCE ${CMAKE_CURRENT_LIST_DIR}/fuzz_pipeline.c LIBS sv_coord
                 SEEDS ${CMAKE_CURRENT_LIST_DIR}/seeds/pipeline SECONDS 10 TIMEOUT 60)
