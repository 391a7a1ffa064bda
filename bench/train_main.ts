/**
 * Training-throughput benchmark (`deno task bench:train`, `bun run bench:train`), never a timed test.
 *
 * In one process, on the same MNIST rows:
 * - **quickstart training**: the quickstart's model and step (MLP 784-256-64 with L2 normalisation,
 *   TripletMarginLoss margin 0.2 with a semi-hard TripletMarginMiner, m-per-class batches of 160 with
 *   m = 16, Adam 1e-3) for `--steps` steps (default 375, the quickstart's 3 epochs of 20,000 rows), on
 *   tfjs-backend-wasm with its stock kernels (`restoreTfjsWasmKernels()`) and with likeness's
 *   (`@likeness/tfwasm`: multi-threaded `BatchMatMul` / `_FusedMatMul`); then the same training in
 *   PyTorch (Debian's `python3-torch` 1.13, `torch.set_num_threads(2)`; `bench/train_torch.py`, given
 *   the very same rows) where `/usr/bin/python3` can import torch (`bash tools/bench_setup.sh torch`);
 * - **matMul** at the training shapes (160×784×256, 1024×512×512, 128×1280×512): `tf.matMul` with the
 *   stock kernel and with ours, median of 7 after a warm-up.
 *
 * Output: one JSON line per row on stdout and in `runs/bench/train_<runtime>.jsonl`, then a table of
 * ratios on stderr. Flags: `--steps N`, `--quick` (60 steps), `--no-torch`.
 *
 * @module
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { createRng } from "@likeness/core";
import { imagesToFeatures, loadMnist } from "@likeness/data";
import { PmlTripletMarginLoss } from "@likeness/losses";
import { TripletMarginMiner } from "@likeness/miners";
import { MlpEncoder, SimilarityModel } from "@likeness/models";
import { mPerClassSampler } from "@likeness/samplers";
import { tf, useTfBackend } from "@likeness/tf";
import { registerLikenessWasmKernels, restoreTfjsWasmKernels } from "@likeness/tfwasm";
import { fit } from "@likeness/trainer";

interface Row {
  bench: string;
  impl: string;
  runtime: string;
  shape: string;
  ms: number;
  note?: string;
}

const RUNTIME = "Bun" in globalThis ? "bun" : "deno";
const argv = process.argv.slice(2);
const flag = (name: string) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : undefined;
};
const STEPS = Number(flag("steps") ?? (argv.includes("--quick") ? 60 : 375));
const BATCH = 160;
const TRAIN_ROWS = 20000;
const rows: Row[] = [];

function record(row: Omit<Row, "runtime">): void {
  const r = { ...row, runtime: RUNTIME, ms: Math.round(row.ms * 1000) / 1000 };
  rows.push(r);
  console.log(JSON.stringify(r));
}

/** Median of `runs` timings of `fn` after one warm-up. */
async function median(fn: () => Promise<void> | void, runs = 7): Promise<number> {
  await fn();
  const t: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn();
    t.push(performance.now() - t0);
  }
  t.sort((a, b) => a - b);
  return t[t.length >> 1];
}

await useTfBackend("wasm");
const mnist = await loadMnist({ split: "train", limit: TRAIN_ROWS });
const train = imagesToFeatures(mnist);
const labels = train.labels as number[];
const inputs = tf.tensor2d(train.features.data, [train.features.rows, train.features.cols]);

/** The quickstart's training for STEPS steps; ms per step (the first step, which compiles, excluded). */
async function quickstartTraining(): Promise<number> {
  const model = new SimilarityModel(
    new MlpEncoder({ inputDim: 784, hidden: [256], outputDim: 64, seed: 1 }),
    undefined,
    { normalize: true },
  );
  const ends: number[] = [];
  await fit(model, { inputs, labels }, {
    loss: new PmlTripletMarginLoss({ margin: 0.2 }),
    epochs: 1,
    sampler: mPerClassSampler(labels, { m: 16, batchSize: BATCH, seed: 1, batchesPerEpoch: STEPS + 1 }),
    miner: new TripletMarginMiner({ margin: 0.2, type: "semihard" }),
    optimizer: "adam",
    learningRate: 1e-3,
    seed: 1,
    callbacks: [{ onBatchEnd: () => void ends.push(performance.now()) }],
  });
  model.dispose();
  return (ends[ends.length - 1] - ends[0]) / Math.max(1, ends.length - 1);
}

// Stock tfjs-backend-wasm kernels first, then likeness's.
restoreTfjsWasmKernels();
const stockStep = await quickstartTraining();
record({ bench: "quickstart_training", impl: "tfjs-wasm stock", shape: `${STEPS} steps of ${BATCH}`, ms: stockStep });
await registerLikenessWasmKernels({ replace: true });
const oursStep = await quickstartTraining();
record({ bench: "quickstart_training", impl: "likeness kernels", shape: `${STEPS} steps of ${BATCH}`, ms: oursStep });

// The same training in PyTorch, on the very same rows.
let torchStep: number | undefined;
if (!argv.includes("--no-torch")) {
  const py = "/usr/bin/python3";
  let hasTorch = false;
  try {
    execFileSync(py, ["-c", "import torch"], { stdio: "ignore" });
    hasTorch = true;
  } catch {
    console.error(
      "bench:train: PyTorch not importable by /usr/bin/python3 (bash tools/bench_setup.sh torch); row skipped",
    );
  }
  if (hasTorch) {
    const dir = mkdtempSync(join(tmpdir(), "likeness-train-bench-"));
    try {
      const x = train.features.data;
      writeFileSync(join(dir, "x.f32"), new Uint8Array(x.buffer, x.byteOffset, x.byteLength));
      writeFileSync(join(dir, "y.u8"), Uint8Array.from(labels));
      const script = fileURLToPath(new URL("./train_torch.py", import.meta.url));
      const out = execFileSync(py, [script, dir, String(STEPS), String(BATCH)], {
        encoding: "utf8",
        env: { ...process.env, OMP_NUM_THREADS: "2" },
      });
      const r = JSON.parse(out.trim().split("\n").pop()!);
      torchStep = r.ms_per_step as number;
      record({
        bench: "quickstart_training",
        impl: `pytorch ${r.torch}`,
        shape: `${STEPS} steps of ${BATCH}`,
        ms: torchStep,
        note: `threads ${r.threads}`,
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
}

// matMul at the training shapes, stock and ours.
const rng = createRng(7);
const randn = (n: number) => Float32Array.from({ length: n }, () => rng.normal());
const mm: { shape: string; stock: number; ours: number }[] = [];
for (const [m, k, n] of [[160, 784, 256], [1024, 512, 512], [128, 1280, 512]]) {
  const a = tf.tensor2d(randn(m * k), [m, k]);
  const b = tf.tensor2d(randn(k * n), [k, n]);
  const time = () =>
    median(async () => {
      const c = tf.matMul(a, b);
      await c.data();
      c.dispose();
    });
  restoreTfjsWasmKernels();
  const stock = await time();
  await registerLikenessWasmKernels({ replace: true });
  const ours = await time();
  a.dispose();
  b.dispose();
  const shape = `${m}x${k}x${n}`;
  record({ bench: "matmul", impl: "tfjs-wasm stock", shape, ms: stock });
  record({ bench: "matmul", impl: "likeness kernels", shape, ms: ours });
  mm.push({ shape, stock, ours });
}

const outDir = "runs/bench";
if (!existsSync(outDir)) mkdirSync(outDir, { recursive: true });
writeFileSync(join(outDir, `train_${RUNTIME}.jsonl`), rows.map((r) => JSON.stringify(r)).join("\n") + "\n");

const f = (x: number) => x.toFixed(1);
console.error(`\nbench:train (${RUNTIME}, ${cpus().length} cores, load average ${loadavg()[0].toFixed(1)})`);
console.error(
  `quickstart training, ms/step: stock ${f(stockStep)}, ours ${f(oursStep)} (${f(stockStep / oursStep)}× stock)` +
    (torchStep ? `, PyTorch ${f(torchStep)} (ours ${(torchStep / oursStep).toFixed(2)}× PyTorch)` : ""),
);
for (const r of mm) {
  console.error(`matMul ${r.shape}: stock ${f(r.stock)} ms, ours ${f(r.ours)} ms (${(r.stock / r.ours).toFixed(2)}×)`);
}
process.exit(0);
