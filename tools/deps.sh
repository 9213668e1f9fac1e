#!/usr/bin/env bash
# Install the Debian 12 packages huifang needs to build, run and test, when
# any is missing. As root it runs apt-get itself; otherwise it prints the one
# command to run and fails.
set -euo pipefail

PKGS=(
  gcc make pkg-config
  libev-dev libcurl4-openssl-dev libssl-dev libcjson-dev libsqlite3-dev libmicrohttpd-dev
  libcmocka-dev libexpat1-dev
  tzdata ca-certificates curl python3
)

missing=()
for p in "${PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "huifang needs these Debian packages: ${missing[*]}" >&2
  echo "run as root:  apt-get update && apt-get install -y ${missing[*]}" >&2
  exit 1
fi

echo "installing: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
