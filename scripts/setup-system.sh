#!/usr/bin/env bash
# System packages the tests and CI need, from Debian's repositories (idempotent).
# Nothing here is needed at run time by the package itself.
set -u
need=()
command -v bc >/dev/null || need+=(bc)
if [ "${#need[@]}" -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}"
  else
    echo "missing system packages: ${need[*]} (install them with apt-get)" >&2
  fi
fi
echo "system packages ready"
