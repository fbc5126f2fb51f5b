# The images (images/): their stage specs on the local backend (always), and the images built
# with podman from a debootstrap'd Debian base and run against the coordinator (skipped, exit
# 77 with the reason, where podman cannot work). Only in the plain build: the images compile
# their own agent, so a sanitizer or fuzz build has nothing to add but minutes.
if(NOT SV_SANITIZE AND NOT SV_FUZZ)
  foreach(part local podman)
    add_test(NAME integration.images_${part}
             COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_LIST_DIR}/test_images.py ${part})
    set_tests_properties(integration.images_${part} PROPERTIES TIMEOUT 1500 LABELS "integration;images"
      SKIP_RETURN_CODE 77
      ENVIRONMENT "SV_AGENT=$<TARGET_FILE:stagevisor-agent>;SV_COORD=$<TARGET_FILE:stagevisor>;SV_SRC=${PROJECT_SOURCE_DIR};SV_BUILD=${PROJECT_BINARY_DIR};SV_SANITIZE=$<BOOL:${SV_SANITIZE}>")
  endforeach()
  # The podman part is the long one (debootstrap + three image builds on a fresh machine):
  # start it first.
  set_tests_properties(integration.images_podman PROPERTIES COST 1000)
endif()
