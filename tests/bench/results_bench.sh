#!/bin/sh
# The results benchmark (issue 3); see results_bench.py for what it measures.
exec python3 "$(dirname "$0")/results_bench.py" "$@"
