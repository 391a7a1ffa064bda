/**
 * Training-throughput benchmark (`deno task bench:train`, `bun run bench:train`), never a timed test.
 *
 * In one process, on the same MNIST rows:
 * - **quickstart training**: the quickstart's model and step (MLP 784-256-64 with L2 normalisation,
 *   TripletMarginLoss margin 0.2 with a semi-hard TripletMarginMiner, m-per-class batches of 160 with
 *   m = 16, Adam 1e-3) for `--steps` steps (default 375, the quickstart's 3 epochs of 20,000 rows), on
 *   tfjs-backend-wasm with its stock kernels (`restoreTfjsWasmKernels()`) and with likeness's
 *   (`@likeness/tfwasm`: multi-threaded `BatchMatMul` / `_FusedMatMul`); then the same training in
 *   PyTorch (Debian's `python3-torch` 1.13, `torch.set_num_threads(2)` and `(1)`: on shared cores
 *   OpenMP's two threads stall each other; `bench/train_torch.py`, given the very same rows) where
 *   `/usr/bin/python3` can import torch (`bash tools/bench_setup.sh torch`);
 * - **matMul** at the training shapes (160×784×256, 1024×512×512, 128×1280×512) with each transpose
 *   a dense layer's training runs (`nn` forward, `tn` weight gradient, `nt` input gradient) and a
 *   fresh B every rep (as in training): `tf.matMul` with the stock kernel and with ours, alternating
 *   rep by rep, median of 7 (5 with `--quick`) after a warm-up (`bench/_matmul_compare.ts`).
 *
 * The machine is shared: `--rounds R` repeats the three trainings R times in turn (stock, ours,
 * PyTorch) and reports each one's median, and every row carries the load average (1 minute) before
 * and after it.
 *
 * Output: one JSON line per row on stdout and in `runs/bench/train_<runtime>.jsonl`, then a table of
 * ratios on stderr. Flags: `--steps N`, `--quick` (60 steps), `--rounds R` (default 1), `--no-torch`,
 * `--torch-threads 2,1`.
 *
 * @module
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { imagesToFeatures, loadMnist } from "@likeness/data";
import { PmlTripletMarginLoss } from "@likeness/losses";
import { TripletMarginMiner } from "@likeness/miners";
import { MlpEncoder, SimilarityModel } from "@likeness/models";
import { mPerClassSampler } from "@likeness/samplers";
import { tf, useTfBackend } from "@likeness/tf";
import { registerLikenessWasmKernels, restoreTfjsWasmKernels } from "@likeness/tfwasm";
import { fit } from "@likeness/trainer";
import { compareMatMul } from "./_matmul_compare.ts";

interface Row {
  bench: string;
  impl: string;
  runtime: string;
  shape: string;
  ms: number;
  /** Load average (1 minute) before and after the row's run. */
  load: [number, number];
  note?: string;
}

const RUNTIME = "Bun" in globalThis ? "bun" : "deno";
const argv = process.argv.slice(2);
const flag = (name: string) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : undefined;
};
const QUICK = argv.includes("--quick");
const STEPS = Number(flag("steps") ?? (QUICK ? 60 : 375));
const ROUNDS = Number(flag("rounds") ?? 1);
/** PyTorch's thread counts: 2 (the baseline) and 1 (OpenMP's 2 threads stall when the cores are shared). */
const TORCH_THREADS = (flag("torch-threads") ?? "2,1").split(",").map(Number);
const BATCH = 160;
const TRAIN_ROWS = 20000;
const rows: Row[] = [];

const load = () => Math.round(loadavg()[0] * 100) / 100;

function record(row: Omit<Row, "runtime">): void {
  const r = { ...row, runtime: RUNTIME, ms: Math.round(row.ms * 1000) / 1000 };
  rows.push(r);
  console.log(JSON.stringify(r));
}

/** Median (of an even count: the mean of the middle two). */
const median = (t: number[]) => {
  const s = [...t].sort((a, b) => a - b);
  const h = s.length >> 1;
  return s.length % 2 ? s[h] : (s[h - 1] + s[h]) / 2;
};

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

/** PyTorch's step time on the very same rows (undefined when /usr/bin/python3 lacks torch). */
function torchTraining(threads: number): { ms: number; torch: string; threads: number } | undefined {
  const py = "/usr/bin/python3";
  try {
    execFileSync(py, ["-c", "import torch"], { stdio: "ignore" });
  } catch {
    return undefined;
  }
  const dir = mkdtempSync(join(tmpdir(), "likeness-train-bench-"));
  try {
    const x = train.features.data;
    writeFileSync(join(dir, "x.f32"), new Uint8Array(x.buffer, x.byteOffset, x.byteLength));
    writeFileSync(join(dir, "y.u8"), Uint8Array.from(labels));
    const script = fileURLToPath(new URL("./train_torch.py", import.meta.url));
    const out = execFileSync(py, [script, dir, String(STEPS), String(BATCH), String(threads)], {
      encoding: "utf8",
      env: { ...process.env, OMP_NUM_THREADS: String(threads) },
    });
    const r = JSON.parse(out.trim().split("\n").pop()!);
    return { ms: r.ms_per_step as number, torch: r.torch as string, threads: r.threads as number };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// Stock tfjs-backend-wasm kernels, likeness's, then PyTorch on each thread count, ROUNDS times in turn.
type Impl = "stock" | "ours" | `torch${number}`;
const runs = new Map<Impl, { ms: number; load: [number, number] }[]>();
const run = (impl: Impl, ms: number, l0: number) => {
  if (!runs.has(impl)) runs.set(impl, []);
  runs.get(impl)!.push({ ms, load: [l0, load()] });
};
let torchVersion: string | undefined;
let torchMissing = argv.includes("--no-torch");
for (let round = 0; round < ROUNDS; round++) {
  let l0 = load();
  restoreTfjsWasmKernels();
  run("stock", await quickstartTraining(), l0);
  l0 = load();
  await registerLikenessWasmKernels({ replace: true });
  run("ours", await quickstartTraining(), l0);
  for (const threads of TORCH_THREADS) {
    if (torchMissing) break;
    l0 = load();
    const t = torchTraining(threads);
    if (!t) {
      console.error(
        "bench:train: PyTorch not importable by /usr/bin/python3 (bash tools/bench_setup.sh torch); row skipped",
      );
      torchMissing = true;
      break;
    }
    torchVersion = t.torch;
    run(`torch${t.threads}`, t.ms, l0);
  }
}
const summary = (impl: Impl) => {
  const r = runs.get(impl);
  if (!r) return undefined;
  return {
    ms: median(r.map((x) => x.ms)),
    load: [Math.min(...r.map((x) => x.load[0])), Math.max(...r.map((x) => x.load[1]))] as [number, number],
    note: r.length > 1 ? `median of ${r.length} rounds: ${r.map((x) => x.ms.toFixed(1)).join(", ")} ms` : undefined,
  };
};
const shape = `${STEPS} steps of ${BATCH}`;
const stockRow = summary("stock")!;
const oursRow = summary("ours")!;
record({ bench: "quickstart_training", impl: "tfjs-wasm stock", shape, ...stockRow });
record({ bench: "quickstart_training", impl: "likeness kernels", shape, ...oursRow });
const torchRows: { threads: number; ms: number; load: [number, number] }[] = [];
for (const threads of TORCH_THREADS) {
  const r = summary(`torch${threads}`);
  if (!r) continue;
  const note = `threads ${threads}` + (r.note ? `; ${r.note}` : "");
  record({ bench: "quickstart_training", impl: `pytorch ${torchVersion}`, shape, ...r, note });
  torchRows.push({ threads, ...r });
}
const stockStep = stockRow.ms;
const oursStep = oursRow.ms;

// matMul at the training shapes, stock and ours, each transpose of a dense layer's training.
const l0 = load();
const mm = await compareMatMul({
  shapes: [[160, 784, 256], [1024, 512, 512], [128, 1280, 512]],
  modes: ["nn", "tn", "nt"],
  kinds: ["fresh"],
  reps: QUICK ? 5 : 7,
});
const mmLoad: [number, number] = [l0, load()];
for (const r of mm) {
  const s = `${r.shape} ${r.mode}`;
  record({ bench: "matmul", impl: "tfjs-wasm stock", shape: s, ms: r.stockMs, load: mmLoad });
  record({ bench: "matmul", impl: "likeness kernels", shape: s, ms: r.oursMs, load: mmLoad });
}

const outDir = "runs/bench";
if (!existsSync(outDir)) mkdirSync(outDir, { recursive: true });
writeFileSync(join(outDir, `train_${RUNTIME}.jsonl`), rows.map((r) => JSON.stringify(r)).join("\n") + "\n");

const f = (x: number) => x.toFixed(1);
const la = (l: [number, number]) => `load ${l[0].toFixed(1)}–${l[1].toFixed(1)}`;
console.error(`\nbench:train (${RUNTIME}, ${cpus().length} cores, ${ROUNDS} round(s) of ${STEPS} steps)`);
console.error(
  `quickstart training, ms/step: stock ${f(stockStep)} (${la(stockRow.load)}), ours ${f(oursStep)} (${
    la(oursRow.load)
  }): ${f(stockStep / oursStep)}× stock`,
);
for (const t of torchRows) {
  console.error(
    `  PyTorch ${t.threads} thread(s) ${f(t.ms)} ms/step (${la(t.load)}): ours ${
      (t.ms / oursStep).toFixed(2)
    }× PyTorch's steps/s`,
  );
}
console.error(`matMul, fresh B, median ms (${la(mmLoad)}):`);
for (const r of mm) {
  console.error(
    `  ${r.shape} ${r.mode}: stock ${f(r.stockMs)}, ours ${f(r.oursMs)} (${(r.stockMs / r.oursMs).toFixed(2)}×)`,
  );
}
process.exit(0);
