#!/bin/bash
# Ingest benchmark (issue 4): the coordinator's ingest server over TLS on loopback, side by side
# with the ceiling on this machine, nginx (Debian) answering small HTTPS POSTs to wrk (Debian).
#   tests/bench/ingest_bench.sh [BUILD_DIR]     (default: a Release build in build-bench/)
# Runs, each REPEAT times (default 3), reporting medians:
#   1. throughput: events/s from one client connection, batches of 4096 events (~0.6 MiB), and
#      the server's CPU time and resident memory for those 200,000 events;
#   2. latency at 1000 events/s: p50/p99 from an event's creation to its acknowledgement;
#   3. 500 concurrent streams: total events/s and the server's memory per stream;
#   4. wrk, 1 thread 16 connections, the same small POST (one event) to nginx and to the ingest
#      server: requests/s and the ratio.
# The load generator is Python (ingest_bench_load.py): on 2 shared cores it can be the limit of
# 1 and 3; the numbers say so when the client's CPU is the larger.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${1:-}
if [ -z "$BUILD" ]; then
  BUILD=$ROOT/build-bench
  "$ROOT/scripts/install-deps"
  echo "building sv_ingest_server (Release) in $BUILD ..." >&2
  cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DSV_TESTS=ON >/dev/null
  cmake --build "$BUILD" -j2 --target sv_ingest_server stagevisor stagevisor-agent >/dev/null
fi
SERVER=$BUILD/tests/integration/sv_ingest_server
[ -x "$SERVER" ] || { echo "ingest_bench: build sv_ingest_server first (cmake --build DIR --target sv_ingest_server)" >&2; exit 2; }
LOAD="python3 $ROOT/tests/bench/ingest_bench_load.py"
REPEAT=${REPEAT:-3}
TMP=$(mktemp -d /tmp/sv-ingest-bench-XXXXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$TMP"; }
trap cleanup EXIT

median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
jget() { python3 -c "import json,sys; print(json.loads(sys.stdin.readline())$1)"; }

start_server() { # args...; sets SRV_PID and INFO (the server's first line)
  SRV_LOG=$TMP/server.$RANDOM.out
  "$SERVER" "$@" > "$SRV_LOG" &
  SRV_PID=$!
  PIDS+=("$SRV_PID")
  for _ in $(seq 200); do [ -s "$SRV_LOG" ] && break; sleep 0.05; done
  INFO=$TMP/info.$RANDOM.json
  head -n1 "$SRV_LOG" > "$INFO"
}
stop_server() { kill -TERM "$SRV_PID"; wait "$SRV_PID" 2>/dev/null || true; STATS=$(sed -n 2p "$SRV_LOG"); }
server_rss() { awk '/VmRSS/ {print $2}' /proc/"$SRV_PID"/status; }

echo "== ingest benchmark: $(nproc) cores, $(date -u +%FT%TZ), server $SERVER"

# 1. throughput
tp=(); cpu=(); rss=()
for i in $(seq "$REPEAT"); do
  mkdir -p "$TMP/run$i"
  start_server --streams 1 --dir "$TMP/run$i"
  out=$($LOAD throughput "$INFO" 200000)
  stop_server
  tp+=("$(echo "$out" | jget '["events_per_s"]')")
  cpu+=("$(echo "$STATS" | python3 -c "import json,sys; s=json.load(sys.stdin)['stats']; print(round(s['cpu_user_s']+s['cpu_sys_s'], 3))")")
  rss+=("$(echo "$STATS" | jget '["stats"]["rss_kb"]')")
  echo "  throughput run $i: $(echo "$out" | jget '["events_per_s"]' | cut -d. -f1) events/s, $(echo "$out" | jget '["mib_per_s"]' | cut -c1-6) MiB/s of JSON, server CPU ${cpu[-1]} s, RSS ${rss[-1]} KiB"
done
TP=$(printf '%s\n' "${tp[@]}" | median)
CPU=$(printf '%s\n' "${cpu[@]}" | median); RSS=$(printf '%s\n' "${rss[@]}" | median)

# 2. latency at 1000 events/s
p50s=(); p99s=()
for i in $(seq "$REPEAT"); do
  start_server --streams 1 --dir "$TMP"
  out=$($LOAD latency "$INFO" 1000 5)
  stop_server
  p50s+=("$(echo "$out" | jget '["p50_ms"]')"); p99s+=("$(echo "$out" | jget '["p99_ms"]')")
done
P50=$(printf '%s\n' "${p50s[@]}" | median); P99=$(printf '%s\n' "${p99s[@]}" | median)

# 3. 500 streams: memory per stream = (RSS with 500 streams served and connected - RSS idle) / 500
start_server --streams 500
base=$(server_rss)
$LOAD streams "$INFO" 500 1000 "$TMP/done1" > "$TMP/load1.out" &
LDP=$!; PIDS+=("$LDP")
for _ in $(seq 1200); do [ -s "$TMP/load1.out" ] && break; sleep 0.1; done
line=$(head -n1 "$TMP/load1.out")
loaded=$(server_rss)
touch "$TMP/done1"; wait "$LDP" || true
stop_server
S_EPS=$(echo "$line" | jget '["events_per_s"]')
PER_STREAM_KIB=$(( (loaded - base) / 500 ))
# the same without events: connected, idle streams only
start_server --streams 500
base2=$(server_rss)
$LOAD streams "$INFO" 500 0 "$TMP/done2" > "$TMP/load2.out" &
LDP=$!; PIDS+=("$LDP")
for _ in $(seq 1200); do [ -s "$TMP/load2.out" ] && break; sleep 0.1; done
idle=$(server_rss)
touch "$TMP/done2"; wait "$LDP" || true
stop_server
IDLE_KIB=$(( (idle - base2) / 500 ))

# 4. wrk: nginx vs ingest, the same small POST
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$TMP/k.pem" -out "$TMP/c.pem" \
  -days 1 -subj /CN=127.0.0.1 2>/dev/null
NPORT=$(python3 -c "import socket;s=socket.socket();s.bind(('127.0.0.1',0));print(s.getsockname()[1])")
mkdir -p "$TMP/nginx/logs"
cat > "$TMP/nginx/nginx.conf" <<CONF
daemon off; worker_processes 1; pid $TMP/nginx/nginx.pid; error_log $TMP/nginx/logs/error.log;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $TMP/nginx; proxy_temp_path $TMP/nginx; fastcgi_temp_path $TMP/nginx;
  uwsgi_temp_path $TMP/nginx; scgi_temp_path $TMP/nginx;
  server {
    listen 127.0.0.1:$NPORT ssl; ssl_certificate $TMP/c.pem; ssl_certificate_key $TMP/k.pem;
    ssl_protocols TLSv1.2 TLSv1.3; client_max_body_size 1m; keepalive_requests 1000000;
    location / { client_body_buffer_size 16k; return 200 '{"ack":1}'; }
  }
}
CONF
nginx -p "$TMP/nginx" -c "$TMP/nginx/nginx.conf" & NGX=$!; PIDS+=("$NGX")
for _ in $(seq 100); do (echo > /dev/tcp/127.0.0.1/$NPORT) 2>/dev/null && break; sleep 0.05; done
start_server --streams 1
SID=$(jget '["streams"][0]["id"]' < "$INFO"); TOK=$(jget '["streams"][0]["token"]' < "$INFO"); IPORT=$(jget '["port"]' < "$INFO")
BODY="{\"v\":1,\"stream\":\"$SID\",\"events\":[{\"v\":1,\"stream\":\"$SID\",\"seq\":1,\"ts\":\"2026-11-26T06:40:00.123Z\",\"type\":\"test\",\"suite\":\"CalcTest\",\"class\":\"CalcTest\",\"name\":\"testAdd\",\"status\":\"passed\",\"time\":0.001}]}"
cat > "$TMP/post.lua" <<LUA
wrk.method = "POST"
wrk.body = '$BODY'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $TOK"
LUA
wrk_rps() { wrk -t1 -c16 -d5s -s "$TMP/post.lua" "$1" | awk '/Requests\/sec/ {print $2}'; }
ng=(); us=()
for i in $(seq "$REPEAT"); do
  ng+=("$(wrk_rps "https://127.0.0.1:$NPORT/v1/streams/$SID/events")")
  us+=("$(wrk_rps "https://127.0.0.1:$IPORT/v1/streams/$SID/events")")
done
stop_server
kill "$NGX"; wait "$NGX" 2>/dev/null || true
NG=$(printf '%s\n' "${ng[@]}" | median); US=$(printf '%s\n' "${us[@]}" | median)

echo
echo "== results (medians of $REPEAT)"
printf '  throughput, one stream over TLS      %10.0f events/s   (goal >= 200000)\n' "$TP"
printf '  server for those 200000 events       %10.2f s CPU, %d KiB resident (every result kept for the reports)\n' "$CPU" "$RSS"
printf '  latency at 1000 events/s            p50 %6.2f ms  p99 %6.2f ms   (goal p99 < 50 ms)\n' "$P50" "$P99"
printf '  500 streams, 1000 events each        %10.0f events/s total (python client, 8 threads)\n' "$S_EPS"
printf '  memory per stream, 1000 events kept  %10d KiB\n' "$PER_STREAM_KIB"
printf '  memory per idle connected stream     %10d KiB   (goal < 64 KiB)\n' "$IDLE_KIB"
printf '  wrk small POSTs: nginx %.0f req/s, ingest %.0f req/s, ratio %.2f\n' "$NG" "$US" "$(echo "$US / $NG" | bc -l)"
