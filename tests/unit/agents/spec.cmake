# Unit tests of agents/spec (the stage spec parser).
sv_add_unit_test(spec SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_spec.c LIBS sv_spec)
# The same library with its allocations made to fail one by one (link-time wrapping).
sv_add_unit_test(spec_oom SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_spec_oom.c LIBS sv_spec PkgConfig::JANSSON)
target_link_options(spec_oom PRIVATE -Wl,--wrap=malloc,--wrap=calloc,--wrap=strdup,--wrap=strndup)
