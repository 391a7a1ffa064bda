#!/usr/bin/env bash
# Run the WebGPU backend conformance suite on a machine with a real GPU.
#
# Two steps, both from the repository root:
#
#   bash tools/gpu_check.sh prepare   # here (the dev machine, has network): stage what the GPU machine lacks
#   bash tools/gpu_check.sh run       # there (the GPU machine, no network): run the suite on the GPU
#
# `prepare` writes .gpu/ (ignored through .git/info/exclude): the Deno binary compressed with xz (~30 MB
# of the 64 MiB a device call may carry; measured for Deno 2.9.6)
# (node_modules is ignored and too big to travel; the suite needs no npm package when run with
# --no-check) and the Vulkan/EGL loader packages that Deno's WebGPU (wgpu) needs to find an NVIDIA
# driver. With the session's device tool the run is then:
#
#   run(command: "bash tools/gpu_check.sh run", carry: [".gpu"], timeout_s: 420)
#
# `run` unpacks the loaders, points Vulkan at the NVIDIA ICD when one is mounted, prints the
# adapter, and runs tests/backend_conformance_test.ts with LIKENESS_TEST_WEBGPU=1 and
# LIKENESS_TEST_WEBGPU_REAL=1 (the suite then fails if the adapter is a software fallback). The
# log goes to $OUT/gpu_conformance.log when $OUT is set (the device tool brings it back); then
# tests/backend_gpu_timing.ts prints webgpu vs wasm-simd timings to $OUT/gpu_timing.jsonl.
#
# Not yet run on a real GPU: see packages/backend/README.md.
set -euo pipefail
cd "$(dirname "$0")/.."

step="${1:-}"
case "$step" in
prepare)
  mkdir -p .gpu/gl /tmp/likeness-apt/partial
  grep -qx '/.gpu/' .git/info/exclude 2>/dev/null || echo '/.gpu/' >>.git/info/exclude
  deno_bin="$(readlink -f node_modules/.bin/deno)"
  echo "compressing $deno_bin -> .gpu/deno.xz"
  xz -T0 -6 -c "$deno_bin" >.gpu/deno.xz
  o='-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/likeness-apt'
  # shellcheck disable=SC2086
  apt-get $o update >/dev/null
  # shellcheck disable=SC2086
  (cd .gpu/gl && apt-get $o download libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2)
  du -sh .gpu
  echo 'now: run(command: "bash tools/gpu_check.sh run", carry: [".gpu"], timeout_s: 420)'
  ;;
run)
  out="${OUT:-/tmp}"
  if ls .gpu/gl/*.deb >/dev/null 2>&1; then
    for f in .gpu/gl/*.deb; do dpkg -x "$f" /; done
    ldconfig
  fi
  ldconfig -p | grep -q libvulkan || echo "warning: no libvulkan.so.1 found; WebGPU will see no GPU" >&2
  if [ -f /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json ]; then
    export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
    export __EGL_VENDOR_LIBRARY_FILENAMES=/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json
  fi
  if [ -f .gpu/deno.xz ]; then
    xz -dc .gpu/deno.xz >/tmp/deno && chmod +x /tmp/deno
    deno=/tmp/deno
  else
    deno=./node_modules/.bin/deno
  fi
  nvidia-smi -L 2>/dev/null || true
  "$deno" eval --no-check '
    const a = await navigator.gpu?.requestAdapter({ powerPreference: "high-performance" });
    const i = a?.info;
    console.log(i ? `adapter: ${i.vendor} ${i.architecture} ${i.description} fallback=${i.isFallbackAdapter}` : "adapter: none");
    if (a) console.log(`maxStorageBufferBindingSize: ${a.limits.maxStorageBufferBindingSize}`);
  ' 2>&1 | tee "$out/gpu_adapter.log"
  set -o pipefail
  status=0
  LIKENESS_TEST_WEBGPU=1 LIKENESS_TEST_WEBGPU_REAL=1 \
    "$deno" test -A --no-check tests/backend_conformance_test.ts 2>&1 | tee "$out/gpu_conformance.log" || status=$?
  # Timings (webgpu vs wasm-simd, JSON lines): pairwise B=256/1024, kNN 100k x 384 (Q=1000, k=10), batch-hard B=1024.
  # GPU_CHECK_SMALL=1 uses tiny sizes (to try the script on a software adapter).
  timeout 240 "$deno" run -A --no-check tests/backend_gpu_timing.ts ${GPU_CHECK_SMALL:+--small} 2>&1 |
    tee "$out/gpu_timing.jsonl" || true
  exit "$status"
  ;;
*)
  echo "usage: bash tools/gpu_check.sh prepare|run" >&2
  exit 2
  ;;
esac
