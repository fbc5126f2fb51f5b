# The demo pipeline (scripts/demo, the README's first command) end to end: the real
# coordinator and agent run the example site's stages (examples/stages/*.json) with the real
# PHPUnit, phpcs, phpmd, phpcpd, phploc and Apache; the JUnit files are checked against the
# tools' own reports.
sv_add_py_test(demo test_demo.py)
set_property(TEST integration.demo APPEND PROPERTY LABELS demo)
