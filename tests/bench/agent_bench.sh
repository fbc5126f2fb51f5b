#!/bin/bash
# agent_bench.sh — stagevisor-agent side by side with tini, dumb-init and supervisord (issue 2).
# A benchmark, not a test: it prints medians of RUNS runs and ratios, and judges nothing.
#
#   tests/bench/agent_bench.sh            builds a Release agent in build-bench/ and runs all
#   SV_AGENT=path/to/stagevisor-agent tests/bench/agent_bench.sh   uses that binary
#   RUNS=7 START_RUNS=31 GIB=1 GRACE=2 tests/bench/agent_bench.sh
#   ONLY="rss start term tput size"   (a subset of the sections)
#
# Measures: resident memory of the supervisor with 1 and 10 `sleep` children; time from
# starting the supervisor to its child running; time from SIGTERM to exit when the child exits
# on SIGTERM and when it ignores it (grace GRACE s); output throughput of GIB GiB of 100-byte
# lines through the supervisor vs a plain pipe; the size of the stripped agent binary.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
HERE="$ROOT/tests/bench"
RUNS=${RUNS:-5}
GIB=${GIB:-1}
GRACE=${GRACE:-2}
export GRACE

"$ROOT/scripts/install-deps"

AGENT=${SV_AGENT:-}
if [ -z "$AGENT" ]; then
  echo "building a Release agent in $ROOT/build-bench ..." >&2
  cmake -S "$ROOT" -B "$ROOT/build-bench" -DCMAKE_BUILD_TYPE=Release -DSV_TESTS=OFF >/dev/null
  cmake --build "$ROOT/build-bench" -j2 --target stagevisor-agent >/dev/null
  AGENT=$(find "$ROOT/build-bench" -type f -name stagevisor-agent -perm -u+x | head -1)
fi
[ -x "$AGENT" ] || { echo "no agent binary: $AGENT" >&2; exit 2; }

W=$(mktemp -d /tmp/sv-bench-XXXXXX)
trap 'rm -rf "$W"' EXIT
cc -O2 -o "$W/bt" "$HERE/bench_timing.c"
mkfifo "$W/fifo"
BT="$W/bt"
SUPS="agent tini dumb-init supervisord"

median() { sort -g | awk '{a[NR]=$1} END {if (NR == 0) print "nan"; else if (NR % 2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {if (b+0 == 0) print "n/a"; else printf "%.2f", a/b}'; }

# agent_spec FILE MODE N ARGV... : a spec with N processes c1..cN running ARGV.
agent_spec() {
  python3 - "$@" <<'EOF'
import json, sys
path, mode, n, argv = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4:]
grace = float(__import__("os").environ.get("GRACE", "2"))
role = "service" if mode == "service" else "job"
procs = [{"name": "c%d" % i, "command": argv, "role": role, "stop_grace": grace} for i in range(1, n + 1)]
json.dump({"version": 1, "stage": "bench", "mode": mode, "stop_timeout": max(grace + 1, 5),
           "processes": procs}, open(path, "w"))
EOF
}

# sd_conf FILE N CMDLINE : supervisord config with N copies of CMDLINE, output to its stdout.
sd_conf() {
  cat > "$1" <<EOF
[supervisord]
nodaemon=true
user=root
logfile=$W/supervisord.log
pidfile=$W/supervisord.pid
loglevel=warn
[program:c]
command=$3
numprocs=$2
process_name=%(program_name)s_%(process_num)02d
autorestart=false
startsecs=0
stopsignal=TERM
stopwaitsecs=$GRACE
stdout_logfile=/dev/stdout
stdout_logfile_maxbytes=0
EOF
}

# cmd_for SUP MODE N ARGV... : prints (NUL-separated) the argv running ARGV under SUP.
# tini and dumb-init supervise one child: for N > 1 that child is a shell starting N copies.
cmd_for() {
  local sup=$1 mode=$2 n=$3; shift 3
  local line; line=$(printf '%q ' "$@")
  local one=("$@")
  if [ "$n" -gt 1 ]; then one=(sh -c "for i in \$(seq $n); do $line & done; wait"); fi
  case $sup in
    agent) agent_spec "$W/spec-$mode-$n.json" "$mode" "$n" "$@"; printf '%s\0' "$AGENT" --spec "$W/spec-$mode-$n.json" ;;
    tini) printf '%s\0' tini -s -- "${one[@]}" ;;
    dumb-init) printf '%s\0' dumb-init "${one[@]}" ;;
    supervisord) sd_conf "$W/sd-$mode-$n.conf" "$n" "$line"; printf '%s\0' supervisord -c "$W/sd-$mode-$n.conf" ;;
    direct) printf '%s\0' "${one[@]}" ;;
  esac
}


declare -A R
want() { [ -z "${ONLY:-}" ] || [[ " $ONLY " == *" $1 "* ]]; }
echo "stagevisor-agent benchmark: $(date -u +%FT%TZ), $(nproc) cores, RUNS=$RUNS, agent $AGENT"
echo

# 1. Resident memory (VmRSS of the supervisor process) with 1 and 10 sleep children.
if want rss; then
echo "== resident memory of the supervisor (kB, median of $RUNS)"
for n in 1 10; do
  for s in $SUPS; do
    mapfile -d '' c < <(cmd_for "$s" service "$n" sleep 1000)
    R[rss,$s,$n]=$(for i in $(seq "$RUNS"); do python3 "$HERE/bench_util.py" rss "$n" -- "${c[@]}"; done | median)
  done
  printf '  %2d sleep: ' "$n"
  for s in $SUPS; do printf '%s %s kB   ' "$s" "${R[rss,$s,$n]}"; done
  printf '| agent/tini %s, agent/supervisord %s\n' "$(ratio "${R[rss,agent,$n]}" "${R[rss,tini,$n]}")" \
    "$(ratio "${R[rss,agent,$n]}" "${R[rss,supervisord,$n]}")"
done
echo
fi

# 2. Start of the supervisor to its child running (the child writes a byte to a fifo).
# Cheap, so START_RUNS rounds (supervisord, at about 1 s a run, only RUNS), the supervisors
# interleaved in each round so that load from elsewhere hits them alike.
if want start; then
START_RUNS=${START_RUNS:-21}
echo "== start to child running (us, median of $START_RUNS; supervisord $RUNS)"
declare -A STARTCMD
for s in direct $SUPS; do
  mapfile -d '' c < <(cmd_for "$s" job 1 "$BT" child "$W/fifo" exit)
  STARTCMD[$s]=$(printf '%q ' "${c[@]}")
  eval "\"\$BT\" start \"\$W/fifo\" -- ${STARTCMD[$s]}" >/dev/null  # warm-up
done
for i in $(seq "$START_RUNS"); do
  for s in direct $SUPS; do
    [ "$s" = supervisord ] && [ "$i" -gt "$RUNS" ] && continue
    echo "$s $(eval "\"\$BT\" start \"\$W/fifo\" -- ${STARTCMD[$s]}")"
  done
done > "$W/start.txt"
for s in direct $SUPS; do
  R[start,$s]=$(awk -v s="$s" '$1 == s {print $2}' "$W/start.txt" | median)
  printf '  %-12s %8s us\n' "$s" "${R[start,$s]}"
done
printf '  agent - tini: %s us   agent/tini %s   agent/dumb-init %s   agent/supervisord %s\n' \
  "$(awk -v a="${R[start,agent]}" -v b="${R[start,tini]}" 'BEGIN {print a-b}')" \
  "$(ratio "${R[start,agent]}" "${R[start,tini]}")" "$(ratio "${R[start,agent]}" "${R[start,dumb-init]}")" \
  "$(ratio "${R[start,agent]}" "${R[start,supervisord]}")"
echo
fi

# 3. SIGTERM to exit: child exits on SIGTERM; child ignores SIGTERM (grace GRACE s).
if want term; then
echo "== SIGTERM to supervisor exit (ms, median of $RUNS)"
for kind in wait ignore; do
  for s in $SUPS; do
    mapfile -d '' c < <(cmd_for "$s" service 1 "$BT" child "$W/fifo" "$kind")
    runs=$RUNS
    # tini and dumb-init never exit when the child ignores SIGTERM: one run shows it.
    if [ "$kind" = ignore ] && { [ "$s" = tini ] || [ "$s" = dumb-init ]; }; then runs=1; fi
    out=$(for i in $(seq "$runs"); do "$BT" term "$W/fifo" $(( (GRACE + 3) * 1000 )) -- "${c[@]}"; done)
    if echo "$out" | grep -q timeout; then R[term,$kind,$s]="never(timeout>$((GRACE + 3))s)"
    else R[term,$kind,$s]=$(echo "$out" | awk '{print $1/1000}' | median); fi
  done
  printf '  child %-6s: ' "$([ $kind = wait ] && echo exits || echo ignores)"
  for s in $SUPS; do printf '%s %s   ' "$s" "${R[term,$kind,$s]}"; done
  echo
done
printf '  child exits: agent - tini %s ms, agent/tini %s, agent/supervisord %s\n' \
  "$(awk -v a="${R[term,wait,agent]}" -v b="${R[term,wait,tini]}" 'BEGIN {print a-b}')" \
  "$(ratio "${R[term,wait,agent]}" "${R[term,wait,tini]}")" "$(ratio "${R[term,wait,agent]}" "${R[term,wait,supervisord]}")"
printf '  ignoring child: agent overhead beyond the %s s grace: %s ms\n' "$GRACE" \
  "$(awk -v a="${R[term,ignore,agent]}" -v g="$GRACE" 'BEGIN {print a - g*1000}')"
echo
fi

# 4. Output throughput: GIB GiB of 100-byte lines through the supervisor's capture.
if want tput; then
bytes=$((GIB * 1073741824 / 100 * 100))
L=$(printf 'x%.0s' $(seq 99))
gen="yes $L | head -c $bytes"
echo "== output throughput: $bytes bytes of 100-byte lines (GiB/s, median of $RUNS)"
for s in direct agent supervisord; do
  mapfile -d '' c < <(cmd_for "$s" job 1 sh -c "$gen")
  # direct and the agent end by themselves (read to EOF: the agent adds a "c1 | " prefix to
  # every line); supervisord never exits: stop once all bytes arrived.
  want=$((bytes * 2)); [ "$s" = supervisord ] && want=$bytes
  out=$(for i in $(seq "$RUNS"); do "$BT" pipe "$want" -- "${c[@]}"; done)
  R[tput,$s]=$(echo "$out" | awk -v b="$bytes" '{print b/$1/1073741824}' | median)
  R[tputbytes,$s]=$(echo "$out" | awk '{print $2}' | median)
  printf '  %-12s %6.2f GiB/s of payload (%s bytes read)\n' "$s" "${R[tput,$s]}" "${R[tputbytes,$s]}"
done
# Lines delivered through the agent (drops would show here): count them once.
mapfile -d '' c < <(cmd_for agent job 1 sh -c "$gen")
lines=$("${c[@]}" 2>/dev/null | grep -c "| $L\$" || true)
printf '  agent delivered %s of %s lines\n' "$lines" $((bytes / 100))
printf '  ratio agent/plain pipe: %s   supervisord/plain pipe: %s\n' \
  "$(ratio "${R[tput,agent]}" "${R[tput,direct]}")" "$(ratio "${R[tput,supervisord]}" "${R[tput,direct]}")"
echo
fi

# 5. Size of the stripped agent binary (tini and dumb-init as Debian ships them).
if want size; then
strip -o "$W/agent.stripped" "$AGENT"
echo "== stripped binary size"
printf '  agent %s bytes   tini %s bytes   dumb-init %s bytes\n' "$(stat -c %s "$W/agent.stripped")" \
  "$(stat -c %s "$(command -v tini)")" "$(stat -c %s "$(command -v dumb-init)")"
echo "  agent links: $(ldd "$AGENT" | awk '{print $1}' | grep -v -e vdso -e ld-linux | tr '\n' ' ')"
fi
