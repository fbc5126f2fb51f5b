# Integration tests of stagevisor-agent (issue 2): the real binary with real processes.
# Each file is one ctest; tests/integration/svtest.py holds the shared helpers.
foreach(t pid1 signals order restart stop exitcodes output accounting)
  sv_add_py_test(agent_${t} test_agent_${t}.py)
endforeach()
