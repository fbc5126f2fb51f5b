#!/bin/sh
# The AWS client benchmark (issue 8); see aws_bench.py for what it measures.
exec python3 "$(dirname "$0")/aws_bench.py" "$@"
