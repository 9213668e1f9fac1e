#!/usr/bin/env bash
# Callbacks (issue 8, item 4):
#  - WeChat secure-mode (AES) callbacks verified (signature + msg_signature),
#    decrypted, parsed and committed per second: COUNT distinct, correctly
#    signed text messages from build/wxgen (each its own openid and MsgId,
#    timestamp = now), replayed by wrk (callbacks_wechat.lua). No survey is
#    open, so each is stored as an unmatched answer (one committed row) and
#    answered with an encrypted passive reply.
#  - Aliyun SmsReport receipt batches per second: JSON arrays of
#    RECEIPTS_PER_BATCH receipts for unknown out_ids (callbacks_receipts.lua),
#    each batch committed before its answer.
#
#   BUILD=build DURATION=10 CONNECTIONS=32 THREADS=1 COUNT=300000 \
#   SYNCS="full normal" RECEIPTS_PER_BATCH=100 tools/bench/callbacks.sh
#   PERF=dir   also `perf record -g` huifangd during each run (dir/<phase>.perf.data;
#              PERF_OPTS="--call-graph dwarf" for stacks through -O2 code)
#
# stdout:
#   RESULT callbacks_aes sync=full rps=.. p50_ms=.. p99_ms=.. cpu_us_per_req=.. committed=.. committed_per_s=.. non2xx=.. first_pass=yes
#   RESULT callbacks_aes_normal sync=normal ...     (when SYNCS has "normal")
#   RESULT receipts sync=full batches_per_s=.. receipts_per_s=.. p50_ms=.. p99_ms=.. cpu_us_per_batch=.. committed=..
# rps counts answered requests; committed counts the answers rows actually
# in the store afterwards (repeats after the first pass through the COUNT
# requests are WeChat retries, answered but not stored again:
# first_pass=no says that happened). Each phase runs its own huifangd on a
# fresh store. Bounded: about 15 s per phase, 45-60 s in all.
set -euo pipefail
TOP=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$TOP/$BUILD ;; esac
DURATION=${DURATION:-10}
CONNECTIONS=${CONNECTIONS:-32}
THREADS=${THREADS:-1}
COUNT=${COUNT:-300000}
SYNCS=${SYNCS:-"full normal"}
RECEIPTS_PER_BATCH=${RECEIPTS_PER_BATCH:-100}
PERF=${PERF:-}
HUIFANGD=$BUILD/huifangd
WXGEN=$BUILD/wxgen
for b in "$HUIFANGD" "$WXGEN"; do
  [ -x "$b" ] || { echo "callbacks.sh: $b is missing (make $b)" >&2; exit 1; }
done
command -v wrk >/dev/null || { echo "callbacks.sh: needs wrk: apt-get install -y wrk" >&2; exit 1; }
command -v python3 >/dev/null || { echo "callbacks.sh: needs python3" >&2; exit 1; }
[ -z "$PERF" ] || command -v perf >/dev/null || { echo "callbacks.sh: PERF set but no perf" >&2; exit 1; }

DIR=$(mktemp -d /tmp/hf-callbacks.XXXXXX)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  if [ -n "${KEEP:-}" ]; then echo "callbacks.sh: kept $DIR" >&2; else rm -rf "$DIR"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Test credentials (the shape of real ones: a 43-character EncodingAESKey).
WX_TOKEN=benchCallbackToken2026
WX_AES_KEY=abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG
WX_APPID=wx1234567890abcdef
CB_TOKEN=bench-callback-token-3f9a1c0e7b
TCK=$(getconf CLK_TCK)

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
# CPU microseconds of this shell's reaped children (bash `times`, 2nd line;
# `times` must run in this shell, not in a $(...) subshell).
children_us() {
  times > "$DIR/times"
  sed -n 2p "$DIR/times" | awk '{ n = 0
    for (i = 1; i <= 2; i++) { split($i, a, /[ms]/); n += a[1] * 60 + a[2] }
    printf "%d\n", n * 1000000 }'
}
kv() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<" $2"; }

# start_daemon NAME SYNC: a fresh store; sets HP and PORT.
start_daemon() {
  local name=$1 sync=$2
  rm -f "$DIR/$name.port"
  cat > "$DIR/$name.json" <<JSON
{"listen": {"port": 0, "ready_file": "$DIR/$name.port", "max_connections": 1024,
            "public_rate": 0},
 "log_level": "warn",
 "store": {"path": "$DIR/$name.db", "synchronous": "$sync"},
 "company": {"name": "安居装饰", "phone": "400-800-1234"},
 "catalogue": "$TOP/config/milestones.json", "holidays": "$TOP/config/holidays-cn.json",
 "templates": "$TOP/templates", "surveys": "$TOP/templates/surveys",
 "api_tokens": [{"name": "bench", "roles": ["trigger"],
                 "sha256": "0000000000000000000000000000000000000000000000000000000000000000"}],
 "survey": {"secret": "bench-survey-secret"},
 "callbacks": {"token": "$CB_TOKEN"},
 "channels": {"wechat": {"appid": "$WX_APPID", "callback_token": "$WX_TOKEN",
                         "encoding_aes_key": "$WX_AES_KEY"}}}
JSON
  "$HUIFANGD" -c "$DIR/$name.json" 2>"$DIR/$name.log" &
  HP=$!
  PIDS+=($HP)
  for _ in $(seq 100); do [ -s "$DIR/$name.port" ] && break; sleep 0.05; done
  [ -s "$DIR/$name.port" ] || { echo "callbacks.sh: huifangd did not start:" >&2; cat "$DIR/$name.log" >&2; exit 1; }
  PORT=$(cat "$DIR/$name.port")
}

stop_daemon() {
  kill -TERM "$HP" 2>/dev/null || true
  wait "$HP" 2>/dev/null || true
}

# run_wrk NAME SCRIPT: wrk against huifangd $HP (optionally under perf);
# sets OUT (the script's WRK line) and CPU_US (huifangd's CPU meanwhile).
run_wrk() {
  local name=$1 script=$2 perf_pid=
  if [ -n "$PERF" ]; then
    mkdir -p "$PERF"
    perf record ${PERF_OPTS:--g} -o "$PERF/$name.perf.data" -p "$HP" 2>"$DIR/$name.perf.log" &
    perf_pid=$!
    PIDS+=($perf_pid)
  fi
  local t0 t1 w0 w1
  t0=$(cpu_ticks "$HP")
  children_us > "$DIR/w0"
  OUT=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --timeout 5s -s "$script" \
        "http://127.0.0.1:$PORT" | grep '^WRK ' || true)
  t1=$(cpu_ticks "$HP")
  children_us > "$DIR/w1"
  w0=$(cat "$DIR/w0"); w1=$(cat "$DIR/w1")
  CPU_US=$(( (t1 - t0) * 1000000 / TCK ))
  WRK_CPU_PCT=$(( (w1 - w0) / 10000 / DURATION ))
  if [ -n "$perf_pid" ]; then
    kill -INT "$perf_pid" 2>/dev/null || true
    wait "$perf_pid" 2>/dev/null || true
    echo "callbacks.sh: profile in $PERF/$name.perf.data (perf report -i ... --no-children)" >&2
  fi
  [ -n "$OUT" ] || { echo "callbacks.sh: wrk produced no summary" >&2; exit 1; }
}

rows() { # db, sql
  python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute(sys.argv[2]).fetchone()[0])' "$1" "$2"
}

# ---- WeChat secure-mode callbacks ---------------------------------------
echo "callbacks.sh: generating $COUNT signed secure-mode callbacks" >&2
"$WXGEN" --token "$WX_TOKEN" --aes-key "$WX_AES_KEY" --appid "$WX_APPID" --count "$COUNT" \
  --out "$DIR/wx.txt"

# A single request first: it must be accepted (200, an encrypted reply).
start_daemon probe full
line=$(head -1 "$DIR/wx.txt")
code=$(curl -s -o "$DIR/probe.out" -w '%{http_code}' -X POST -H 'Content-Type: text/xml' \
       --data-binary "${line#*$'\t'}" "http://127.0.0.1:$PORT/wechat/callback?${line%%$'\t'*}")
if [ "$code" != 200 ] || ! grep -q '<Encrypt>' "$DIR/probe.out"; then
  echo "callbacks.sh: the probe callback was answered $code: $(head -c 300 "$DIR/probe.out")" >&2
  exit 1
fi
stop_daemon

for sync in $SYNCS; do
  name=callbacks_aes
  [ "$sync" = full ] || name=callbacks_aes_$sync
  start_daemon "$name" "$sync"
  WX_REQUESTS=$DIR/wx.txt WX_THREADS=$THREADS run_wrk "$name" "$TOP/tools/bench/callbacks_wechat.lua"
  stop_daemon
  req=$(kv requests "$OUT"); dur=$(kv duration_s "$OUT"); wraps=$(kv wraps "$OUT")
  committed=$(rows "$DIR/$name.db" "SELECT COUNT(*) FROM answers WHERE channel = 'wechat'")
  echo "callbacks.sh: $name: $OUT; huifangd CPU ${CPU_US} us; wrk used ${WRK_CPU_PCT}% of a core; answers stored $committed" >&2
  echo "RESULT $name sync=$sync rps=$(kv rps "$OUT") p50_ms=$(kv p50_ms "$OUT")" \
       "p99_ms=$(kv p99_ms "$OUT") cpu_us_per_req=$(( CPU_US / (req > 0 ? req : 1) ))" \
       "committed=$committed committed_per_s=$(python3 -c "print(round($committed / $dur))")" \
       "non2xx=$(kv non2xx "$OUT") errors=$(kv errors "$OUT")" \
       "first_pass=$([ "$wraps" = 0 ] && echo yes || echo no) connections=$CONNECTIONS"
done

# ---- Aliyun SmsReport receipt batches ----------------------------------
start_daemon receipts full
CALLBACK_TOKEN=$CB_TOKEN RECEIPTS_PER_BATCH=$RECEIPTS_PER_BATCH \
  run_wrk receipts "$TOP/tools/bench/callbacks_receipts.lua"
stop_daemon
req=$(kv requests "$OUT"); dur=$(kv duration_s "$OUT")
committed=$(rows "$DIR/receipts.db" "SELECT COUNT(*) FROM receipts")
echo "callbacks.sh: receipts: $OUT; huifangd CPU ${CPU_US} us; wrk used ${WRK_CPU_PCT}% of a core; receipts stored $committed" >&2
python3 - "$req" "$dur" "$committed" "$CPU_US" "$RECEIPTS_PER_BATCH" "$OUT" "$CONNECTIONS" <<'PY'
import sys
req, dur, committed, cpu, per, out, conns = (int(sys.argv[1]), float(sys.argv[2]),
    int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), sys.argv[6], sys.argv[7])
kv = dict(p.split("=", 1) for p in out.split()[1:])
print("RESULT receipts sync=full batch=%d batches_per_s=%.0f receipts_per_s=%.0f p50_ms=%s "
      "p99_ms=%s cpu_us_per_batch=%d committed=%d non2xx=%s errors=%s connections=%s"
      % (per, req / dur, committed / dur, kv["p50_ms"], kv["p99_ms"], cpu // max(req, 1),
         committed, kv["non2xx"], kv["errors"], conns))
PY
for f in "$DIR"/*.log; do
  if grep -q ' ERROR' "$f"; then
    echo "callbacks.sh: $(basename "$f" .log) logged errors:" >&2
    grep ' ERROR' "$f" | head -3 >&2
  fi
done
