#!/usr/bin/env bash
# Several instances on one PostgreSQL (issue 9): intake and send rates with
# 1 and 3 huifangd instances sharing one database.
#
#   BUILD=build DURATION=8 INSTANCES="1 3" tools/bench/cluster.sh
#
# Everything is started here and stopped at the end, on 127.0.0.1 only: a
# throwaway PostgreSQL (tests/pg_server.sh, with PostgreSQL's durable
# defaults unless PG_DURABLE=0), the mock provider (build/mock_provider, the
# webhook receiver, which counts duplicate dedup ids), and for each count N
# in INSTANCES, on a fresh database:
#
#  1. Intake: N huifangd start with their clock on Sunday 23:00, when a
#     notice is not due (notice hours start at 08:00), and N wrk processes,
#     one per instance (round robin done by the client), post unique
#     triggers of a one-message catalogue (a notice) for DURATION seconds,
#     CONNECTIONS connections in all. Rate = triggers stored / DURATION.
#  2. Sends: the N instances stop and start again on the same database
#     with their clock on Monday 09:00 (every notice due). Rate = messages
#     accepted by the mock / seconds from the restart until the last one
#     (bounded by SEND_TIMEOUT). Duplicates at the mock are reported.
#
# The machine's cores are shared by the instances, PostgreSQL, wrk and
# the mock: read the 1-vs-3 ratio, not the absolute figures. Prints
# readable lines, then
#   RESULT cluster instances=N triggers=.. intake_rate=.. messages=.. send_s=.. send_rate=.. duplicates=..
set -euo pipefail
TOP=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-build}
case "$BUILD" in /*) ;; *) BUILD=$TOP/$BUILD ;; esac
DURATION=${DURATION:-8}
INSTANCES=${INSTANCES:-1 3}
CONNECTIONS=${CONNECTIONS:-48}
SEND_TIMEOUT=${SEND_TIMEOUT:-120}
export PG_DURABLE=${PG_DURABLE:-1}
PATH=$PATH:/usr/sbin:/sbin
for c in wrk psql python3; do
    command -v $c >/dev/null ||
        { echo "cluster.sh: needs $c (tools/deps.sh installs wrk and postgresql)" >&2; exit 1; }
done
for b in huifangd mock_provider; do
    [ -x "$BUILD/$b" ] || { echo "cluster.sh: $BUILD/$b not built (make all)" >&2; exit 1; }
done

DIR=$(mktemp -d /tmp/huifang-bench-cluster.XXXXXX)
PIDS=() # the processes this script started and has not reaped yet
PG_DIR=
cleanup() {
    local p
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
    [ -n "$PG_DIR" ] && "$TOP/tests/pg_server.sh" stop "$PG_DIR"
    rm -rf "$DIR"
}
forget() { # pid: reaped, so never signalled again
    local p keep=()
    for p in "${PIDS[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
    PIDS=("${keep[@]}")
}
finish() { # pid: SIGTERM a process this script started and reap it
    kill "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
    forget "$1"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
wait_file() { # file what
    for _ in $(seq 400); do [ -s "$1" ] && return 0; sleep 0.025; done
    echo "cluster.sh: $2 did not start" >&2
    return 1
}

# --- PostgreSQL and the mock ---------------------------------------------------
pg_out=$("$TOP/tests/pg_server.sh" start)
PG_DIR=$(printf '%s\n' "$pg_out" | sed -n 1p)
PG_URL=$(printf '%s\n' "$pg_out" | sed -n 2p)
PG_BASE=${PG_URL%/*}

SECRET=bench-webhook-secret-0123456789
"$BUILD/mock_provider" --port 0 --ready-file "$DIR/mock.port" --record /dev/null \
    --webhook-secret "$SECRET" >"$DIR/mock.log" 2>&1 &
PIDS+=($!)
wait_file "$DIR/mock.port" "mock_provider"
MPORT=$(cat "$DIR/mock.port")
mock_stat() { # field of /_mock/stats
    curl -s "http://127.0.0.1:$MPORT/_mock/stats" |
        python3 -c 'import json, sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"
}

TOKEN=bench-trigger-token-0123456789
HASH=$(printf '%s\n' "$TOKEN" | "$BUILD/huifangd" --hash-token)
cat >"$DIR/catalogue.json" <<'JSON'
{"milestones": {"material_inspection": {"name": "材料进场验收", "messages": [
  {"id": "notice", "kind": "notice", "to": "customer", "delay": "0", "window": "notice"}]}}}
JSON
LOAD_CLOCK=2026-11-29T23:00:00+08:00 # Sunday night: notices wait for 08:00
SEND_CLOCK=2026-11-30T09:00:00+08:00 # Monday morning: every notice is due
export BENCH_OCCURRED_AT=2026-11-29T22:59:00+08:00 BENCH_TOKEN=$TOKEN BENCH_UNIQUE=1
export BENCH_MILESTONE=material_inspection

config() { # dir url
    cat >"$1/huifang.json" <<JSON
{"listen": {"port": 0, "ready_file": "$1/port", "max_connections": 1024},
 "log_level": "warn",
 "store": {"url": "$2"},
 "company": {"name": "安居装饰", "phone": "400-800-1234"},
 "catalogue": "$DIR/catalogue.json", "holidays": "$TOP/config/holidays-cn.json",
 "templates": "$TOP/templates", "surveys": "$TOP/templates/surveys",
 "api_tokens": [{"name": "bench", "roles": ["trigger"], "sha256": "$HASH"}],
 "survey": {"secret": "bench-survey-secret"},
 "dispatch": {"max_in_flight": 64, "batch_size": 256},
 "outbound": {"max_connections": 64, "max_host_connections": 64},
 "channels": {"webhook": {"enabled": true, "url": "http://127.0.0.1:$MPORT/webhook",
                          "secret": "$SECRET"}}}
JSON
}
DPIDS=()
start_all() { # n clock
    DPIDS=()
    local i
    for i in $(seq "$1"); do
        rm -f "$DIR/i$i/port"
        HUIFANG_CLOCK_START=$2 "$BUILD/huifangd" -c "$DIR/i$i/huifang.json" \
            2>>"$DIR/i$i/huifangd.log" &
        DPIDS+=($!)
        PIDS+=($!)
    done
    for i in $(seq "$1"); do wait_file "$DIR/i$i/port" "huifangd $i"; done
}
stop_all() {
    local p
    for p in "${DPIDS[@]}"; do finish "$p"; done
}

for n in $INSTANCES; do
    db=hf_bench_$n
    psql -X -q "$PG_URL" -c "CREATE DATABASE $db"
    url=$PG_BASE/$db
    for i in $(seq "$n"); do mkdir -p "$DIR/i$i"; config "$DIR/i$i" "$url"; done
    # Migrate once before the instances start, as a deployment would.
    "$BUILD/huifangd" -c "$DIR/i1/huifang.json" --migrate >/dev/null
    curl -s -X POST "http://127.0.0.1:$MPORT/_mock/reset" >/dev/null

    # 1. Intake.
    start_all "$n" "$LOAD_CLOCK"
    WRKS=()
    for i in $(seq "$n"); do
        BENCH_RUN=c$n-$i-$(date +%s) wrk -t1 -c$((CONNECTIONS / n)) -d"${DURATION}s" \
            -s "$TOP/tools/bench/intake.lua" "http://127.0.0.1:$(cat "$DIR/i$i/port")" \
            >"$DIR/wrk-$n-$i.out" 2>&1 &
        WRKS+=($!)
        PIDS+=($!)
    done
    for p in "${WRKS[@]}"; do wait "$p" || true; forget "$p"; done
    stop_all
    triggers=$(psql -X -At "$url" -c "SELECT COUNT(*) FROM triggers")
    messages=$(psql -X -At "$url" -c "SELECT COUNT(*) FROM messages WHERE state = 'pending'")
    errors=$(cat "$DIR"/wrk-"$n"-*.out | sed -n 's/.*non_2xx_or_errors=\([0-9]*\).*/\1/p' |
             awk '{s += $1} END {print s + 0}')
    intake_rate=$(awk -v t="$triggers" -v d="$DURATION" 'BEGIN {printf "%.0f", t / d}')

    # 2. Sends.
    t0=$(now_ms)
    start_all "$n" "$SEND_CLOCK"
    deadline=$(( t0 + SEND_TIMEOUT * 1000 ))
    while :; do
        accepted=$(mock_stat accepted)
        [ "$accepted" -ge "$messages" ] && break
        [ "$(now_ms)" -ge "$deadline" ] && { echo "cluster.sh: sends not done after ${SEND_TIMEOUT}s" >&2; break; }
        sleep 0.05
    done
    t1=$(now_ms)
    stop_all
    duplicates=$(mock_stat duplicates)
    left=$(psql -X -At "$url" -c "SELECT COUNT(*) FROM messages WHERE state <> 'sent'")
    send_s=$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.2f", (b - a) / 1000}')
    send_rate=$(awk -v m="$accepted" -v s="$send_s" 'BEGIN {printf "%.0f", m / s}')
    echo "instances=$n: intake $triggers triggers in ${DURATION}s = $intake_rate/s" \
         "(wrk errors $errors); sends $accepted of $messages messages in ${send_s}s =" \
         "$send_rate/s, duplicates at the mock $duplicates, not sent $left"
    RESULTS+=("RESULT cluster instances=$n triggers=$triggers intake_rate=$intake_rate messages=$accepted send_s=$send_s send_rate=$send_rate duplicates=$duplicates left=$left")
    rm -rf "$DIR"/i*
done
printf '%s\n' "${RESULTS[@]}"
