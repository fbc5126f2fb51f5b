# The images (images/), tests/integration/test_images.py:
#   integration.images_local   the images' specs on the local backend, and the agent options
#                              the images rely on: every build that runs integration tests
#                              (plain and ASan);
#   integration.images_podman  the images built with podman from a debootstrap'd Debian base
#                              and run against the coordinator: the plain build only (the
#                              images compile their own agent, so a sanitizer build has nothing
#                              to add but minutes); exit 77 (skipped) with the reason printed
#                              where podman cannot work.
if(NOT SV_FUZZ)
  set(_parts local)
  if(NOT SV_SANITIZE)
    list(APPEND _parts podman)
  endif()
  foreach(part ${_parts})
    add_test(NAME integration.images_${part}
             COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_LIST_DIR}/test_images.py ${part})
    set_tests_properties(integration.images_${part} PROPERTIES TIMEOUT 1500 LABELS "integration;images"
      SKIP_RETURN_CODE 77
      ENVIRONMENT "SV_AGENT=$<TARGET_FILE:stagevisor-agent>;SV_COORD=$<TARGET_FILE:stagevisor>;SV_SRC=${PROJECT_SOURCE_DIR};SV_BUILD=${PROJECT_BINARY_DIR};SV_SANITIZE=$<BOOL:${SV_SANITIZE}>")
  endforeach()
  if(TEST integration.images_podman)
    # The long one (debootstrap + three image builds on a fresh machine): start it first.
    set_tests_properties(integration.images_podman PROPERTIES COST 1000)
  endif()
endif()
