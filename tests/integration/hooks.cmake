# `stagevisor hooks` with the real binary on real shell scripts, and on the example site's
# devops_hooks (tests/integration/test_hooks.py).
sv_add_py_test(hooks test_hooks.py)
