#!/usr/bin/env bash
# System packages the tests and CI need, from Debian's repositories (idempotent).
# Nothing here is needed at run time by the package itself.
set -u
need=()
command -v bc >/dev/null || need+=(bc)
# A font for the text of report PNGs (resvg draws text with system fonts only).
[ -e /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || need+=(fonts-dejavu-core)
# A real browser for the human-oracle test (driven by playwright-core; never a test tool's own download).
[ -x /usr/bin/chromium ] || need+=(chromium)
if [ "${#need[@]}" -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}"
  else
    echo "missing system packages: ${need[*]} (install them with apt-get)" >&2
  fi
fi
echo "system packages ready"
