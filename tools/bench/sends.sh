#!/usr/bin/env bash
# Send throughput and per-message cost (issue 8, items 2 and 5).
#
#   BUILD=build MESSAGES=100000 ADAPTERS="webhook aliyun" tools/bench/sends.sh
#
# For each adapter, MESSAGES due messages go through huifangd to nginx
# (one worker, answering the provider's success JSON), and the same number
# of the same requests go through `curl --parallel --parallel-max 64` to
# the same nginx, in the same run:
#
#  1. Load: huifangd starts with its clock on Sunday 23:00, when a notice
#     is not due (notice hours start at 08:00), and wrk posts MESSAGES
#     triggers, each for a new customer, of a one-milestone catalogue whose
#     only message is the notice: exactly one message per trigger, and no
#     survey merging. huifangd stops.
#  2. Capture: a throwaway huifangd sends one such message to a one-shot
#     Python listener, which keeps the raw request: the curl baseline
#     replays its method, URL, headers and body.
#  3. Send: huifangd starts again on the same store with its clock on
#     Monday 09:00 (every notice due), per-number limits off, SMS qps at
#     its maximum, dispatch.max_in_flight 64 and 64 connections to the
#     host. The time runs from its start until the store has no pending or
#     sending message. CPU is the daemon's utime+stime over its whole life
#     (start, sends, nothing else) divided by the messages sent; RSS is its
#     VmHWM; store bytes are (database + WAL) / messages at that moment.
#  4. Baseline: curl -K with the captured request's headers and body once
#     and MESSAGES `url =` lines, --parallel --parallel-max 64. The body is
#     given once, but curl holds its whole URL list, which is part of its
#     RSS (an Aliyun URL carries the signed query, about 600 bytes).
#
# PROFILE_DIR=dir records `perf record -g` of huifangd during each send
# phase into dir/sends-<adapter>.perf. SEND_TIMEOUT (120 s) bounds each
# load and each send phase. Prints readable lines, then for run.sh:
#   RESULT sends adapter=webhook messages=.. ms=.. rate=.. rss_kib=.. cpu_us_per_msg=..
#          store_bytes_per_msg=.. failed=.. left=.. load_rate=..
#   RESULT sends_curl adapter=webhook requests=.. rate=.. rss_kib=.. cpu_us_per_req=.. ok=..
set -euo pipefail
TOP=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-build}
case "$BUILD" in /*) ;; *) BUILD=$TOP/$BUILD ;; esac
MESSAGES=${MESSAGES:-100000}
ADAPTERS=${ADAPTERS:-webhook aliyun}
SEND_TIMEOUT=${SEND_TIMEOUT:-120}
PROFILE_DIR=${PROFILE_DIR:-}
PATH=$PATH:/usr/sbin:/sbin
for c in wrk nginx curl python3; do
    command -v $c >/dev/null ||
        { echo "sends.sh: needs $c (apt-get install -y wrk nginx-light curl python3)" >&2; exit 1; }
done
MESSAGES=$(( (MESSAGES + 1) / 2 * 2 )) # two wrk threads, the same share each

DIR=$(mktemp -d /tmp/huifang-bench-sends.XXXXXX)
PIDS=() # the processes this script started and has not reaped yet
cleanup() {
    local p
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
    rm -rf "$DIR"
}
forget() { # pid: reaped, so never signalled again (its number may be reused)
    local p keep=()
    for p in "${PIDS[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
    PIDS=("${keep[@]}")
}
finish() { # [signal] pid: stops a process this script started and reaps it
    local sig=TERM
    [ $# -gt 1 ] && { sig=$1; shift; }
    kill -"$sig" "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
    forget "$1"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
wait_port() {
    for _ in $(seq 100); do
        (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0
        sleep 0.05
    done
    echo "sends.sh: nothing listens on port $1" >&2
    return 1
}
sql() { # db query: one value
    python3 -c 'import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute(sys.argv[2]).fetchone()[0])' "$1" "$2"
}
now_ns() { date +%s%N; }

# --- nginx, the receiver -----------------------------------------------------
NPORT=$(free_port)
sed -e "s|@DIR@|$DIR|g" -e "s|@PORT@|$NPORT|g" "$TOP/tools/bench/nginx.conf.tmpl" >"$DIR/nginx.conf"
nginx -p "$DIR" -e "$DIR/nginx.error.log" -c "$DIR/nginx.conf" 2>"$DIR/nginx.stderr" &
PIDS+=($!)
wait_port "$NPORT"

TOKEN=bench-trigger-token-0123456789
HASH=$(printf '%s\n' "$TOKEN" | "$BUILD/huifangd" --hash-token)
# One milestone, one message: a notice to the customer (its template is the
# shipped templates/material_inspection/notice.json).
cat >"$DIR/catalogue.json" <<'JSON'
{"milestones": {"material_inspection": {"name": "材料进场验收", "messages": [
  {"id": "notice", "kind": "notice", "to": "customer", "delay": "0", "window": "notice"}]}}}
JSON
LOAD_CLOCK=2026-11-29T23:00:00+08:00 # Sunday night: notices wait for 08:00
SEND_CLOCK=2026-11-30T09:00:00+08:00 # Monday morning: every notice is due
OCCURRED=2026-11-29T22:59:00+08:00

config() { # adapter dir base_url: writes dir/huifang.json
    local channels
    case "$1" in
    webhook)
        channels="\"webhook\": {\"enabled\": true, \"url\": \"$3/webhook\", \"secret\": \"bench-webhook-secret\"}" ;;
    aliyun)
        channels="\"sms\": {\"provider\": \"aliyun\", \"sign_name\": \"安居装饰\", \"qps\": 10000,
      \"per_number_minute\": 0, \"per_number_hour\": 0, \"per_number_day\": 0},
    \"aliyun\": {\"access_key_id\": \"LTAI5tBenchKey000000\", \"access_key_secret\": \"bench-aliyun-secret\",
      \"signature\": \"v3\", \"base_url\": \"$3/aliyun\"}" ;;
    esac
    cat >"$2/huifang.json" <<JSON
{"listen": {"port": 0, "ready_file": "$2/port", "max_connections": 1024},
 "log_level": "warn",
 "store": {"path": "$2/bench.db", "synchronous": "full"},
 "company": {"name": "安居装饰", "phone": "400-800-1234"},
 "catalogue": "$DIR/catalogue.json", "holidays": "$TOP/config/holidays-cn.json",
 "templates": "$TOP/templates", "surveys": "$TOP/templates/surveys",
 "api_tokens": [{"name": "bench", "roles": ["trigger"], "sha256": "$HASH"}],
 "survey": {"secret": "bench-survey-secret"},
 "dispatch": {"max_in_flight": 64, "batch_size": 4096},
 "outbound": {"max_connections": 64, "max_host_connections": 64},
 "channels": {$channels}}
JSON
}

start_daemon() { # dir clock: starts huifangd, sets DPID and DPORT
    rm -f "$1/port"
    HUIFANG_CLOCK_START=$2 "$BUILD/huifangd" -c "$1/huifang.json" 2>>"$1/huifangd.log" &
    DPID=$!
    PIDS+=("$DPID")
    for _ in $(seq 200); do [ -s "$1/port" ] && break; sleep 0.025; done
    [ -s "$1/port" ] || { echo "sends.sh: huifangd did not start:" >&2; cat "$1/huifangd.log" >&2; exit 1; }
    DPORT=$(cat "$1/port")
}
stop_daemon() {
    finish "$DPID"
}

# The one-shot listener of the capture step: keeps the raw request of the
# first connection in $1 and answers it with $2 (the provider's success).
CAPTURE_PY='
import socket, sys
out, answer, portfile = sys.argv[1], sys.argv[2].encode(), sys.argv[3]
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 0)); s.listen(8); s.settimeout(30)
open(portfile, "w").write(str(s.getsockname()[1]))
c, _ = s.accept(); c.settimeout(10)
data = b""
while b"\r\n\r\n" not in data:
    data += c.recv(65536)
head, body = data.split(b"\r\n\r\n", 1)
n = 0
for line in head.split(b"\r\n")[1:]:
    k, v = line.split(b":", 1)
    if k.strip().lower() == b"content-length":
        n = int(v)
while len(body) < n:
    body += c.recv(65536)
open(out, "wb").write(head + b"\r\n\r\n" + body)
c.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n"
          b"Content-Length: %d\r\n\r\n" % len(answer) + answer)
c.close()
'

# Turns a captured request into a curl -K config: the headers and body
# once, then N url lines to nginx at the same path and query.
CURLCFG_PY='
import sys
raw, body_file, port, n, out = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
data = open(raw, "rb").read()
head, body = data.split(b"\r\n\r\n", 1)
lines = head.decode().split("\r\n")
method, target, _ = lines[0].split(" ", 2)
open(body_file, "wb").write(body)
q = lambda s: "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"") + "\""
cfg = ["request = " + q(method), "data-binary = " + q("@" + body_file),
       "write-out = " + q("code=%{http_code}\\n")]
has_ct = False
for h in lines[1:]:
    k = h.split(":", 1)[0].strip().lower()
    if k in ("host", "content-length"):
        continue
    has_ct |= k == "content-type"
    cfg.append("header = " + q(h))
if not has_ct:
    cfg.append("header = " + q("Content-Type:"))  # as huifangd: no content type
url = q("http://127.0.0.1:%s%s" % (port, target))
with open(out, "w") as f:
    f.write("\n".join(cfg) + "\n")
    for _ in range(n):
        f.write("url = " + url + "\n")
print("%s %s, %d headers, body %d bytes, request %d bytes" % (method, target.split("?")[0],
      len(lines) - 1, len(body), len(data)))
'

# Runs curl with a config; prints "secs cpu_us_per_req maxrss_kib ok".
CURLRUN_PY='
import re, resource, subprocess, sys, time
cfg, n = sys.argv[1], int(sys.argv[2])
t = time.monotonic()
p = subprocess.run(["curl", "--parallel", "--parallel-max", "64", "--silent",
                    "--no-progress-meter", "-K", cfg], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
dt = time.monotonic() - t
ru = resource.getrusage(resource.RUSAGE_CHILDREN)
# stdout has the answers too (as huifangd, curl reads every body).
ok = len(re.findall(rb"code=2[0-9][0-9]", p.stdout))
print("%.3f %.1f %d %d" % (dt, (ru.ru_utime + ru.ru_stime) * 1e6 / n, ru.ru_maxrss, ok))
'

# Waits until no message is pending or sending; prints the time it saw it
# (ns since the epoch), or nothing after the timeout.
WAITSENT_PY='
import sqlite3, sys, time
db, timeout = sys.argv[1], float(sys.argv[2])
end = time.time() + timeout
con = sqlite3.connect(db, timeout=5)
while time.time() < end:
    # Two index probes (the partial indexes on pending and sending), not a
    # count: the poll must cost the daemon nothing.
    # (Literals, so that SQLite can use the partial indexes: repr() quotes.)
    busy = con.execute("SELECT EXISTS (SELECT 1 FROM messages WHERE state = %r)"
                       " OR EXISTS (SELECT 1 FROM messages WHERE state = %r)"
                       % ("pending", "sending")).fetchone()[0]
    if not busy:
        print(time.time_ns())
        break
    time.sleep(0.02)
'

declare -A ANSWER=(
    [webhook]='{"id":"x"}'
    [aliyun]='{"Code":"OK","Message":"OK","BizId":"1^0","RequestId":"r"}'
)

for ad in $ADAPTERS; do
    D=$DIR/$ad
    mkdir -p "$D"
    config "$ad" "$D" "http://127.0.0.1:$NPORT"

    # 1. Load MESSAGES triggers while nothing is due.
    start_daemon "$D" "$LOAD_CLOCK"
    l0=$(now_ns)
    BENCH_TOKEN=$TOKEN BENCH_OCCURRED_AT=$OCCURRED BENCH_UNIQUE=1 BENCH_RUN=$ad-$$ \
        BENCH_LIMIT=$((MESSAGES / 2)) BENCH_DONE_DIR=$D \
        wrk -t2 -c64 -d"${SEND_TIMEOUT}s" -s "$TOP/tools/bench/intake.lua" \
        "http://127.0.0.1:$DPORT" >"$D/wrk.out" &
    WRK=$!
    PIDS+=("$WRK")
    while kill -0 "$WRK" 2>/dev/null && ! { [ -e "$D/done-1" ] && [ -e "$D/done-2" ]; }; do
        sleep 0.05
    done
    l1=$(now_ns)
    finish INT "$WRK"
    stop_daemon
    loaded=$(sql "$D/bench.db" "SELECT COUNT(*) FROM messages WHERE state = 'pending'")
    bad=$(cat "$D"/done-* 2>/dev/null | sed -n 's/.*bad=\([0-9]*\).*/\1/p' | awk '{s += $1} END {print s + 0}')
    load_rate=$(( MESSAGES * 1000000000 / (l1 - l0) ))
    echo "$ad: loaded $loaded pending messages in $(( (l1 - l0) / 1000000 )) ms" \
        "($load_rate triggers/s, refused: ${bad:-?})"
    if [ "$loaded" -ne "$MESSAGES" ]; then
        echo "sends.sh: $ad: expected $MESSAGES pending messages, the store has $loaded" >&2
        cat "$D/wrk.out" "$D/huifangd.log" >&2
        exit 1
    fi

    # 2. Capture one request as huifangd sends it.
    C=$D/capture
    mkdir -p "$C"
    python3 -c "$CAPTURE_PY" "$C/request" "${ANSWER[$ad]}" "$C/listen.port" &
    CAP=$!
    PIDS+=("$CAP")
    for _ in $(seq 100); do [ -s "$C/listen.port" ] && break; sleep 0.05; done
    config "$ad" "$C" "http://127.0.0.1:$(cat "$C/listen.port")"
    start_daemon "$C" "$SEND_CLOCK"
    curl -sf -o /dev/null -X POST "http://127.0.0.1:$DPORT/v1/triggers" \
        -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
        --data-binary "{\"idempotency_key\":\"capture-1\",\"milestone\":\"material_inspection\",
          \"occurred_at\":\"$OCCURRED\",\"project\":{\"id\":\"P-1\",\"address\":\"上海市浦东新区锦绣路88弄6号\"},
          \"customer\":{\"id\":\"C-1-1\",\"name\":\"张伟\",\"title\":\"先生\",\"mobile\":\"13100000001\"}}"
    wait "$CAP" || { echo "sends.sh: $ad: no request captured" >&2; cat "$C/huifangd.log" >&2; exit 1; }
    forget "$CAP"
    stop_daemon
    shape=$(python3 -c "$CURLCFG_PY" "$C/request" "$C/body" "$NPORT" "$MESSAGES" "$D/curl.cfg")
    echo "$ad: request $shape"

    # 3. Send them all.
    s0=$(now_ns)
    start_daemon "$D" "$SEND_CLOCK"
    PERF=
    if [ -n "$PROFILE_DIR" ] && command -v perf >/dev/null; then
        mkdir -p "$PROFILE_DIR"
        perf record -q -g -p "$DPID" -o "$PROFILE_DIR/sends-$ad.perf" 2>/dev/null &
        PERF=$!
        PIDS+=("$PERF")
    fi
    s1=$(python3 -c "$WAITSENT_PY" "$D/bench.db" "$SEND_TIMEOUT")
    [ -n "$s1" ] || s1=$(now_ns)
    cpu_ticks=$(awk '{print $14 + $15}' "/proc/$DPID/stat")
    hwm=$(awk '/^VmHWM/ {print $2}' "/proc/$DPID/status")
    bytes=$(( $(stat -c %s "$D/bench.db") + $(stat -c %s "$D/bench.db-wal" 2>/dev/null || echo 0) ))
    [ -z "$PERF" ] || finish INT "$PERF"
    stop_daemon
    sent=$(sql "$D/bench.db" "SELECT COUNT(*) FROM messages WHERE state = 'sent'")
    left=$(sql "$D/bench.db" "SELECT COUNT(*) FROM messages WHERE state IN ('pending', 'sending')")
    failed=$(sql "$D/bench.db" "SELECT COUNT(*) FROM messages WHERE state = 'failed'")
    ms=$(( (s1 - s0) / 1000000 ))
    rate=$(( sent * 1000 / (ms > 0 ? ms : 1) ))
    cpu_us=$(( cpu_ticks * 1000000 / $(getconf CLK_TCK) / (sent > 0 ? sent : 1) ))
    per_msg=$(( bytes / (sent > 0 ? sent : 1) ))
    echo "$ad: huifangd sent $sent in $ms ms: $rate msg/s, VmHWM $((hwm / 1024)) MiB," \
        "CPU $cpu_us us/msg, store $per_msg B/msg (failed $failed, left $left)"

    # 4. The same requests through curl --parallel.
    read -r csec ccpu crss cok < <(python3 -c "$CURLRUN_PY" "$D/curl.cfg" "$MESSAGES" 2>"$D/curl.err")
    crate=$(python3 -c "print(round($MESSAGES / $csec))")
    echo "$ad: curl --parallel-max 64 sent $cok/$MESSAGES 2xx in ${csec}s: $crate req/s," \
        "maxrss $((crss / 1024)) MiB, CPU ${ccpu} us/req"
    echo "RESULT sends adapter=$ad messages=$sent ms=$ms rate=$rate rss_kib=$hwm" \
        "cpu_us_per_msg=$cpu_us store_bytes_per_msg=$per_msg failed=$failed left=$left" \
        "load_rate=$load_rate"
    echo "RESULT sends_curl adapter=$ad requests=$MESSAGES rate=$crate rss_kib=$crss" \
        "cpu_us_per_req=$ccpu ok=$cok"
    rm -rf "$D" # the next adapter's store goes on a clean disk
done
