# The demo pipeline (scripts/demo, the README's first command) end to end: the real
# coordinator and agent run examples/drupal-like-site's pipeline (hooks; tests with PHPUnit and
# the browser test in Chromium; analysis; the playground on Apache + mod_php; teardown) three
# times in one output directory: green, red with SV_DEMO_FAIL=1, red with --fail after a
# leftover playground (tests/integration/test_demo.py).
# The plain build only: scripts/demo builds and runs its own Release binaries (build-demo/),
# so a sanitizer build would run the very same programs again.
if(NOT SV_SANITIZE)
sv_add_py_test(demo test_demo.py)
set_property(TEST integration.demo APPEND PROPERTY LABELS demo)

# scripts/demo --fargate --fail: the same pipeline through the Fargate backend against moto,
# with fargate_launcher.py playing Fargate (tests/integration/test_demo_fargate.py); without
# moto or boto3 it exits 77 and is listed as skipped.
sv_add_py_test(demo_fargate test_demo_fargate.py)
set_tests_properties(integration.demo_fargate PROPERTIES SKIP_RETURN_CODE 77 LABELS "integration;demo")
endif()
