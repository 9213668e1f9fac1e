#!/usr/bin/env bash
# Run each named libFuzzer harness (build/fuzz/fuzz_<name>, from `make fuzz`)
# for FUZZ_SECONDS on its seed corpus tests/fuzz/corpus/<name>/, FUZZ_JOBS
# harnesses at a time (default: one per core; each is single-threaded), from
# the repository root (the harnesses read config/ and templates/). New inputs
# go to a temporary corpus, never into the tree.
# A crash, leak, timeout or UB report fails the run; the input that caused
# it is kept as $FUZZ_BUILD/artifacts/<name>-crash-<sha1> (reproduce with
# `build/fuzz/fuzz_<name> <file>`). Prints runs and exec/s per harness.
set -uo pipefail
cd "$(dirname "$0")/../.."
build=${FUZZ_BUILD:-build/fuzz}
secs=${FUZZ_SECONDS:-30}
mkdir -p "$build/artifacts"
work=$(mktemp -d "${TMPDIR:-/tmp}/hf-fuzz-run.XXXXXX")
trap 'rm -rf "$work"' EXIT
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
jobs=${FUZZ_JOBS:-$(nproc)}
[ "$jobs" -ge 1 ] 2>/dev/null || jobs=1

# fuzz_one NAME: run one harness; its report goes to $work/NAME.out, its
# exit status to $work/NAME.rc.
fuzz_one() {
  local name=$1 bin="$build/fuzz_$1" log="$work/$1.log" rc runs speed
  mkdir -p "$work/$name"
  "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$build/artifacts/$name-" "$work/$name" "tests/fuzz/corpus/$name" \
    >"$log" 2>&1
  rc=$?
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
  speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
  {
    if [ $rc -eq 0 ]; then
      printf 'fuzz %-13s ok   %10s runs  %7s exec/s  %ss\n' "$name" "${runs:-?}" "${speed:-?}" "$secs"
    else
      printf 'fuzz %-13s FAIL (exit %d)\n' "$name" "$rc"
      grep -E '^(==[0-9]+==|SUMMARY|.*runtime error|    #[0-9]+ )' "$log" | head -40
      grep -E 'Test unit written to' "$log"
    fi
  } >"$work/$name.out"
  echo $rc >"$work/$name.rc"
}

running=()
for name in "$@"; do
  if [ ${#running[@]} -ge "$jobs" ]; then
    wait "${running[0]}"
    running=("${running[@]:1}")
  fi
  fuzz_one "$name" &
  running+=($!)
done
[ ${#running[@]} -gt 0 ] && wait "${running[@]}"

failed=()
for name in "$@"; do
  cat "$work/$name.out"
  [ "$(cat "$work/$name.rc")" = 0 ] || failed+=("$name")
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: failed: ${failed[*]}" >&2
  exit 1
fi
