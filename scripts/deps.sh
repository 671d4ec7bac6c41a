#!/bin/sh
# Installs the Debian packages the project needs that are missing.
# Usage: scripts/deps.sh [build|test|bench]   (default: build)
set -eu

want="gcc pkg-config meson ninja-build python3 libicu-dev libsqlite3-dev \
libjansson-dev libxml2-dev libmicrohttpd-dev nettle-dev curl"
case "${1:-build}" in
  test)
    # chromium and a Hangul font: the booth page's browser tests
    want="$want clang libclang-rt-14-dev chromium fonts-noto-cjk"
    # Node.js: Debian's, unless one is already there (e.g. NodeSource's)
    command -v node >/dev/null 2>&1 || want="$want nodejs"
    command -v npm >/dev/null 2>&1 || want="$want npm" ;;
  bench) want="$want wrk valgrind" ;;
esac

missing=""
for p in $want; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing="$missing $p"
  fi
done
[ -z "$missing" ] && exit 0

echo "Installing Debian packages:$missing"
if [ "$(id -u)" -eq 0 ]; then
  sudo=""
elif command -v sudo >/dev/null 2>&1; then
  sudo="sudo"
else
  echo "These packages are missing and neither root nor sudo is available:$missing" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
# shellcheck disable=SC2086
$sudo apt-get install -y -qq --no-install-recommends $missing
