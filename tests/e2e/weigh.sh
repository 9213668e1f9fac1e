#!/usr/bin/env bash
# Print tests/e2e/weights afresh: the seconds each e2e module takes alone,
# one after the other, as "module seconds" lines. tests/run_tests.sh deals
# the modules to its shards longest first by these numbers; rerun this when a
# module grows or shrinks a lot (BUILD=build, a plain build, as `make test`):
#   tests/e2e/weigh.sh > tests/e2e/weights
set -uo pipefail
cd "$(dirname "$0")/../.."
echo "# seconds per e2e module run alone (tests/e2e/weigh.sh), used by tests/run_tests.sh"
for f in tests/e2e/test_*.py; do
  m=${f##*/}
  m=${m%.py}
  t0=$(date +%s%N)
  PYTHONPATH="$PWD/tests/e2e" python3 -m unittest "$m" >/dev/null 2>&1 ||
    echo "weigh.sh: $m failed" >&2
  t1=$(date +%s%N)
  echo "$m $(( (t1 - t0 + 500000000) / 1000000000 ))"
done
