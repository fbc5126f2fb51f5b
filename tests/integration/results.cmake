# Integration tests of agents/results (issue 3): `stagevisor-agent parse` on reports made
# at test time by the real tools, hand-made edge cases, and memory on a 200 MB file.
foreach(t tools edge memory encodings)
  sv_add_py_test(results_${t} test_results_${t}.py)
endforeach()
