#!/usr/bin/env bash
# Create benchmarks/.venv with the peers the benchmark compares against: faiss-cpu, numpy,
# scipy from PyPI. Idempotent: does nothing when the venv already imports all three.
# Tests never need this; only `npm run bench` does.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="$here/.venv"
py="${PYTHON:-python3}"
if ! { [ -x "$venv/bin/python" ] && "$venv/bin/python" -c 'import faiss, numpy, scipy' 2>/dev/null; }; then
  echo "setting up benchmark peers in $venv (faiss-cpu, numpy, scipy)" >&2
  "$py" -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --upgrade pip
  # The versions RESULTS.md was measured with; override with PEERS="faiss-cpu numpy scipy".
  # shellcheck disable=SC2086
  "$venv/bin/python" -m pip install --quiet ${PEERS:-faiss-cpu==1.15.1 numpy==2.4.6 scipy==1.17.1}
  "$venv/bin/python" -c 'import faiss, numpy, scipy; print("faiss", faiss.__version__, "numpy", numpy.__version__, "scipy", scipy.__version__)' >&2
fi
