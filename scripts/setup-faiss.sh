#!/usr/bin/env bash
# Optional: faiss-node, the faiss backend of `mine --index hnsw|ivf --ann-backend faiss`.
#
# faiss-node 0.5.1's own install script downloads prebuilt binaries or clones faiss from GitHub,
# which fails offline. Instead this script (idempotent; run it from anywhere, after `npm ci`):
#   1. installs Debian's faiss and OpenBLAS (libfaiss-dev, libopenblas-dev: OpenBLAS so that
#      apt does not pick the slow reference BLAS);
#   2. puts faiss-node 0.5.1 (and its small JS dependencies) into its own folder,
#      .cache/faiss-node/node_modules (git-ignored), with `npm install --no-save --ignore-scripts`:
#      its install script never runs, package.json and package-lock.json are not touched (so
#      `npm ci` keeps working offline without it), and an `npm ci`/`npm install` of the project
#      does not prune it (as it would in the project's own node_modules). src/ann.ts loads
#      `faiss-node` from the project's dependencies if present, else from this folder;
#   3. compiles faiss-node's src/faiss.cc with one g++ call against the system faiss (patched:
#      `using idx_t = int64_t;`, since Debian's faiss 1.7.3 has no `faiss::idx_t`) into
#      faiss-node/build/Release/faiss-node.node, where its own loader (`bindings`) looks;
#   4. checks that it loads and searches.
# Without faiss-node everything else works; asking for the faiss backend then says to run this.
set -euo pipefail
cd "$(dirname "$0")/.."
VERSION=0.5.1
PREFIX=.cache/faiss-node
MOD=$PREFIX/node_modules/faiss-node
OUT=$MOD/build/Release/faiss-node.node

# 1. System libraries.
need=()
for p in libfaiss-dev libopenblas-dev g++; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || need+=("$p")
done
if [ "${#need[@]}" -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup-faiss: missing system packages: ${need[*]} (install them with apt-get as root)" >&2
    exit 1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}"
fi

# 2. The npm package, in its own prefix, without its install script.
have=$(node -p "try { require('./$MOD/package.json').version } catch { '' }")
if [ "$have" != "$VERSION" ] || [ ! -d "$PREFIX/node_modules/node-addon-api" ] || [ ! -d "$PREFIX/node_modules/bindings" ]; then
  mkdir -p "$PREFIX"
  npm install --prefix "$PREFIX" --no-save --no-package-lock --ignore-scripts --no-audit --no-fund --loglevel=error "faiss-node@$VERSION"
  rm -f "$OUT"
fi

# 3. Compile (skipped when the addon is already there and newer than the source).
if [ ! -f "$OUT" ] || [ "$MOD/src/faiss.cc" -nt "$OUT" ]; then
  mkdir -p "$(dirname "$OUT")"
  src=$MOD/build/faiss.patched.cc
  sed 's/^using idx_t = faiss::idx_t;$/using idx_t = int64_t;/' "$MOD/src/faiss.cc" >"$src"
  grep -q '^using idx_t = int64_t;$' "$src" || { echo "setup-faiss: the idx_t patch did not apply to $MOD/src/faiss.cc" >&2; exit 1; }
  # include_dir is relative to the working directory of the require: make it absolute.
  napi_inc=$(cd "$PREFIX" && node -p "require('path').resolve(require('node-addon-api').include_dir)")
  node_inc="$(dirname "$(command -v node)")/../include/node"
  [ -f "$node_inc/node_api.h" ] || { echo "setup-faiss: node's headers are not in $node_inc" >&2; exit 1; }
  echo "setup-faiss: compiling $OUT (about 20 s)"
  g++ -O2 -fPIC -shared -std=c++17 -DNAPI_VERSION=8 -DNODE_GYP_MODULE_NAME=faiss_node \
    -I"$napi_inc" -I"$node_inc" "$src" -o "$OUT.tmp" \
    -lfaiss -fopenmp -lblas -llapack
  mv "$OUT.tmp" "$OUT"
fi

# 4. Smoke test.
node -e "
const f = require('./$MOD');
const ix = f.Index.fromFactory(4, 'HNSW8,Flat', f.MetricType.METRIC_INNER_PRODUCT);
ix.add([1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0]);
const r = ix.search([0, 1, 0, 0], 1);
if (r.labels[0] !== 1) throw new Error('faiss-node search returned ' + JSON.stringify(r));
"
echo "faiss-node $VERSION ready ($OUT)"
