/**
 * Convnet training-step benchmark: one Adam step (forward, backward, update) of a small MNIST
 * convnet — conv 32 3×3 same → relu → maxPool 2 → conv 64 3×3 same → relu → maxPool 2 →
 * dense 128 → relu → dense 64 — at batch 64 on 28×28×1 inputs, on tfjs-wasm with likeness's
 * Conv2DBackpropFilter (`@likeness/tfwasm`, SIMD build) versus tfjs-backend-cpu. Also times the
 * filter-gradient kernel alone at the second conv's shape (x 64×14×14×32, dy 64×14×14×64):
 * likeness SIMD, likeness scalar and tfjs-backend-cpu's kernel.
 *
 * Each wasm number is the median of 5 runs after one warm-up, first with only the missing kernels
 * registered, then with `replace: true` (likeness's Conv2DBackpropInput and MaxPoolGrad too);
 * tfjs-backend-cpu gets one cold run (its convolutions are plain JS loops, about a minute a step). Output: one JSON line per measurement
 * `{bench, impl, runtime, shape, ms}` on stdout and in `runs/bench/conv_backprop_<runtime>.jsonl`, then
 * ratios against tfjs-backend-cpu on stderr.
 *
 * Run: `./node_modules/.bin/deno run -A bench/conv_backprop.ts` (or `./node_modules/.bin/bun bench/conv_backprop.ts`);
 * `--no-cpu` skips the two tfjs-backend-cpu measurements (about 2.5 minutes together).
 *
 * @module
 */
import { mkdir, writeFile } from "node:fs/promises";
import process from "node:process";
import "@tensorflow/tfjs-backend-cpu";
import { createRng } from "@likeness/core";
import { createConvKernels } from "@likeness/kernels";
import { tf, type TfBackendName, useTfBackend } from "@likeness/tf";
import { registerLikenessWasmKernels } from "@likeness/tfwasm";

interface Row {
  bench: string;
  impl: string;
  runtime: string;
  shape: string;
  ms: number;
}

const RUNTIME = "Bun" in globalThis ? "bun" : "deno";
const WITH_CPU = !process.argv.includes("--no-cpu");
const rows: Row[] = [];
const rng = createRng(1);

function randn(n: number, scale = 1): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.normal() * scale;
  return a;
}

function median(fn: () => void, runs = 5, warmUp = true): number {
  if (warmUp) fn();
  const t: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    fn();
    t.push(performance.now() - t0);
  }
  t.sort((a, b) => a - b);
  return t[t.length >> 1];
}

function record(bench: string, impl: string, shape: string, ms: number): void {
  const row = { bench, impl, runtime: RUNTIME, shape, ms: Math.round(ms * 100) / 100 };
  rows.push(row);
  console.log(JSON.stringify(row));
}

const B = 64;
const xData = randn(B * 28 * 28);
const yData = randn(B * 64);
const init = {
  w1: randn(3 * 3 * 1 * 32, 0.3),
  w2: randn(3 * 3 * 32 * 64, 0.06),
  w3: randn(7 * 7 * 64 * 128, 0.018),
  w4: randn(128 * 64, 0.09),
};

async function trainStep(backend: TfBackendName, runs: number): Promise<number> {
  await useTfBackend(backend);
  const x = tf.tensor4d(xData, [B, 28, 28, 1]);
  const y = tf.tensor2d(yData, [B, 64]);
  const w1 = tf.variable(tf.tensor4d(init.w1, [3, 3, 1, 32]));
  const b1 = tf.variable(tf.zeros([32]));
  const w2 = tf.variable(tf.tensor4d(init.w2, [3, 3, 32, 64]));
  const b2 = tf.variable(tf.zeros([64]));
  const w3 = tf.variable(tf.tensor2d(init.w3, [7 * 7 * 64, 128]));
  const b3 = tf.variable(tf.zeros([128]));
  const w4 = tf.variable(tf.tensor2d(init.w4, [128, 64]));
  const vars = [w1, b1, w2, b2, w3, b3, w4];
  const loss = () => {
    let h = tf.relu(tf.add(tf.conv2d(x, w1 as tf.Tensor4D, 1, "same"), b1)) as tf.Tensor4D;
    h = tf.maxPool(h, 2, 2, "valid");
    h = tf.relu(tf.add(tf.conv2d(h, w2 as tf.Tensor4D, 1, "same"), b2)) as tf.Tensor4D;
    h = tf.maxPool(h, 2, 2, "valid");
    const d = tf.relu(tf.add(tf.matMul(tf.reshape(h, [B, 7 * 7 * 64]), w3 as tf.Tensor2D), b3));
    return tf.losses.meanSquaredError(y, tf.matMul(d, w4 as tf.Tensor2D)) as tf.Scalar;
  };
  const opt = tf.train.adam(1e-3);
  const ms = median(
    () => {
      const l = opt.minimize(loss, true, vars);
      l?.dataSync();
      l?.dispose();
    },
    runs,
    runs > 1,
  );
  opt.dispose();
  tf.dispose([x, y, ...vars]);
  return ms;
}

const stepShape = "B64 28x28x1 c32-pool-c64-pool-d128-d64";
const reg = await registerLikenessWasmKernels();
console.error(`registered on wasm: ${reg.registered.join(", ") || "(none)"}; present: ${reg.present.join(", ")}`);
const wasmStep = await trainStep("wasm", 5);
record("train_step", `tfjs-wasm + likeness ${reg.variant} (missing kernels only)`, stepShape, wasmStep);
const rep = await registerLikenessWasmKernels({ replace: true });
console.error(`replaced on wasm: ${rep.replaced.join(", ") || "(none)"}`);
const fastStep = await trainStep("wasm", 5);
record("train_step", `tfjs-wasm + likeness ${reg.variant} (replace: true)`, stepShape, fastStep);
// tfjs-backend-cpu's convolutions are plain JS loops: one cold step (about a minute here) is all it gets.
const cpuStep = WITH_CPU ? await trainStep("cpu", 1) : NaN;
if (WITH_CPU) record("train_step", "tfjs-backend-cpu (1 cold run)", stepShape, cpuStep);

// The filter-gradient kernel alone at the second conv's shape.
const g = {
  batch: B,
  inHeight: 14,
  inWidth: 14,
  inChannels: 32,
  outHeight: 14,
  outWidth: 14,
  outChannels: 64,
  filterHeight: 3,
  filterWidth: 3,
  strideHeight: 1,
  strideWidth: 1,
  padTop: 1,
  padLeft: 1,
};
const kx = randn(B * 14 * 14 * 32);
const kdy = randn(B * 14 * 14 * 64);
const kShape = "x 64x14x14x32 dy 64x14x14x64 3x3 same";
for (const variant of ["simd", "scalar"] as const) {
  const k = await createConvKernels({ variant });
  record("conv2d_backprop_filter", `likeness ${variant}`, kShape, median(() => k.conv2dBackpropFilter(kx, kdy, g)));
  k.dispose();
}
if (WITH_CPU) await cpuKernelTime();

async function cpuKernelTime(): Promise<void> {
  await useTfBackend("cpu");
  const tx = tf.tensor4d(kx, [B, 14, 14, 32]);
  const tdy = tf.tensor4d(kdy, [B, 14, 14, 64]);
  const cpuKernel = median(
    () => {
      const r = tf.engine().runKernel("Conv2DBackpropFilter", { x: tx, dy: tdy }, {
        strides: 1,
        pad: "same",
        dataFormat: "NHWC",
        filterShape: [3, 3, 32, 64],
      }) as tf.Tensor;
      r.dataSync();
      r.dispose();
    },
    1,
    false,
  );
  record("conv2d_backprop_filter", "tfjs-backend-cpu (1 cold run)", kShape, cpuKernel);
  tf.dispose([tx, tdy]);
}

await mkdir("runs/bench", { recursive: true });
await writeFile(`runs/bench/conv_backprop_${RUNTIME}.jsonl`, rows.map((r) => JSON.stringify(r)).join("\n") + "\n");
const vsCpu = WITH_CPU
  ? `, cpu ${cpuStep.toFixed(0)}; cpu/wasm ${(cpuStep / wasmStep).toFixed(1)}x, cpu/wasm(replace) ${
    (cpuStep / fastStep).toFixed(1)
  }x`
  : "";
console.error(`train step ms: wasm+likeness ${wasmStep.toFixed(0)}, with replace ${fastStep.toFixed(0)}${vsCpu}`);
