#!/usr/bin/env bash
# Scheduled scale (issue 8, item 3): RSS and start-up time of huifangd with
# 1,000 / 100,000 / 1,000,000 future messages in the store, the time from
# exec to serving (ready file written, first 200 from GET /healthz) and to
# the first due send (one message made due before the start, until the mock
# webhook receiver records it).
#
#   BUILD=build SIZES="1000 100000 1000000" tools/bench/scale.sh   (KEEP=1 keeps the temp dir)
#
# The store is made once by huifangd itself (so it is created and migrated
# exactly as in production), then filled in bulk by SQLite in a few big
# transactions: one customer, project and trigger (with a real trigger body
# as intake stores it) per 1,000 messages; every message a pending webhook
# notice due a week (+ a spread of a day) ahead. The sizes are filled
# incrementally (1k, then +99k, then +900k) and each is measured on a warm
# page cache (the file was just written), which is what a restart of a
# running server sees.
#
# The gateway runs on a test clock (HUIFANG_CLOCK_START, a Wednesday 15:00
# Asia/Shanghai) so the due notice is inside its window whatever the hour
# the bench runs at; "now" in the store is that instant.
#
# stdout: one line per size and one summary line:
#   RESULT scale n=1000 start_ms=.. healthz_ms=.. first_send_ms=.. rss_kib=.. hwm_kib=.. db_mib=..
#   RESULT scale_growth rss_growth_kib=.. hwm_growth_kib=.. serve_1m_ms=.. rss_ok=yes serve_ok=yes
# (rss_growth_kib: VmRSS at n=1,000,000 minus at n=1,000, target < 10240;
# serve_1m_ms: exec to the first /healthz answer at the largest size,
# target < 2000.) Detail goes to stderr. Bounded: about 30-60 s.
set -euo pipefail
TOP=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$TOP/$BUILD ;; esac
SIZES=${SIZES:-"1000 100000 1000000"}
HUIFANGD=$BUILD/huifangd
MOCK=$BUILD/mock_provider
CLOCK=${CLOCK:-2026-11-25T15:00:00+08:00}
for b in "$HUIFANGD" "$MOCK"; do
  [ -x "$b" ] || { echo "scale.sh: $b is missing (make all)" >&2; exit 1; }
done
command -v python3 >/dev/null || { echo "scale.sh: needs python3" >&2; exit 1; }

DIR=$(mktemp -d /tmp/hf-scale.XXXXXX)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  if [ -n "${KEEP:-}" ]; then echo "scale.sh: kept $DIR" >&2; else rm -rf "$DIR"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

wait_file() { # path, tenths of a second
  for _ in $(seq "$2"); do [ -s "$1" ] && return 0; sleep 0.1; done
  echo "scale.sh: $1 did not appear" >&2; return 1
}

# The mock provider records every webhook it accepts, with its Idempotency-Key.
"$MOCK" --port 0 --ready-file "$DIR/mock.port" --record "$DIR/mock.jsonl" 2>"$DIR/mock.log" &
PIDS+=($!)
wait_file "$DIR/mock.port" 50
MOCK_PORT=$(cat "$DIR/mock.port")

TOKEN=bench-trigger-token-0123456789
HASH=$(printf '%s\n' "$TOKEN" | "$HUIFANGD" --hash-token)
cat > "$DIR/huifang.json" <<JSON
{"listen": {"port": 0, "ready_file": "$DIR/port"},
 "log_level": "warn",
 "store": {"path": "$DIR/scale.db"},
 "company": {"name": "安居装饰", "phone": "400-800-1234"},
 "catalogue": "$TOP/config/milestones.json", "holidays": "$TOP/config/holidays-cn.json",
 "templates": "$TOP/templates", "surveys": "$TOP/templates/surveys",
 "api_tokens": [{"name": "bench", "roles": ["trigger"], "sha256": "$HASH"}],
 "survey": {"secret": "bench-survey-secret"},
 "channels": {"webhook": {"enabled": true, "url": "http://127.0.0.1:$MOCK_PORT/webhook"}}}
JSON

# 1. Let huifangd create and migrate the store, and take one real trigger
#    body from a real POST (the template of the bulk rows). At night, so its
#    own messages are planned for the morning and nothing is sent yet.
HUIFANG_CLOCK_START=2026-11-24T23:00:00+08:00 "$HUIFANGD" -c "$DIR/huifang.json" 2>>"$DIR/d.log" &
HP=$!
PIDS+=($HP)
wait_file "$DIR/port" 50
curl -sf -o /dev/null -X POST "http://127.0.0.1:$(cat "$DIR/port")/v1/triggers" \
  -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
  -d '{"idempotency_key":"scale-template","milestone":"material_inspection",
       "occurred_at":"2026-11-24T22:00:00+08:00",
       "project":{"id":"P-TEMPLATE","address":"上海市浦东新区锦绣路88弄6号1201室",
                  "staff":{"pm":{"name":"王建国","phone":"13900001111"}}},
       "customer":{"id":"C-TEMPLATE","name":"张伟","title":"先生","mobile":"13812345678"}}'
kill -TERM "$HP"
wait "$HP" || true
rm -f "$DIR/port"

# 2. Fill and measure, size by size (in the background, so a signal to this
#    script reaches the trap at once; python stops its huifangd on SIGTERM).
python3 - "$DIR" "$HUIFANGD" "$CLOCK" $SIZES <<'PY' &
import hashlib, http.client, json, os, signal, sqlite3, subprocess, sys, time
from datetime import datetime

def on_term(signum, frame):
    raise SystemExit(128 + signum)
signal.signal(signal.SIGTERM, on_term)

d, huifangd, clock = sys.argv[1], sys.argv[2], sys.argv[3]
sizes = [int(s) for s in sys.argv[4:]]
db_path = os.path.join(d, "scale.db")
NOW = int(datetime.fromisoformat(clock).timestamp())
WEEK, DAY = 7 * 86400, 86400
PER_TRIGGER = 1000

def err(*a):
    print(*a, file=sys.stderr, flush=True)

db = sqlite3.connect(db_path, isolation_level=None)
db.execute("PRAGMA synchronous = OFF")
tmpl_body = json.loads(db.execute(
    "SELECT body FROM triggers WHERE idem_key = 'scale-template'").fetchone()[0])
# The planned messages of the template trigger are not part of the load.
db.execute("DELETE FROM surveys")
db.execute("DELETE FROM messages")

def body_for(t):
    b = json.loads(json.dumps(tmpl_body))
    b["idempotency_key"] = "scale-%d" % t
    b["customer"]["id"] = "C-S%07d" % t
    b["customer"]["mobile"] = "138%08d" % t
    b["project"]["id"] = "P-S%07d" % t
    return json.dumps(b, ensure_ascii=False, sort_keys=True, separators=(",", ":"))

def fill(frm, to):
    """Messages frm+1..to (ids), in triggers of PER_TRIGGER."""
    t0 = time.monotonic()
    db.execute("BEGIN")
    for t in range(frm // PER_TRIGGER + 1, (to + PER_TRIGGER - 1) // PER_TRIGGER + 1):
        body = body_for(t)
        b = json.loads(body)
        db.execute("INSERT OR IGNORE INTO customers (id, name, title, mobile, created_at, updated_at)"
                   " VALUES (?, ?, ?, ?, ?, ?)",
                   (b["customer"]["id"], b["customer"]["name"], b["customer"]["title"],
                    b["customer"]["mobile"], NOW - DAY, NOW - DAY))
        db.execute("INSERT OR IGNORE INTO projects (id, customer_id, address, created_at, updated_at)"
                   " VALUES (?, ?, ?, ?, ?)",
                   (b["project"]["id"], b["customer"]["id"], b["project"]["address"], NOW - DAY,
                    NOW - DAY))
        db.execute("INSERT OR IGNORE INTO triggers (id, idem_key, body_hash, milestone, project_id,"
                   " customer_id, occurred_at, received_at, token_name, body, response)"
                   " VALUES (?, ?, ?, 'material_inspection', ?, ?, ?, ?, 'bench', ?, NULL)",
                   (1000 + t, b["idempotency_key"], hashlib.sha256(body.encode()).hexdigest(),
                    b["project"]["id"], b["customer"]["id"], NOW - DAY, NOW - DAY, body))
    # Messages in one statement (a recursive CTE: all in SQLite's C code).
    db.execute("""
        WITH RECURSIVE seq(i) AS (SELECT ?1 + 1 UNION ALL SELECT i + 1 FROM seq WHERE i < ?2)
        INSERT INTO messages (id, trigger_id, milestone, message, kind, recipient, channel, window,
                              state, due_at, expires_at, next_attempt_at, attempts,
                              created_at, updated_at)
        SELECT i, 1000 + (i - 1) / ?3 + 1, 'material_inspection', 'notice', 'notice', 'customer',
               'webhook', 'notice', 'pending', ?4 + (i * 7919) % ?5, ?4 + (i * 7919) % ?5 + 2 * ?5,
               ?4 + (i * 7919) % ?5, 0, ?6, ?6
        FROM seq""", (frm, to, PER_TRIGGER, NOW + WEEK, DAY, NOW - DAY))
    db.execute("COMMIT")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    err("scale: filled messages %d..%d in %.1f s" % (frm + 1, to, time.monotonic() - t0))

def status_kib(pid, key):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return -1

def healthz(port):
    try:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
        c.request("GET", "/healthz")
        r = c.getresponse()
        r.read()
        c.close()
        return r.status == 200
    except OSError:
        return False

def measure(n, due_id):
    # Make one message due now (it is sent at once, inside its window).
    db.execute("UPDATE messages SET due_at = ?2, next_attempt_at = ?2 WHERE id = ?1",
               (due_id, NOW - 60))
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    key = b'"hf-%d"' % due_id
    ready = os.path.join(d, "port")
    record = os.path.join(d, "mock.jsonl")
    if os.path.exists(ready):
        os.unlink(ready)
    env = dict(os.environ, HUIFANG_CLOCK_START=clock)
    logf = open(os.path.join(d, "d.log"), "ab")
    t0 = time.monotonic()
    p = subprocess.Popen([huifangd, "-c", os.path.join(d, "huifang.json")], env=env,
                         stdout=subprocess.DEVNULL, stderr=logf)
    start_ms = healthz_ms = send_ms = None
    port = None
    try:
        deadline = t0 + 20
        while time.monotonic() < deadline and (healthz_ms is None or send_ms is None):
            now = time.monotonic()
            if p.poll() is not None:
                raise SystemExit("scale: huifangd exited with %d (see its log)" % p.returncode)
            if start_ms is None and os.path.exists(ready):
                with open(ready) as f:
                    txt = f.read().strip()
                if txt:
                    port = int(txt)
                    start_ms = (now - t0) * 1000
            if port and healthz_ms is None and healthz(port):
                healthz_ms = (time.monotonic() - t0) * 1000
            if send_ms is None:
                with open(record, "rb") as f:
                    if key in f.read():
                        send_ms = (time.monotonic() - t0) * 1000
            time.sleep(0.001)
        if healthz_ms is None or send_ms is None:
            raise SystemExit("scale: n=%d: no healthz/send within 20 s" % n)
        # Memory once it has settled: 2 s after exec.
        time.sleep(max(0.0, t0 + 2.0 - time.monotonic()))
        rss, hwm = status_kib(p.pid, "VmRSS"), status_kib(p.pid, "VmHWM")
    finally:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(15)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        logf.close()
    size = os.path.getsize(db_path) + (os.path.getsize(db_path + "-wal")
                                       if os.path.exists(db_path + "-wal") else 0)
    res = dict(n=n, start_ms="%.1f" % start_ms, healthz_ms="%.1f" % healthz_ms,
               first_send_ms="%.1f" % send_ms, rss_kib=rss, hwm_kib=hwm,
               db_mib="%.1f" % (size / 1048576))
    print("RESULT scale " + " ".join("%s=%s" % kv for kv in res.items()), flush=True)
    err("scale: n=%d serving (ready file) after %s ms, /healthz 200 after %s ms, first due "
        "send recorded after %s ms; VmRSS %d KiB, VmHWM %d KiB at 2 s; store %s MiB"
        % (n, res["start_ms"], res["healthz_ms"], res["first_send_ms"], rss, hwm, res["db_mib"]))
    return res

have = 0
results = []
for n in sorted(sizes):
    fill(have, n)
    have = n
    # A different message each time (the previous one was sent).
    results.append(measure(n, n // 2 + 1))
pending = db.execute("SELECT COUNT(*) FROM messages WHERE state = 'pending'").fetchone()[0]
err("scale: %d messages still pending at the end" % pending)
if len(results) >= 2:
    lo, hi = results[0], results[-1]
    g = hi["rss_kib"] - lo["rss_kib"]
    gh = hi["hwm_kib"] - lo["hwm_kib"]
    serve = float(hi["healthz_ms"])
    print("RESULT scale_growth from_n=%d to_n=%d rss_growth_kib=%d hwm_growth_kib=%d "
          "serve_max_ms=%.1f first_send_max_ms=%s rss_ok=%s serve_ok=%s"
          % (lo["n"], hi["n"], g, gh, serve, hi["first_send_ms"],
             "yes" if g < 10240 else "no", "yes" if serve < 2000 else "no"), flush=True)
    err("scale: RSS grows by %d KiB (HWM by %d KiB) from %d to %d messages (target < 10240 KiB);"
        " serving within %.0f ms at %d (target < 2000 ms)" % (g, gh, lo["n"], hi["n"], serve, hi["n"]))
PY
PY_PID=$!
PIDS+=($PY_PID)
wait "$PY_PID"
if grep -q ' ERROR' "$DIR/d.log"; then
  echo "scale.sh: huifangd logged errors:" >&2
  grep ' ERROR' "$DIR/d.log" | head -5 >&2
fi
