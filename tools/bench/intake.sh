#!/usr/bin/env bash
# Durable intake benchmark (first cut of issue 8's suite): unique triggers
# posted with keep-alive by wrk; every 202 is answered after its group
# commit. Prints triggers/s, p50/p99 latency and the daemon's CPU per trigger.
#   BUILD=build DURATION=10 CONNECTIONS=32 SYNC=full tools/bench/intake.sh
set -euo pipefail
TOP=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-build}
DURATION=${DURATION:-10}
CONNECTIONS=${CONNECTIONS:-32}
SYNC=${SYNC:-full}
command -v wrk >/dev/null || { echo "needs wrk: apt-get install -y wrk"; exit 1; }
DIR=$(mktemp -d)
trap 'kill $(cat $DIR/pids 2>/dev/null) 2>/dev/null; wait 2>/dev/null; rm -rf "$DIR"' EXIT
TOKEN=bench-trigger-token-0123456789
HASH=$(printf '%s\n' "$TOKEN" | "$TOP/$BUILD/huifangd" --hash-token)
"$TOP/$BUILD/mock_provider" --port 0 --ready-file "$DIR/mock.port" 2>/dev/null &
echo $! >> "$DIR/pids"
for _ in $(seq 50); do [ -s "$DIR/mock.port" ] && break; sleep 0.1; done
cat > "$DIR/huifang.json" <<JSON
{"listen": {"port": 0, "ready_file": "$DIR/port", "max_connections": 1024},
 "log_level": "warn",
 "store": {"path": "$DIR/bench.db", "synchronous": "$SYNC"},
 "company": {"name": "安居装饰", "phone": "400-800-1234"},
 "catalogue": "$TOP/config/milestones.json", "holidays": "$TOP/config/holidays-cn.json",
 "templates": "$TOP/templates", "surveys": "$TOP/templates/surveys",
 "api_tokens": [{"name": "bench", "roles": ["trigger"], "sha256": "$HASH"}],
 "survey": {"secret": "bench-survey-secret"},
 "channels": {"webhook": {"enabled": true, "url": "http://127.0.0.1:$(cat "$DIR/mock.port")/webhook"}}}
JSON
# Sunday night: everything is planned for later, so this measures intake
# alone (no sends competing for the core).
HUIFANG_CLOCK_START=2026-11-29T23:00:00+08:00 "$TOP/$BUILD/huifangd" -c "$DIR/huifang.json" 2>"$DIR/d.log" &
PID=$!
echo $PID >> "$DIR/pids"
for _ in $(seq 50); do [ -s "$DIR/port" ] && break; sleep 0.1; done
PORT=$(cat "$DIR/port")
t0=$(awk '{print $14+$15}' /proc/$PID/stat)
out=$(BENCH_TOKEN=$TOKEN BENCH_OCCURRED_AT=2026-11-29T22:59:00+08:00 \
      wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" -s "$TOP/tools/bench/intake.lua" "http://127.0.0.1:$PORT" | tail -1)
t1=$(awk '{print $14+$15}' /proc/$PID/stat)
req=$(echo "$out" | sed -n 's/.*requests=\([0-9]*\).*/\1/p')
rows=$(python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('select count(*) from triggers').fetchone()[0])" "$DIR/bench.db")
tck=$(getconf CLK_TCK)
echo "intake synchronous=$SYNC connections=$CONNECTIONS duration=${DURATION}s: $out"
echo "triggers stored=$rows daemon_cpu_us_per_trigger=$(( (t1 - t0) * 1000000 / tck / (req > 0 ? req : 1) ))"
