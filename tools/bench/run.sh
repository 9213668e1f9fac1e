#!/usr/bin/env bash
# The benchmark suite of issue 8. `make bench` builds huifangd,
# mock_provider and wxgen, sets BUILD and runs this. Every part runs on
# 127.0.0.1 with its own timeout, all of them within the suite's budget
# (BENCH_BUDGET, 570 s), and the suite ends with ONE table: metric, value,
# baseline, ratio, target, met? The table also goes to
# $BUILD/bench/results.md; each part's full output to $BUILD/bench/<part>.log.
#
#   make bench                         # or: BUILD=build tools/bench/run.sh
#   MESSAGES=20000 make bench          # fewer messages in the send part (100,000)
#   PARTS="intake sends" make bench    # some parts only
#   PROFILE=1 make bench               # also `perf record -g` huifangd in the intake
#                                      # and send parts ($BUILD/bench/perf/)
#   REPORT_ONLY=1 tools/bench/run.sh   # print the last run's table again
#
# The parts print `RESULT <name> key=value ...` lines, which are read here:
#   intake     tools/bench/intake.sh     durable intake vs nginx (issue item 1)
#   sends      tools/bench/sends.sh      sends vs curl --parallel, per message cost (2, 5)
#   scale      tools/bench/scale.sh      start-up and RSS with 1k..1M scheduled (3)
#   callbacks  tools/bench/callbacks.sh  WeChat AES callbacks, SMS receipts (4)
# A part whose script is missing, fails or times out shows as "not measured".
#
# Besides what tools/deps.sh installs for test and run, the bench needs wrk
# and nginx (Debian's wrk and nginx-light; linux-perf for PROFILE=1). As
# root this script installs them, without letting the package start nginx
# as a service; as another user it prints the apt-get line to run.
set -uo pipefail
TOP=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-build}
case "$BUILD" in /*) ;; *) BUILD=$TOP/$BUILD ;; esac
export BUILD
OUT=$BUILD/bench
PARTS=${PARTS:-intake sends scale callbacks}
BUDGET=${BENCH_BUDGET:-570}
PATH=$PATH:/usr/sbin:/sbin

# Installs the Debian packages the bench needs when some are missing.
install_needs() {
    local need=() policy='' rc
    command -v wrk >/dev/null || need+=(wrk)
    command -v nginx >/dev/null || need+=(nginx-light)
    command -v curl >/dev/null || need+=(curl)
    command -v python3 >/dev/null || need+=(python3)
    command -v setsid >/dev/null || need+=(util-linux)
    if [ "${PROFILE:-0}" = 1 ] && ! command -v perf >/dev/null; then need+=(linux-perf); fi
    [ ${#need[@]} -eq 0 ] && return 0
    if [ "$(id -u)" -ne 0 ]; then
        echo "the benchmark needs: ${need[*]}" >&2
        echo "run as root:  apt-get update && apt-get install -y ${need[*]}" >&2
        exit 1
    fi
    echo "installing: ${need[*]}" >&2
    # Debian starts a freshly installed nginx as a service on port 80; a
    # policy-rc.d answering 101 ("not allowed") during the install keeps it
    # stopped. The bench runs its own nginx from a temp config.
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
        chmod +x /usr/sbin/policy-rc.d
        policy=/usr/sbin/policy-rc.d
    fi
    DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
            "${need[@]}" >/dev/null
    rc=$?
    [ -n "$policy" ] && rm -f "$policy"
    [ $rc -eq 0 ] || { echo "bench: apt-get install ${need[*]} failed" >&2; exit 1; }
}

# Each part runs in its own session (setsid): on a timeout or ^C the whole
# process group it started (huifangd, nginx, wrk, curl, perf) is ended by
# its id, including anything the part's own trap did not reach.
CURRENT=
TAIL=
cleanup() {
    if [ -n "$CURRENT" ]; then
        kill -TERM -- "-$CURRENT" 2>/dev/null
        sleep 1
        kill -KILL -- "-$CURRENT" 2>/dev/null
    fi
    [ -n "$TAIL" ] && kill "$TAIL" 2>/dev/null
}

# run_part NAME SCRIPT MAX_SECONDS: runs tools/bench/SCRIPT, streams its
# output, keeps its RESULT lines and appends "part=NAME|status|seconds" to
# run.txt.
run_part() {
    local name=$1 script=$TOP/tools/bench/$2 max=$3
    local left=$((BUDGET - ($(date +%s) - START)))
    local limit=$((max < left ? max : left)) t0 rc status
    if [ ! -f "$script" ]; then
        echo "== $name: not measured (tools/bench/$2 does not exist)"
        echo "part=$name|not measured: no tools/bench/$2|0" >>"$OUT/run.txt"
        return
    fi
    if [ "$limit" -lt 10 ]; then
        echo "== $name: not measured (the suite's $BUDGET s are spent)"
        echo "part=$name|not measured: budget spent|0" >>"$OUT/run.txt"
        return
    fi
    echo "== $name: tools/bench/$2 (timeout $limit s)"
    t0=$(date +%s)
    : >"$OUT/$name.log"
    setsid timeout -k 5 "$limit" bash "$script" >"$OUT/$name.log" 2>&1 &
    CURRENT=$!
    tail -n +1 -f --pid="$CURRENT" "$OUT/$name.log" &
    TAIL=$!
    wait "$CURRENT"
    rc=$?
    wait "$TAIL" 2>/dev/null
    TAIL=
    kill -KILL -- "-$CURRENT" 2>/dev/null # whatever the part left behind
    CURRENT=
    case $rc in
    0) status=ok ;;
    124 | 137) status="timed out after $limit s" ;;
    *) status="failed (exit $rc)" ;;
    esac
    echo "== $name: $status, $(($(date +%s) - t0)) s"
    echo "part=$name|$status|$(($(date +%s) - t0))" >>"$OUT/run.txt"
    grep '^RESULT ' "$OUT/$name.log" >>"$OUT/results.txt"
}

# Flat perf reports beside each recording (PROFILE=1).
perf_reports() {
    local f
    for f in "$PROFILE_DIR"/*.perf; do
        [ -e "$f" ] || continue
        perf report -i "$f" --stdio --no-children -g none --percent-limit 0.7 2>/dev/null |
            grep -v '^#' | grep -v '^$' >"${f%.perf}.txt"
        perf report -i "$f" --stdio --children -g none --percent-limit 3 2>/dev/null |
            grep -v '^#' | grep -v '^$' >"${f%.perf}.children.txt"
    done
}

if [ "${REPORT_ONLY:-0}" != 1 ]; then
    install_needs
    for b in huifangd mock_provider; do
        [ -x "$BUILD/$b" ] || { echo "bench: $BUILD/$b is missing: run make all" >&2; exit 1; }
    done
    mkdir -p "$OUT"
    rm -f "$OUT"/*.log "$OUT/results.txt" "$OUT/results.md" "$OUT/run.txt"
    PROFILE_DIR=
    if [ "${PROFILE:-0}" = 1 ]; then
        PROFILE_DIR=$OUT/perf
        rm -rf "$PROFILE_DIR"
        mkdir -p "$PROFILE_DIR"
    fi
    export PROFILE_DIR
    trap cleanup EXIT
    trap 'echo "bench: interrupted" >&2; exit 130' INT TERM

    cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
    mem=$(awk '/^MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)
    {
        echo "machine=$(nproc) CPUs, ${cpu:-unknown CPU}, $mem RAM, Linux $(uname -r)," \
            "$(date -u '+%Y-%m-%d %H:%M UTC')"
        echo "tools=$(nginx -v 2>&1 | sed 's/.*version: //'), wrk" \
            "$(dpkg-query -W -f='${Version}' wrk 2>/dev/null), $(curl --version | head -1 |
            cut -d' ' -f1-2), SQLite $(python3 -c 'import sqlite3; print(sqlite3.sqlite_version)')"
    } >"$OUT/run.txt"
    sed 's/^/# /' "$OUT/run.txt"
    : >"$OUT/results.txt"
    START=$(date +%s)
    for p in $PARTS; do
        case $p in
        intake) run_part intake intake.sh 100 ;;
        sends) run_part sends sends.sh 300 ;;
        scale) run_part scale scale.sh 200 ;;
        callbacks) run_part callbacks callbacks.sh 120 ;;
        *) echo "bench: unknown part '$p' (intake, sends, scale, callbacks)" >&2 ;;
        esac
    done
    echo "total=$(($(date +%s) - START))" >>"$OUT/run.txt"
    [ -n "$PROFILE_DIR" ] && perf_reports
elif [ ! -s "$OUT/run.txt" ]; then
    echo "bench: no earlier run in $OUT" >&2
    exit 1
fi

python3 - "$OUT" <<'PY'
import sys

out = sys.argv[1]
results_file, md_file = out + "/results.txt", out + "/results.md"
info, status = {}, {}
for line in open(out + "/run.txt", encoding="utf-8"):
    k, _, v = line.rstrip("\n").partition("=")
    if k == "part":
        name, st, secs = v.split("|")
        status[name] = f"{st} ({secs} s)"
    else:
        info[k] = v
machine, tools, total = info.get("machine", "?"), info.get("tools", "?"), info.get("total", "?")

# "RESULT name k=v ..." -> R["name.k"], with a qualifier from n= or adapter=
# ("scale:1000.start_ms", "sends:webhook.rate").
R = {}
for line in open(results_file, encoding="utf-8", errors="replace"):
    parts = line.split()
    if len(parts) < 2 or parts[0] != "RESULT":
        continue
    kv = dict(p.split("=", 1) for p in parts[2:] if "=" in p)
    name = parts[1]
    for q in ("n", "adapter"):
        if q in kv:
            name += ":" + kv[q]
            break
    for k, v in kv.items():
        R[name + "." + k] = v

def num(key):
    try:
        return float(R[key])
    except (KeyError, ValueError):
        return None

def fmt(x, unit="", digits=None):
    if x is None:
        return None
    if digits is None:
        digits = 0 if abs(x) >= 100 else 1 if abs(x) >= 10 else 2
    s = f"{x:,.{digits}f}"
    return s + (" " + unit if unit else "")

rows = []   # metric, value, baseline, ratio, target, met
notes = []  # footnotes under the table

def row(metric, value, baseline="—", ratio=None, target="—", met="—"):
    rows.append([metric, value if value is not None else "not measured",
                 baseline if baseline is not None else "not measured",
                 ratio if ratio is not None else "—", target,
                 met if value is not None else "not measured"])

def ratio(a, b):
    return f"{a / b * 100:.0f}%" if a is not None and b else None

def yes(ok):
    return "yes" if ok else "**NO**"

def joined(values, unit, digits=None):
    if any(v is None for v in values):
        return None
    return " / ".join(fmt(v, digits=digits) for v in values) + " " + unit

# 1. Durable intake
i_rps, n_rps = num("intake.rps"), num("intake_nginx.rps")
sync = R.get("intake.sync", "full")
row(f"intake: triggers/s (sync={sync}) ¹", fmt(i_rps, "/s"), fmt(n_rps, "/s"), ratio(i_rps, n_rps),
    "≥ 50% of nginx", yes(i_rps is not None and n_rps and i_rps >= 0.5 * n_rps))
row("intake: p50 / p99, full load", joined([num("intake.p50_ms"), num("intake.p99_ms")], "ms", 2),
    joined([num("intake_nginx.p50_ms"), num("intake_nginx.p99_ms")], "ms", 2))
low_rate, low_p99, tgt_rate = num("intake_low.rate"), num("intake_low.p99_ms"), num("intake_low.target_rate")
basis = R.get("intake_low.basis")
if basis == "target":
    row(f"intake: p99 paced at {fmt(low_rate)}/s ²", fmt(low_p99, "ms", 2),
        target=f"< 10 ms at {fmt(tgt_rate)}/s", met=yes(low_p99 is not None and low_p99 < 10))
elif low_p99 is not None:
    row(f"intake: p99 paced at {fmt(low_rate)}/s ²", fmt(low_p99, "ms", 2),
        target=f"< 10 ms at {fmt(tgt_rate)}/s", met="**NO** (load)")
else:
    row("intake: p99 at half the target load", None)
i_cpu, n_cpu = num("intake.cpu_us_per_trigger"), num("intake_nginx.cpu_us_per_req")
row("intake: CPU per trigger", fmt(i_cpu, "µs"), fmt(n_cpu, "µs"), ratio(i_cpu, n_cpu))
notes.append(f"¹ wrk -t{R.get('intake.threads', 2)} -c{R.get('intake.connections', 64)}, "
             f"{R.get('intake.duration_s', 10)} s, keep-alive, a unique idempotency key per "
             "request, each 202 after its group commit; baseline: nginx, 1 worker, `return 200` "
             "of a static JSON, same wrk script. CPU: utime+stime of huifangd (nginx: master + "
             "worker) per request.")
if basis == "target":
    notes.append("² Half the target load (a quarter of nginx's rate), paced by tools/bench/intake.lua "
                 "(Debian has no wrk2).")
elif low_p99 is not None:
    notes.append(f"² huifangd's maximum is below the target load ({fmt(tgt_rate)}/s, half of 50% of "
                 f"nginx), so it was paced at half its own maximum instead, by "
                 "tools/bench/intake.lua (Debian has no wrk2): the p99 target is not reachable.")

# 2. Sends, 5. per message cost
counts = set()
for ad, label in (("webhook", "webhook"), ("aliyun", "Aliyun SMS")):
    k, c = f"sends:{ad}.", f"sends_curl:{ad}."
    n = num(k + "messages")
    if n is not None:
        counts.add(int(n))
    rate, crate = num(k + "rate"), num(c + "rate")
    row(f"sends: {label}, messages/s ³", fmt(rate, "/s"), fmt(crate, "/s"), ratio(rate, crate),
        "≥ 90% of curl", yes(rate is not None and crate and rate >= 0.9 * crate))
    rss, crss = num(k + "rss_kib"), num(c + "rss_kib")
    row(f"sends: {label}, peak RSS", fmt(rss / 1024 if rss else None, "MiB", 1),
        fmt(crss / 1024 if crss else None, "MiB", 1), ratio(rss, crss), "< 40 MiB",
        yes(rss is not None and rss < 40 * 1024))
    failed = num(k + "failed")
    if failed:
        row(f"sends: {label}, messages failed", fmt(failed), target="0", met="**NO**")
for ad, label in (("webhook", "webhook"), ("aliyun", "Aliyun SMS")):
    k, c = f"sends:{ad}.", f"sends_curl:{ad}."
    cpu, ccpu = num(k + "cpu_us_per_msg"), num(c + "cpu_us_per_req")
    row(f"per message: CPU, {label} ⁴", fmt(cpu, "µs"), fmt(ccpu, "µs"), ratio(cpu, ccpu))
for ad, label in (("webhook", "webhook"), ("aliyun", "Aliyun SMS")):
    row(f"per message: store bytes, {label} ⁴", fmt(num(f"sends:{ad}.store_bytes_per_msg"), "B"))
notes.append(f"³ {' and '.join(f'{n:,}' for n in sorted(counts)) or 'N'} due messages per adapter "
             "(one notice per trigger, a customer per trigger, loaded through the API while not "
             "due), from the start of huifangd until none is pending or sending; per-number limits "
             "off, dispatch.max_in_flight 64, 64 connections; Aliyun with signature V3. Receiver: "
             "nginx answering the provider's success JSON. Baseline: the request huifangd sent, "
             "captured, replayed as often by `curl --parallel --parallel-max 64 -K` to the same "
             "nginx. RSS: huifangd's VmHWM; curl's max RSS (which holds its whole URL list).")
notes.append("⁴ huifangd's utime+stime over its whole send run / messages sent (baseline: curl's "
             "CPU per request); store bytes: (database + WAL) / messages once all are sent "
             "(trigger, customer, project, message and attempt rows with their indexes).")

# 3. Scheduled scale (tools/bench/scale.sh)
sizes = sorted({int(k.split(":")[1].split(".")[0]) for k in R if k.startswith("scale:")})
label = " / ".join(f"{n // 1000000}M" if n >= 1000000 else f"{n // 1000}k" for n in sizes)
if sizes:
    big = num(f"scale:{sizes[-1]}.healthz_ms")
    row(f"scale: exec → serving, {label} scheduled ⁵",
        joined([num(f"scale:{n}.healthz_ms") for n in sizes], "ms", 0),
        target=f"< 2,000 ms at {label.split(' / ')[-1]}", met=yes(big is not None and big < 2000))
    row(f"scale: exec → first due send, {label}",
        joined([num(f"scale:{n}.first_send_ms") for n in sizes], "ms", 0))
    row(f"scale: RSS, {label}", joined([(num(f"scale:{n}.rss_kib") or 0) / 1024 for n in sizes], "MiB", 1))
    g = num("scale_growth.rss_growth_kib")
    row(f"scale: RSS growth {label.split(' / ')[0]} → {label.split(' / ')[-1]}",
        fmt(g / 1024 if g is not None else None, "MiB", 1), target="< 10 MiB",
        met=yes(g is not None and g < 10240))
    notes.append("⁵ tools/bench/scale.sh: future messages filled into the store; exec to the first "
                 "/healthz answer, and to the first send of a message due at start.")
else:
    row("scale: start-up and RSS with 1k / 100k / 1M scheduled", None)

# 4. Callbacks (tools/bench/callbacks.sh)
aes = num("callbacks_aes.committed_per_s")
if aes is None:
    aes = num("callbacks_aes.rps")
row(f"callbacks: WeChat AES, committed/s (sync={R.get('callbacks_aes.sync', 'full')}) ⁶",
    fmt(aes, "/s"), target="≥ 10,000/s", met=yes(aes is not None and aes >= 10000))
if num("callbacks_aes_normal.rps") is not None:
    v = num("callbacks_aes_normal.committed_per_s") or num("callbacks_aes_normal.rps")
    row("callbacks: WeChat AES, committed/s (sync=normal)", fmt(v, "/s"))
bps = num("receipts.batches_per_s")
row(f"callbacks: SMS receipt batches/s", fmt(bps, "/s") +
    (f" ({fmt(num('receipts.receipts_per_s'))} receipts/s)" if num("receipts.receipts_per_s") else "")
    if bps is not None else None)
notes.append("⁶ tools/bench/callbacks.sh: secure-mode callbacks verified, decrypted, parsed and "
             "committed; Aliyun SmsReport batches, each committed before its answer.")

head = ["metric", "value", "baseline", "ratio", "target", "met?"]
md = ["# huifang benchmark", "",
      f"Machine: {machine}. Tools: {tools}.", "",
      f"Command: `make bench` (tools/bench/run.sh); suite time {total} s.", "",
      "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
md += ["| " + " | ".join(r) + " |" for r in rows]
md += [""] + [n + "  " for n in notes]
md += ["", "Parts: " + "; ".join(f"{k}: {v}" for k, v in status.items()) + ".", ""]
open(md_file, "w", encoding="utf-8").write("\n".join(md))

# The terminal table: plain columns.
w = [max(len(str(r[i])) for r in rows + [head]) for i in range(len(head))]
print()
print(f"machine: {machine}")
print(f"tools:   {tools}")
print("  ".join(h.ljust(w[i]) for i, h in enumerate(head)))
print("  ".join("-" * w[i] for i in range(len(head))))
for r in rows:
    print("  ".join(str(c).replace("**", "").ljust(w[i]) for i, c in enumerate(r)))
print()
for n in notes:
    print(n)
print()
print("parts: " + "; ".join(f"{k}: {v}" for k, v in status.items()) + f"; suite {total} s")
PY
echo "written: $OUT/results.md (each part's output: $OUT/<part>.log)"
