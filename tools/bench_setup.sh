#!/usr/bin/env bash
# Bench-only set-up (never run by CI): builds faiss-node 0.5.1's N-API source against Debian's
# libfaiss-dev 1.7.3 and libopenblas-dev, because its install script downloads a prebuilt binary
# (no network here). usearch needs nothing: it is a devDependency with a linux-x64 prebuild.
#
#   bash tools/bench_setup.sh        # as root (apt-get), from the repository root
#   deno task bench:index            # then picks faiss-node up
#
# faiss-node lands in node_modules/faiss-node (not in package.json or package-lock.json).
#
#   bash tools/bench_setup.sh torch  # only Debian's python3-torch 1.13 (CPU), the baseline of bench:train
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
export DEBIAN_FRONTEND=noninteractive
if [ "${1:-}" = torch ]; then
  if ! /usr/bin/python3 -c "import torch" 2>/dev/null; then
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends python3-torch >/dev/null
  fi
  /usr/bin/python3 -c "import torch; print('bench_setup: torch', torch.__version__)"
  exit 0
fi
if ! dpkg -s libfaiss-dev libopenblas-dev g++ >/dev/null 2>&1; then
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends libfaiss-dev libopenblas-dev g++ >/dev/null
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"
# The packages, unpacked without running their install scripts.
for spec in faiss-node@0.5.1 bindings@1.5.0 file-uri-to-path@1.0.0 node-addon-api@6.1.0 node-api-headers@1.5.0; do
  npm pack --silent "$spec" >/dev/null
done
mod="$root/node_modules"
unpack() { rm -rf "$mod/$2"; mkdir -p "$mod/$2"; tar -xzf "$1" -C "$mod/$2" --strip-components=1; }
unpack faiss-node-0.5.1.tgz faiss-node
[ -d "$mod/bindings" ] || unpack bindings-1.5.0.tgz bindings
[ -d "$mod/file-uri-to-path" ] || unpack file-uri-to-path-1.0.0.tgz file-uri-to-path
mkdir -p "$work/inc"
tar -xzf node-addon-api-6.1.0.tgz -C "$work/inc"
mv "$work/inc/package" "$work/inc/addon"
tar -xzf node-api-headers-1.5.0.tgz -C "$work/inc"
mv "$work/inc/package" "$work/inc/napi"
# Two one-line patches for the 1.7.3 headers: idx_t lives in faiss::Index, IDSelectorArray takes (n, ids).
src="$mod/faiss-node/src/faiss.cc"
sed -i 's/faiss::idx_t/faiss::Index::idx_t/g' "$src"
sed -i -E 's/IDSelectorArray\{([^,}]+), *([^}]+)\}/IDSelectorArray(\2, \1)/; s/IDSelectorArray\(([a-zA-Z_.]+(\.data\(\))?), *([a-zA-Z_.]+(\.size\(\))?)\)/IDSelectorArray(\3, \1)/' "$src"
mkdir -p "$mod/faiss-node/build/Release"
g++ -O3 -std=c++17 -shared -fPIC -fopenmp -DNAPI_VERSION=8 -DNAPI_DISABLE_CPP_EXCEPTIONS -DNODE_ADDON_API_DISABLE_DEPRECATED \
  -I"$work/inc/addon" -I"$work/inc/napi/include" "$src" -o "$mod/faiss-node/build/Release/faiss-node.node" \
  -lfaiss -lopenblas -fvisibility=hidden
echo "faiss-node built: $mod/faiss-node/build/Release/faiss-node.node"
echo "(run its bench with OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset)"
