#!/usr/bin/env bash
# One-shot WebGPU check on a machine with a real GPU (issue 15). From the repository root:
#
#   bash tools/gpu_check.sh [--small] [OUT_DIR]     # OUT_DIR default: $OUT, else runs/gpu_check
#   bash tools/gpu_check.sh prepare                 # optional, on a machine with network: stage .gpu/
#
# Steps, each under its own timeout so the whole run stays under 8 minutes:
#   1. install: the Vulkan loader (from .gpu/gl/*.deb when staged, else apt-get), the NVIDIA Vulkan
#      ICD (found on disk, or written for libGLX_nvidia.so.0), Deno (node_modules, else .gpu/deno.xz,
#      else `npm ci`);
#   2. record: nvidia-smi, the WebGPU adapter's info, limits and features (adapter.json);
#   3. conformance: tests/backend_conformance_test.ts and packages/backend/webgpu_backend_test.ts
#      (and tests/index_conformance_test.ts when present) with LIKENESS_BACKEND=webgpu
#      LIKENESS_TEST_WEBGPU=1 (and LIKENESS_TEST_WEBGPU_REAL=1 unless --small: a software adapter fails);
#   4. the quickstart for a few steps with LIKENESS_BACKEND=webgpu;
#   5. PyTorch on the same GPU when importable (pairwise fp32 with TF32 off, TF32, bf16; top-k;
#      batch-hard), else the card's theoretical fp32 peak from its name as the ceiling;
#   6. bench/webgpu_main.ts (WGSL pairwise, top-k 1M × 384, batch-hard 8192, tfjs-webgpu vs wasm steps).
# Everything lands in OUT_DIR as JSON and logs; gpu_check.json lists each step's exit status.
# --small (or GPU_CHECK_SMALL=1) uses tiny shapes: that is how it is tried on llvmpipe.
set -uo pipefail
cd "$(dirname "$0")/.."

if [ "${1:-}" = "prepare" ]; then
  set -e
  mkdir -p .gpu/gl /tmp/likeness-apt/partial
  grep -qx '/.gpu/' .git/info/exclude 2>/dev/null || echo '/.gpu/' >>.git/info/exclude
  xz -T0 -6 -c "$(readlink -f node_modules/.bin/deno)" >.gpu/deno.xz
  o='-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/likeness-apt'
  # shellcheck disable=SC2086
  apt-get $o update >/dev/null
  # shellcheck disable=SC2086
  (cd .gpu/gl && apt-get $o download libvulkan1)
  du -sh .gpu
  exit 0
fi

small=0
if [ "${1:-}" = "--small" ]; then
  small=1
  shift
fi
[ "${GPU_CHECK_SMALL:-}" = "1" ] && small=1
out="${1:-${OUT:-runs/gpu_check}}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
t_start=$(date +%s)
declare -A status
log() { echo "[gpu_check +$(($(date +%s) - t_start))s] $*" | tee -a "$out/gpu_check.log" >&2; }

# --- 1. install ----------------------------------------------------------------------------------
if ! ldconfig -p 2>/dev/null | grep -q 'libvulkan\.so\.1'; then
  if ls .gpu/gl/*.deb >/dev/null 2>&1; then
    for f in .gpu/gl/*.deb; do dpkg -x "$f" /; done
    ldconfig
  elif command -v apt-get >/dev/null; then
    log "installing libvulkan1"
    (timeout 120 apt-get update -qq && DEBIAN_FRONTEND=noninteractive timeout 120 apt-get install -y -qq \
      --no-install-recommends libvulkan1) >>"$out/install.log" 2>&1 || log "apt-get failed (no network?)"
  fi
fi
ldconfig -p 2>/dev/null | grep -q 'libvulkan\.so\.1' || log "warning: no libvulkan.so.1: WebGPU will find no GPU"
icd=""
for f in /usr/share/vulkan/icd.d/nvidia_icd*.json /etc/vulkan/icd.d/nvidia_icd*.json \
  /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd*.json; do
  [ -f "$f" ] && icd="$f" && break
done
if [ -z "$icd" ]; then
  glx="$(ldconfig -p 2>/dev/null | awk '/libGLX_nvidia\.so\.0/ {print $NF; exit}')"
  if [ -n "$glx" ]; then
    icd=/tmp/likeness_nvidia_icd.json
    printf '{"file_format_version":"1.0.0","ICD":{"library_path":"%s","api_version":"1.3.0"}}\n' "$glx" >"$icd"
    log "wrote $icd for $glx"
  fi
fi
if [ -n "$icd" ]; then
  export VK_DRIVER_FILES="$icd" VK_ICD_FILENAMES="$icd"
  log "Vulkan ICD: $icd"
fi
deno=./node_modules/.bin/deno
if [ ! -x "$deno" ] && [ -f .gpu/deno.xz ]; then
  xz -dc .gpu/deno.xz >/tmp/likeness_deno && chmod +x /tmp/likeness_deno && deno=/tmp/likeness_deno
fi
if [ ! -x "$deno" ] && command -v npm >/dev/null; then
  log "npm ci"
  timeout 240 npm ci --no-audit --no-fund >>"$out/install.log" 2>&1 || log "npm ci failed"
fi
if ! "$deno" --version >/dev/null 2>&1; then
  log "no Deno: stop"
  echo '{"error":"no deno"}' >"$out/gpu_check.json"
  exit 2
fi

# Run a step under a timeout, logging to $out/NAME.log and recording its exit status.
step() {
  local name="$1" limit="$2"
  shift 2
  log "$name (limit ${limit}s)"
  timeout "$limit" "$@" >"$out/$name.log" 2>&1
  status[$name]=$?
  log "$name: exit ${status[$name]}"
}

# --- 2. record -----------------------------------------------------------------------------------
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv >"$out/nvidia_smi.csv" 2>&1 || true
gpu_name="$(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -1)"
step adapter 60 "$deno" eval --no-check '
  import { adapterRecord, probeWebGpu } from "@likeness/backend";
  const p = await probeWebGpu();
  const rec = p.adapter ? { fallback: p.fallback, description: p.description, ...adapterRecord(p.adapter) } : { reason: p.reason };
  await Deno.writeTextFile(Deno.args[0] ?? "'"$out"'/adapter.json", JSON.stringify(rec, null, 1));
  console.log(JSON.stringify(rec));
'

# --- 3. conformance ------------------------------------------------------------------------------
suites=(tests/backend_conformance_test.ts packages/backend/webgpu_backend_test.ts)
[ -f tests/index_conformance_test.ts ] && suites+=(tests/index_conformance_test.ts)
real=1
[ "$small" = 1 ] && real=0
conf_env=(env LIKENESS_BACKEND=webgpu LIKENESS_TEST_WEBGPU=1)
[ "$real" = 1 ] && conf_env+=(LIKENESS_TEST_WEBGPU_REAL=1)
step conformance 240 "${conf_env[@]}" "$deno" test -A --no-check "${suites[@]}"

# --- 4. quickstart, a few steps ------------------------------------------------------------------
step quickstart 150 env LIKENESS_BACKEND=webgpu "$deno" run -A --no-check examples/quickstart.ts --quick \
  --train "$([ "$small" = 1 ] && echo 480 || echo 2000)" --test 200 --epochs 1 --out "$out/quickstart"

# --- 5. PyTorch, else the fp32 peak --------------------------------------------------------------
torch_args=()
if command -v python3 >/dev/null && python3 -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null; then
  step torch 150 python3 - "$out/torch.json" "$small" <<'PY'
import json, sys, time, torch
out, small = sys.argv[1], sys.argv[2] == "1"
dev = torch.device("cuda")
rows = []
def timed(f, reps=5):
    f(); torch.cuda.synchronize()
    ts = []
    for _ in range(reps):
        s, e = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        s.record(); f(); e.record(); torch.cuda.synchronize(); ts.append(s.elapsed_time(e))
    return sorted(ts)[len(ts) // 2]
Bs, Ds = ([64, 128], [32, 64]) if small else ([1024, 4096, 8192], [512, 1024])
for B in Bs:
    for D in Ds:
        x = torch.rand(B, D, device=dev) * 2 - 1
        for impl, dtype, tf32 in [("torch fp32 (tf32 off)", torch.float32, False), ("torch tf32", torch.float32, True), ("torch bf16", torch.bfloat16, False)]:
            torch.backends.cuda.matmul.allow_tf32 = tf32
            xx = x.to(dtype)
            ms = timed(lambda: xx @ xx.T)
            rows.append({"bench": "pairwise_dot", "impl": impl, "shape": f"B={B} D={D}", "kernelMs": ms, "gflops": 2 * B * B * D / (ms * 1e6)})
torch.backends.cuda.matmul.allow_tf32 = False
R, D, Q = (5000, 32, 16) if small else (1_000_000, 384, 1024)
ref = torch.nn.functional.normalize(torch.rand(R, D, device=dev) * 2 - 1, dim=1)
q = torch.nn.functional.normalize(torch.rand(Q, D, device=dev) * 2 - 1, dim=1)
for k in (10, 256):
    def topk():
        vals, idx = [], []
        for r0 in range(0, R, 131072):
            s = q @ ref[r0:r0 + 131072].T
            v, i = s.topk(min(k, s.shape[1]), dim=1); vals.append(v); idx.append(i + r0)
        return torch.cat(vals, 1).topk(k, dim=1)
    ms = timed(topk, 3)
    rows.append({"bench": "topk_cosine", "impl": "torch fp32 (tf32 off)", "shape": f"R={R} D={D} Q={Q} k={k}", "kernelMs": ms, "gflops": 2 * R * D * Q / (ms * 1e6)})
B = 128 if small else 8192
d = torch.rand(B, B, device=dev)
lab = torch.arange(B, device=dev) % 64
same = lab[:, None] == lab[None, :]
eye = torch.eye(B, dtype=torch.bool, device=dev)
def bh():
    pos = torch.where(same & ~eye, d, torch.tensor(-float("inf"), device=dev)).max(1)
    neg = torch.where(~same, d, torch.tensor(float("inf"), device=dev)).min(1)
    return pos, neg
rows.append({"bench": "batch_hard", "impl": "torch fp32", "shape": f"B={B}", "kernelMs": timed(bh), "gflops": None})
json.dump({"torch": torch.__version__, "device": torch.cuda.get_device_name(0), "rows": rows}, open(out, "w"), indent=1)
print(json.dumps(rows))
PY
  [ -f "$out/torch.json" ] && torch_args=(--torch "$out/torch.json")
else
  log "no PyTorch with CUDA here: the ceiling is the card's theoretical fp32 peak"
  case "$gpu_name" in
  *H200* | *"H100 80GB HBM3"* | *"H100 SXM"*) peak=66900 ;;
  *"H100 NVL"*) peak=60000 ;;
  *H100*) peak=51200 ;;
  *A100*) peak=19500 ;;
  *L40S*) peak=91600 ;;
  *L4*) peak=30300 ;;
  *A10*) peak=31200 ;;
  *V100*) peak=15700 ;;
  *T4*) peak=8100 ;;
  *) peak="" ;;
  esac
  [ -n "$peak" ] && export GPU_PEAK_FP32_GFLOPS="$peak" && log "fp32 peak of $gpu_name: $peak GFLOPS"
fi

# --- 6. benchmark --------------------------------------------------------------------------------
left=$((470 - ($(date +%s) - t_start)))
[ "$left" -lt 60 ] && left=60
bench_args=(--out "$out")
[ "$small" = 1 ] && bench_args+=(--small)
step bench "$left" "$deno" run -A --no-check bench/webgpu_main.ts "${bench_args[@]}" "${torch_args[@]}"

# --- summary -------------------------------------------------------------------------------------
{
  printf '{"date":"%s","small":%s,"gpu":"%s","seconds":%s,"steps":{' "$(date -u +%FT%TZ)" \
    "$([ "$small" = 1 ] && echo true || echo false)" "$gpu_name" "$(($(date +%s) - t_start))"
  sep=""
  for k in "${!status[@]}"; do
    printf '%s"%s":%s' "$sep" "$k" "${status[$k]}"
    sep=","
  done
  printf '}}\n'
} >"$out/gpu_check.json"
cat "$out/gpu_check.json"
[ "${status[conformance]:-1}" = 0 ]
