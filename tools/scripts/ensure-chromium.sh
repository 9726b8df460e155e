#!/usr/bin/env bash
# Makes sure a headless Chromium from the system's packages is available for the status page's browser test
# (METERKIT_CHROMIUM, default /usr/bin/chromium). Run as root on Debian/Ubuntu, installs Debian's chromium.
set -euo pipefail

browser="${METERKIT_CHROMIUM:-/usr/bin/chromium}"
if [ -x "$browser" ]; then
  echo "Chromium at $browser"
  exit 0
fi
if [ "$(id -u)" != "0" ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "No Chromium at $browser. Install your system's chromium package or set METERKIT_CHROMIUM." >&2
  exit 1
fi
echo "Installing Chromium from Debian's packages…"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq chromium >/dev/null
[ -x "$browser" ] && echo "Chromium at $browser"
