/**
 * WebGPU benchmark (issue 15): WGSL pairwise at B = 1,024 / 4,096 / 8,192 and D = 512 / 1,024
 * (with a sweep of the tilings that fit the adapter at the largest shape), top-k over 1,000,000 ×
 * 384 references (k = 10 and k = 256), batch-hard at B = 8,192, and tfjs training steps (the
 * quickstart MLP 784-256-64 and the MNIST convnet) on tfjs-webgpu and tfjs-wasm; baselines are
 * `wasm-simd` in the same run (on smaller query counts, reported as throughput). Kernel-only times
 * come from timestamp queries when the adapter has `timestamp-query` (`source` says which).
 *
 * Ceilings: with `--torch FILE` (JSON rows written by tools/gpu_check.sh's PyTorch step) the
 * summary gives WGSL pairwise as a fraction of torch fp32 (TF32 off) at B = 8,192, D = 1,024; else
 * with `GPU_PEAK_FP32_GFLOPS` set, as a fraction of the card's theoretical fp32 peak.
 *
 *   ./node_modules/.bin/deno task bench:webgpu                    # full sizes (a real GPU)
 *   ./node_modules/.bin/deno task bench:webgpu --small            # tiny sizes (llvmpipe, proves the path)
 *   ./node_modules/.bin/deno task bench:webgpu --out DIR --torch DIR/torch.json --no-tf
 *
 * Writes `DIR/webgpu_bench.json` (default DIR `runs/bench/webgpu`): adapter record, rows, summary.
 *
 * @module
 */
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { type Matrix } from "@likeness/core";
import {
  type Backend,
  createWasmBackend,
  createWebGpuBackend,
  PAIRWISE_TILINGS,
  type PairwiseTiling,
  probeWebGpu,
  type WebGpuBackend,
} from "@likeness/backend";

const args = Deno.args;
const small = args.includes("--small") || Deno.env.get("GPU_CHECK_SMALL") === "1";
const flag = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const outDir = flag("--out") ?? "runs/bench/webgpu";
const torchFile = flag("--torch");
const withTf = !args.includes("--no-tf");

interface Row {
  bench: string;
  impl: string;
  shape: string;
  wallMs: number;
  kernelMs?: number | null;
  source?: string;
  gflops?: number | null;
  note?: string;
}
const rows: Row[] = [];
function record(row: Row): void {
  const r = { ...row, wallMs: round(row.wallMs), kernelMs: row.kernelMs == null ? row.kernelMs : round(row.kernelMs) };
  if (r.gflops != null) r.gflops = round(r.gflops);
  rows.push(r);
  console.log(JSON.stringify(r));
}
const round = (v: number) => Math.round(v * 1000) / 1000;

/** Fast deterministic fill in [-1, 1) (xorshift32; the values only need to be finite and varied). */
function rand(rows: number, cols: number, seed: number): Matrix {
  const data = new Float32Array(rows * cols);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < data.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    data[i] = (x >>> 0) / 2147483648 - 1;
  }
  return { data, rows, cols };
}

/** Median of `reps` timed runs after one warm-up; also the GPU's kernel time of the median run. */
async function time(
  f: () => Promise<unknown>,
  reps: number,
  gpu?: WebGpuBackend,
): Promise<{ wallMs: number; kernelMs?: number | null; source?: string }> {
  await f();
  const runs: { wallMs: number; kernelMs?: number | null; source?: string }[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    await f();
    const wallMs = performance.now() - t0;
    runs.push(
      gpu?.lastTiming ? { wallMs, kernelMs: gpu.lastTiming.kernelMs, source: gpu.lastTiming.source } : { wallMs },
    );
  }
  runs.sort((a, b) => a.wallMs - b.wallMs);
  return runs[runs.length >> 1];
}

const probe = await probeWebGpu();
if (!probe.adapter) {
  console.error(`no WebGPU adapter: ${probe.reason}`);
  Deno.exit(2);
}
const gpu = await createWebGpuBackend({
  delegate: createWasmBackend(),
  allowFallbackAdapter: true,
  probe,
  kernelTiming: true,
});
const cpu: Backend = createWasmBackend();
console.error(`adapter: ${gpu.info.adapter}; tiling ${JSON.stringify(gpu.info.gpu.tiling)}`);
const reps = small ? 2 : 5;

// --- pairwise ----------------------------------------------------------------------------------
const Bs = small ? [64, 128] : [1024, 4096, 8192];
const Ds = small ? [32, 64] : [512, 1024];
for (const B of Bs) {
  for (const D of Ds) {
    const x = rand(B, D, B + D);
    const flops = 2 * B * B * D;
    const t = await time(() => gpu.pairwise(x, x, "dot"), reps, gpu);
    record({
      bench: "pairwise_dot",
      impl: "webgpu",
      shape: `B=${B} D=${D}`,
      ...t,
      gflops: flops / ((t.kernelMs ?? t.wallMs) * 1e6),
    });
    if (B === Bs[0]) {
      const c = await time(() => cpu.pairwise(x, x, "dot"), reps);
      record({
        bench: "pairwise_dot",
        impl: "wasm-simd",
        shape: `B=${B} D=${D}`,
        ...c,
        gflops: flops / (c.wallMs * 1e6),
      });
    }
  }
}
// l2 at the largest shape, and the tiling sweep there.
{
  const B = Bs[Bs.length - 1];
  const D = Ds[Ds.length - 1];
  const x = rand(B, D, 7);
  const flops = 2 * B * B * D;
  const t = await time(() => gpu.pairwise(x, x, "l2"), reps, gpu);
  record({
    bench: "pairwise_l2",
    impl: "webgpu",
    shape: `B=${B} D=${D}`,
    ...t,
    gflops: flops / ((t.kernelMs ?? t.wallMs) * 1e6),
  });
  const chosen = JSON.stringify(gpu.info.gpu.tiling);
  // On a software adapter (--small) one other tiling proves the sweep; each one costs a shader compile there.
  for (const tiling of small ? [PAIRWISE_TILINGS[3]] : PAIRWISE_TILINGS) {
    if (JSON.stringify(tiling) === chosen) continue;
    let b: WebGpuBackend | undefined;
    try {
      b = await createWebGpuBackend({
        delegate: createWasmBackend(),
        allowFallbackAdapter: true,
        probe,
        tiling,
        kernelTiming: true,
      });
      const s = await time(() => b!.pairwise(x, x, "dot"), reps, b);
      record({
        bench: "pairwise_dot_tiling",
        impl: `webgpu ${tilingName(tiling)}`,
        shape: `B=${B} D=${D}`,
        ...s,
        gflops: flops / ((s.kernelMs ?? s.wallMs) * 1e6),
      });
    } catch (e) {
      record({
        bench: "pairwise_dot_tiling",
        impl: `webgpu ${tilingName(tiling)}`,
        shape: `B=${B} D=${D}`,
        wallMs: NaN,
        note: String(e),
      });
    } finally {
      b?.dispose();
    }
  }
}

function tilingName(t: PairwiseTiling): string {
  return `${t.wgY * t.rowsPerThread}x${t.wgX * t.colsPerThread}/${t.rowsPerThread}x${t.colsPerThread}/k${t.tileK}`;
}

// --- top-k -------------------------------------------------------------------------------------
{
  const [R, D, Q, Qcpu] = small ? [5000, 32, 16, 4] : [1_000_000, 384, 1024, 16];
  const refs = rand(R, D, 11);
  const queries = rand(Q, D, 12);
  const qCpu = { data: queries.data.subarray(0, Qcpu * D), rows: Qcpu, cols: D };
  for (const k of [10, 256]) {
    const flops = 2 * R * D * Q;
    const t = await time(() => gpu.topk(queries, refs, { k, metric: "cosine" }), small ? 2 : 3, gpu);
    record({
      bench: "topk_cosine",
      impl: "webgpu",
      shape: `R=${R} D=${D} Q=${Q} k=${k}`,
      ...t,
      gflops: flops / ((t.kernelMs ?? t.wallMs) * 1e6),
      note: "wall includes uploading the references each call (the resident index avoids that)",
    });
    const c = await time(() => cpu.topk(qCpu, refs, { k, metric: "cosine" }), 1);
    record({
      bench: "topk_cosine",
      impl: "wasm-simd",
      shape: `R=${R} D=${D} Q=${Qcpu} k=${k}`,
      ...c,
      gflops: (2 * R * D * Qcpu) / (c.wallMs * 1e6),
    });
  }
}

// --- batch-hard --------------------------------------------------------------------------------
{
  const B = small ? 128 : 8192;
  const dist = rand(B, B, 21);
  for (let i = 0; i < dist.data.length; i++) dist.data[i] = Math.abs(dist.data[i]);
  const same = new Uint8Array(B * B);
  for (let i = 0; i < B; i++) for (let j = 0; j < B; j++) same[i * B + j] = i % 64 === j % 64 ? 1 : 0;
  for (const [impl, be] of [["webgpu", gpu], ["wasm-simd", cpu]] as const) {
    const t = await time(() => be.batchHard(dist, same), reps, impl === "webgpu" ? gpu : undefined);
    record({ bench: "batch_hard", impl, shape: `B=${B}`, ...t, gflops: null });
  }
}
const record0 = gpu.info;
gpu.dispose();
cpu.dispose();

// --- tfjs training steps -----------------------------------------------------------------------
if (withTf) {
  try {
    const { tf, useTfBackend } = await import("@likeness/tf");
    const batches = small ? [16] : [128, 512, 1024];
    for (const backendName of ["webgpu", "wasm"] as const) {
      await useTfBackend(backendName);
      // tfjs-wasm lacks Conv2DBackpropFilter; likeness registers its own (as in the training code).
      if (backendName === "wasm") await (await import("@likeness/tfwasm")).registerLikenessWasmKernels();
      for (const model of ["mlp", "convnet"] as const) {
        for (const batch of batches) {
          const step = trainStep(tf, model, batch);
          const t = await time(step.run, small ? 2 : 5);
          step.dispose();
          record({
            bench: `tf_train_${model}`,
            impl: `tfjs-${backendName}`,
            shape: `batch=${batch}`,
            ...t,
            gflops: null,
          });
        }
      }
    }
  } catch (e) {
    record({ bench: "tf_train", impl: "tfjs", shape: "-", wallMs: NaN, note: `skipped: ${(e as Error).message}` });
  }
}

/** tfjs's namespace, loosely typed (the bench builds raw ops). */
// deno-lint-ignore no-explicit-any
type AnyTf = any;

/** One Adam step (forward, backward, update) of the quickstart MLP or the MNIST convnet on random data. */
function trainStep(
  tf: AnyTf,
  model: "mlp" | "convnet",
  batch: number,
): { run: () => Promise<void>; dispose: () => void } {
  const vars: unknown[] = [];
  const v = (shape: number[]) => {
    const x = tf.variable(tf.randomNormal(shape, 0, Math.sqrt(2 / shape.slice(0, -1).reduce((a, b) => a * b, 1))));
    vars.push(x);
    return x;
  };
  const opt = tf.train.adam(1e-3);
  let x: unknown;
  // deno-lint-ignore no-explicit-any
  let forward: (x: any) => any;
  if (model === "mlp") {
    const w1 = v([784, 256]), b1 = v([256]), w2 = v([256, 64]);
    x = tf.randomNormal([batch, 784]);
    // deno-lint-ignore no-explicit-any
    forward = (x: any) => tf.matMul(tf.relu(tf.add(tf.matMul(x, w1), b1)), w2);
  } else {
    const c1 = v([3, 3, 1, 32]), c2 = v([3, 3, 32, 64]), d1 = v([7 * 7 * 64, 128]), d2 = v([128, 64]);
    x = tf.randomNormal([batch, 28, 28, 1]);
    // deno-lint-ignore no-explicit-any
    forward = (x: any) => {
      let h = tf.maxPool(tf.relu(tf.conv2d(x, c1, 1, "same")), 2, 2, "valid");
      h = tf.maxPool(tf.relu(tf.conv2d(h, c2, 1, "same")), 2, 2, "valid");
      return tf.matMul(tf.relu(tf.matMul(tf.reshape(h, [batch, 7 * 7 * 64]), d1)), d2);
    };
  }
  const target = tf.randomNormal([batch, 64]);
  return {
    run: async () => {
      const loss = opt.minimize(() => tf.losses.meanSquaredError(target, forward(x)), true);
      await loss.data(); // tfjs-webgpu rejects dataSync; this also waits for the GPU
      loss.dispose();
    },
    dispose: () => {
      tf.dispose([x, target, ...vars]);
      opt.dispose();
    },
  };
}

// --- summary -----------------------------------------------------------------------------------
const summary: Record<string, unknown> = { date: new Date().toISOString(), small, adapter: record0.adapter };
const big = rows.find((r) =>
  r.bench === "pairwise_dot" && r.impl === "webgpu" && r.shape === `B=${Bs.at(-1)} D=${Ds.at(-1)}`
);
const best = Math.max(
  ...rows.filter((r) => r.bench.startsWith("pairwise_dot") && r.shape === big?.shape).map((r) => r.gflops ?? 0),
);
summary.wgslPairwiseGflops = big?.gflops ?? null;
summary.wgslPairwiseBestTilingGflops = best;
if (torchFile) {
  try {
    const torch = JSON.parse(await readFile(torchFile, "utf8")) as { rows: Row[] };
    const fp32 = torch.rows.find((r) =>
      r.bench === "pairwise_dot" && r.impl === "torch fp32 (tf32 off)" && r.shape === big?.shape
    );
    if (fp32?.gflops) {
      summary.ceiling = { what: "torch fp32 (tf32 off), same shape", gflops: fp32.gflops };
      summary.fractionOfCeiling = round(best / fp32.gflops);
    }
  } catch (e) {
    summary.torchError = String(e);
  }
}
const peak = Number(Deno.env.get("GPU_PEAK_FP32_GFLOPS"));
if (!summary.ceiling && peak > 0) {
  summary.ceiling = { what: "theoretical fp32 peak of the card (GPU_PEAK_FP32_GFLOPS)", gflops: peak };
  summary.fractionOfCeiling = round(best / peak);
}
await mkdir(outDir, { recursive: true });
await writeFile(
  `${outDir}/webgpu_bench.json`,
  JSON.stringify({ runtime: `deno ${Deno.version.deno}`, info: record0, summary, rows }, null, 1),
);
console.error(JSON.stringify(summary));
console.error(`wrote ${outDir}/webgpu_bench.json`);
