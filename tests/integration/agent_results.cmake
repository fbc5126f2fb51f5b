# Integration tests of the agent's live results and its uplink (issues 3 and 4): the real
# stagevisor-agent with result reports written during the run (test_agent_results.py) and
# against a tiny HTTPS server on 127.0.0.1 (test_agent_uplink.py).
sv_add_py_test(agent_results test_agent_results.py)
if(EXISTS ${CMAKE_CURRENT_LIST_DIR}/test_agent_uplink.py)
  sv_add_py_test(agent_uplink test_agent_uplink.py)
endif()
