/**
 * WebGPU vs wasm-simd timings for tools/gpu_check.sh (not a test: no assertions on time). Prints
 * one JSON object per line: bench, impl, runtime, threads, shape, ms, gflops, plus the adapter.
 *
 *   ./node_modules/.bin/deno run -A tests/backend_gpu_timing.ts          # full sizes (GPU machine)
 *   ./node_modules/.bin/deno run -A tests/backend_gpu_timing.ts --small  # tiny sizes (llvmpipe)
 */
import { createRng, type Matrix } from "@likeness/core";
import { type Backend, createWasmBackend, createWebGpuBackend, type Metric } from "@likeness/backend";

const small = Deno.args.includes("--small");

function rand(rows: number, cols: number, seed: number): Matrix {
  const rng = createRng(seed);
  const data = new Float32Array(rows * cols);
  for (let i = 0; i < data.length; i++) data[i] = rng.next() * 2 - 1;
  return { data, rows, cols };
}

async function time(f: () => Promise<unknown>, reps: number): Promise<number> {
  await f(); // warm-up: pipeline compilation, module instantiation, first-call tiers
  const t0 = performance.now();
  for (let i = 0; i < reps; i++) await f();
  return (performance.now() - t0) / reps;
}

const gpu = await createWebGpuBackend({ delegate: createWasmBackend(), allowFallbackAdapter: true });
const cpu = createWasmBackend();
const impls: [string, Backend][] = [["webgpu", gpu], ["wasm-simd", cpu]];
const runtime = `deno ${Deno.version.deno}`;
const emit = (o: Record<string, unknown>) => console.log(JSON.stringify({ ...o, runtime, adapter: gpu.info.adapter }));

const pairShapes = small ? [[64, 64, 32]] : [[256, 256, 128], [1024, 1024, 512]];
for (const [b, , d] of pairShapes) {
  const x = rand(b, d, 1);
  for (const metric of ["cosine", "l2"] as Metric[]) {
    for (const [impl, be] of impls) {
      const ms = await time(() => be.pairwise(x, x, metric), small ? 2 : 10);
      emit({
        bench: `pairwise_${metric}`,
        impl,
        threads: 1,
        shape: `B=${b} D=${d}`,
        ms,
        gflops: (2 * b * b * d) / ms / 1e6,
      });
    }
  }
}

const [R, D, Q, K] = small ? [2000, 64, 20, 10] : [100_000, 384, 1000, 10];
const refs = rand(R, D, 2);
const queries = rand(Q, D, 3);
for (const [impl, be] of impls) {
  const ms = await time(() => be.topk(queries, refs, { k: K, metric: "cosine" }), small ? 1 : 3);
  emit({
    bench: "knn_cosine",
    impl,
    threads: 1,
    shape: `R=${R} D=${D} Q=${Q} k=${K}`,
    ms,
    gflops: (2 * R * D * Q) / ms / 1e6,
  });
}

const B = small ? 128 : 1024;
const dist = await cpu.pairwise(rand(B, 64, 4), rand(B, 64, 4), "l2");
const rng = createRng(5);
const labels = Array.from({ length: B }, () => rng.int(32));
const same = new Uint8Array(B * B);
for (let i = 0; i < B; i++) for (let j = 0; j < B; j++) same[i * B + j] = labels[i] === labels[j] ? 1 : 0;
for (const [impl, be] of impls) {
  const ms = await time(() => be.batchHard(dist, same), small ? 2 : 20);
  emit({ bench: "batch_hard", impl, threads: 1, shape: `B=${B}`, ms, gflops: null });
}
gpu.dispose();
cpu.dispose();
