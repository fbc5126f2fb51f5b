# Slack for a finished local stage (coordinator/notify.c through `stagevisor run`) against a
# local HTTP server on 127.0.0.1.
sv_add_py_test(coord_notify test_coord_notify.py)
