#!/usr/bin/env bash
# Regenerate README.md's milestone table (between <!-- catalogue:begin -->
# and <!-- catalogue:end -->) from config/milestones.json, with
# `huifangd --catalogue-markdown`. `make readme-catalogue` runs it;
# tests/e2e/test_13_catalogue.py fails while the README differs.
#   BUILD=build    where huifangd is
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
# Loading the config resolves its secrets; the table needs none of them.
table=$(HUIFANG_SURVEY_SECRET=${HUIFANG_SURVEY_SECRET:-readme-placeholder-secret} \
        HUIFANG_WEBHOOK_SECRET=${HUIFANG_WEBHOOK_SECRET:-readme-placeholder-secret} \
        "$BUILD/huifangd" -c config/huifang.json --catalogue-markdown)
grep -q '^<!-- catalogue:begin -->$' README.md && grep -q '^<!-- catalogue:end -->$' README.md || {
  echo "README.md: no <!-- catalogue:begin --> / <!-- catalogue:end --> lines" >&2
  exit 1
}
tmp=$(mktemp README.md.XXXXXX)
trap 'rm -f "$tmp"' EXIT
TABLE=$table awk '
  $0 == "<!-- catalogue:begin -->" { print; print ENVIRON["TABLE"]; skip = 1; next }
  $0 == "<!-- catalogue:end -->"   { skip = 0 }
  !skip { print }
' README.md >"$tmp"
if cmp -s "$tmp" README.md; then
  echo "README.md: catalogue table up to date"
else
  mv "$tmp" README.md
  echo "README.md: catalogue table regenerated"
fi
