# Every command shown in docs/ runs, in a sandbox per page (tests/integration/test_docs.py):
# console blocks with `$ ` prompts, their exit codes and shown output; moto on 127.0.0.1 for
# the AWS commands; reference pages checked against each command's --help.
# The plain build only: the commands it shows are the ones the command tests run under ASan too.
if(NOT SV_SANITIZE)
  sv_add_py_test(docs test_docs.py)
endif()
# The full disk of docs/operations.md: `stagevisor run` with its state directory or reports on
# a tmpfs that fills up, in a mount namespace of its own (exit 77, skipped, where none can be made).
sv_add_py_test(coord_fulldisk test_coord_fulldisk.py)
set_tests_properties(integration.coord_fulldisk PROPERTIES SKIP_RETURN_CODE 77)
