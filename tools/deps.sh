#!/usr/bin/env bash
# Install the Debian 12 packages huifang needs to build, run and test, when
# any is missing. As root it runs apt-get itself; otherwise it prints the one
# command to run and fails.
#
# The browser test (tests/e2e/test_09_browser.py) also needs Debian's
# Chromium, Node.js with npm, and a CJK font so the survey page's Chinese
# renders. A non-root developer machine without them only gets a note (the
# test skips itself); under CI=true they are required like the rest.
#
# The always-on checks (`make lint`, `make fuzz-run`, `make valgrind`, run by
# .ci/run) need clang (libFuzzer and its sanitizer runtimes come with
# Debian's clang), cppcheck and valgrind: optional in the same way.
set -euo pipefail

PKGS=(
  gcc make pkg-config
  libev-dev libcurl4-openssl-dev libssl-dev libcjson-dev libsqlite3-dev libpq-dev libmicrohttpd-dev
  libcmocka-dev libexpat1-dev postgresql
  tzdata ca-certificates curl python3
)
BROWSER_PKGS=(chromium fonts-wqy-microhei)
CHECK_PKGS=(clang cppcheck valgrind)

installed() {
  dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}

missing=()
for p in "${PKGS[@]}"; do
  installed "$p" || missing+=("$p")
done
browser_missing=()
for p in "${BROWSER_PKGS[@]}" "${CHECK_PKGS[@]}"; do
  installed "$p" || browser_missing+=("$p")
done
# node and npm are wanted as commands: a Node.js that brings its own npm
# (NodeSource's nodejs package, which conflicts with Debian's npm) will do.
if ! command -v node >/dev/null 2>&1; then
  browser_missing+=(nodejs npm)
elif ! command -v npm >/dev/null 2>&1; then
  browser_missing+=(npm)
fi

[ ${#missing[@]} -eq 0 ] && [ ${#browser_missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  all=("${missing[@]}" "${browser_missing[@]}")
  case "${CI:-}" in 1 | true | TRUE | True | yes) ci=1 ;; *) ci=0 ;; esac
  if [ ${#missing[@]} -eq 0 ] && [ $ci -eq 0 ]; then
    echo "note: the browser test and the checks of .ci/run need: ${browser_missing[*]}" >&2
    echo "      run as root:  apt-get update && apt-get install -y ${browser_missing[*]}" >&2
    exit 0
  fi
  echo "huifang needs these Debian packages: ${all[*]}" >&2
  echo "run as root:  apt-get update && apt-get install -y ${all[*]}" >&2
  exit 1
fi

all=("${missing[@]}" "${browser_missing[@]}")
echo "installing: ${all[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${all[@]}" >/dev/null
