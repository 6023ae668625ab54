#!/usr/bin/env bash
# deps.sh - installs the Debian 12 packages the build and the tests need, only when one is
# missing (so a second run is instant and works offline). Usage: scripts/deps.sh [build|test]
set -euo pipefail

build_pkgs=(build-essential cmake pkg-config clang libjansson-dev libsodium-dev
  libsecp256k1-dev libssl-dev libmicrohttpd-dev libpq-dev libcurl4-openssl-dev
  libunistring-dev postgresql acl) # acl: run.sh as root lets the postgres user reach ./data
# what the tests add: SMTP and DNS servers they run on loopback, clang-format for the style
# check, clang's sanitizer and libFuzzer runtimes (clang's headers only recommend them, so
# --no-install-recommends leaves them out), for the deployment tests curl (the image's
# HEALTHCHECK), python3-yaml (compose.yaml), systemd (systemd-analyze on the unit) and
# openssl (test certificates), haproxy (the several-processes test), python3 for the
# dependency check, and Chromium (with a font, for readable screenshots) for the web pages
test_pkgs=(npm python3-aiosmtpd dnsmasq-base clang-format libclang-rt-dev curl python3-yaml
  systemd openssl python3 chromium fonts-dejavu-core haproxy)

want=("${build_pkgs[@]}")
if [ "${1:-build}" = test ]; then
  want+=("${test_pkgs[@]}")
fi

missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# npm may come with the machine's own Node instead of Debian's package
if [ "${#missing[@]}" -gt 0 ] && command -v npm >/dev/null; then
  missing=("${missing[@]/npm/}")
fi
missing=($(printf '%s\n' "${missing[@]}" | grep -v '^$' || true))
[ "${#missing[@]}" -eq 0 ] && exit 0

echo "deps: installing ${missing[*]}" >&2
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
