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
 *   rep by rep, median of 7 (5 with `--quick`) after a warm-up (`bench/_matmul_compare.ts`); then the
 *   kernels themselves (`createMatMulKernels`, no way chooser) on 1 and on 2 threads, alternating, median
 *   of 9 (5): their 2-thread speed-up, and each beside stock;
 * - **MNIST convnet**: the `examples/mnist.ts` training step (conv 16 5×5 → pool → conv 32 5×5 → pool →
 *   dense 128 → 64, batches of 128) for `--mnist-steps` steps (default 468, one epoch) with stock
 *   kernels and with ours; ms per step and the epoch it makes; `--profile` adds time per phase and per
 *   kernel (through `tf.profile`, which slows the steps: time the rows without it);
 * - **USE-lite** on WordNet glosses (shuffled, seeded) at batch 1, 16, 64 and 256 (`--use-sentences`
 *   each, default 512; 64 at batch 1): before (stock kernels, each batch as given) and after (ours,
 *   sorted by token count in groups of ≤ 32), sentences/s.
 *
 * The machine is shared: `--rounds R` repeats the three trainings R times in turn (stock, ours,
 * PyTorch) and reports each one's median, and every row carries the load average (1 minute) before
 * and after it.
 *
 * Output: one JSON line per row on stdout and in `runs/bench/train_<runtime>.jsonl`, then a table of
 * ratios on stderr. Flags: `--rows quickstart,mnist,use,matmul` (default all), `--steps N`, `--quick`
 * (60 steps, 40 MNIST steps, 256 sentences), `--rounds R` (default 1), `--matmul-variant simd|relaxed`
 * (default simd, tfwasm's), `--no-torch`, `--torch-threads 2,1`,
 * `--mnist-steps N`, `--use-sentences N`, `--profile`.
 *
 * @module
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { imagesToFeatures, loadMnist, loadWordNet } from "@likeness/data";
import { PmlTripletMarginLoss } from "@likeness/losses";
import { TripletMarginMiner } from "@likeness/miners";
import { ConvNetEncoder, loadUseLite, MlpEncoder, SimilarityModel } from "@likeness/models";
import { mPerClassSampler } from "@likeness/samplers";
import { tf, useTfBackend } from "@likeness/tf";
import { registerLikenessWasmKernels, restoreTfjsWasmKernels } from "@likeness/tfwasm";
import { fit, type FitProfile } from "@likeness/trainer";
import { compareMatMul, compareThreads } from "./_matmul_compare.ts";
import { mnistTensor } from "../examples/mnist.ts";

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
/** PyTorch's thread counts: 2 (the issue's baseline) and 1 (OpenMP's 2 threads stall when the cores are shared). */
const TORCH_THREADS = (flag("torch-threads") ?? "2,1").split(",").map(Number);
/** Which rows to run: `quickstart`, `mnist` (the convnet epoch), `use` (USE-lite), `matmul` (default all). */
const ROWS = new Set((flag("rows") ?? "quickstart,mnist,use,matmul").split(","));
for (const r of ROWS) {
  if (!["quickstart", "mnist", "use", "matmul"].includes(r)) {
    console.error(`bench:train: unknown row ${JSON.stringify(r)}: use quickstart, mnist, use, matmul`);
    process.exit(2);
  }
}
/** MNIST convnet steps (468 = one epoch of 128; with --quick 40, the epoch extrapolated from ms/step). */
const MNIST_STEPS = Number(flag("mnist-steps") ?? (QUICK ? 40 : 468));
/** USE-lite sentences per batch size row (default 512; 64 at batch 1). */
const USE_SENTENCES = Number(flag("use-sentences") ?? (QUICK ? 256 : 512));
const PROFILE = argv.includes("--profile");
/**
 * Build of likeness's matmul kernels (`--matmul-variant relaxed|simd`): `relaxed` is tfwasm's default
 * (one fused multiply-add per step on V8; JavaScriptCore runs it unfused), `simd` a multiply then an
 * add (the same bits in Deno and Bun, slower in Deno). Used by every row: the trainings, the
 * `tf.matMul` rows and the kernels alone.
 */
const MM_VARIANT = (flag("matmul-variant") ?? "relaxed") as "simd" | "relaxed";
if (MM_VARIANT !== "simd" && MM_VARIANT !== "relaxed") {
  console.error(`bench:train: --matmul-variant must be relaxed or simd, got ${JSON.stringify(MM_VARIANT)}`);
  process.exit(2);
}
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

type Impl = "stock" | "ours" | `torch${number}`;
const runs = new Map<Impl, { ms: number; load: [number, number] }[]>();
const torchRows: { threads: number; ms: number; load: [number, number] }[] = [];
let stockStep = NaN;
let oursStep = NaN;
let stockRow: { ms: number; load: [number, number] } | undefined;
let oursRow: { ms: number; load: [number, number] } | undefined;
if (ROWS.has("quickstart")) {
  // Stock tfjs-backend-wasm kernels, likeness's, then PyTorch on each thread count, ROUNDS times in turn.
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
    await registerLikenessWasmKernels({ replace: true, matMulVariant: MM_VARIANT });
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
  stockRow = summary("stock")!;
  oursRow = summary("ours")!;
  record({ bench: "quickstart_training", impl: "tfjs-wasm stock", shape, ...stockRow });
  record({ bench: "quickstart_training", impl: "likeness kernels", shape, ...oursRow });
  for (const threads of TORCH_THREADS) {
    const r = summary(`torch${threads}`);
    if (!r) continue;
    const note = `threads ${threads}` + (r.note ? `; ${r.note}` : "");
    record({ bench: "quickstart_training", impl: `pytorch ${torchVersion}`, shape, ...r, note });
    torchRows.push({ threads, ...r });
  }
  stockStep = stockRow.ms;
  oursStep = oursRow.ms;
}

// The MNIST convnet example's training (examples/mnist.ts: conv 16 5×5 → pool → conv 32 5×5 → pool →
// dense 128 → 64, batches of 128, semi-hard triplets, Adam), stock kernels then ours; ms per step.
const mnistRows: { impl: string; ms: number; load: [number, number]; profile?: FitProfile }[] = [];
if (ROWS.has("mnist")) {
  const m = await loadMnist({ split: "train", limit: 128 * (MNIST_STEPS + 1) });
  const mx = mnistTensor(m.images, m.count);
  const mLabels = Array.from(m.labels);
  for (const impl of ["tfjs-wasm stock", "likeness kernels"]) {
    if (impl === "tfjs-wasm stock") restoreTfjsWasmKernels();
    else await registerLikenessWasmKernels({ replace: true, matMulVariant: MM_VARIANT });
    const l0 = load();
    const model = new SimilarityModel(
      new ConvNetEncoder({
        inputShape: [28, 28, 1],
        conv: [{ filters: 16, kernelSize: 5, pool: 2 }, { filters: 32, kernelSize: 5, pool: 2 }],
        dense: [128],
        outputDim: 64,
        seed: 1,
      }),
      undefined,
      { normalize: true },
    );
    const ends: number[] = [];
    const r = await fit(model, { inputs: mx, labels: mLabels }, {
      loss: new PmlTripletMarginLoss({ margin: 0.2 }),
      epochs: 1,
      batchSize: 128,
      dropLast: true,
      miner: new TripletMarginMiner({ margin: 0.2, type: "semihard" }),
      optimizer: "adam",
      learningRate: 3e-3,
      seed: 1,
      profile: PROFILE,
      callbacks: [{ onBatchEnd: () => void ends.push(performance.now()) }],
    });
    model.dispose();
    const ms = (ends[ends.length - 1] - ends[0]) / Math.max(1, ends.length - 1);
    const row = { impl, ms, load: [l0, load()] as [number, number], profile: r.profile };
    mnistRows.push(row);
    record({
      bench: "mnist_convnet_step",
      impl,
      shape: `${MNIST_STEPS} steps of 128`,
      ms,
      load: row.load,
      note: `epoch of 468 steps ≈ ${(ms * 468 / 1000).toFixed(1)} s`,
    });
  }
  mx.dispose();
}

// USE-lite on WordNet glosses: before (stock kernels, each batch as given) and after (ours, sorted by
// token count, groups of ≤ 32), at batch 1, 16, 64 and 256; ms per sentence, sentences/s in the note.
const useRows: { batch: number; before: number; after: number; load: [number, number] }[] = [];
if (ROWS.has("use")) {
  const use = await loadUseLite();
  const glosses = (await loadWordNet({ limitPerPos: 2000 })).map((s) => s.gloss).filter((g) => g.length > 0);
  // A seeded shuffle, so lengths are mixed as a data set's are (Fisher-Yates, LCG).
  let seed = 1;
  for (let i = glosses.length - 1; i > 0; i--) {
    seed = (seed * 1103515245 + 12345) >>> 0;
    const j = seed % (i + 1);
    [glosses[i], glosses[j]] = [glosses[j], glosses[i]];
  }
  const time = async (batch: number, n: number, after: boolean): Promise<number> => {
    const texts = glosses.slice(0, n);
    const opts = after ? {} : { sortByLength: false, maxBatch: batch };
    const warm = await use.encode(texts.slice(0, batch), opts);
    await warm.data();
    warm.dispose();
    const t0 = performance.now();
    for (let s = 0; s < n; s += batch) {
      const e = await use.encode(texts.slice(s, s + batch), opts);
      await e.data();
      e.dispose();
    }
    return (performance.now() - t0) / n;
  };
  for (const batch of [1, 16, 64, 256]) {
    const n = batch === 1 ? Math.min(64, USE_SENTENCES) : Math.max(batch, USE_SENTENCES);
    const l0 = load();
    restoreTfjsWasmKernels();
    const before = await time(batch, n, false);
    await registerLikenessWasmKernels({ replace: true, matMulVariant: MM_VARIANT });
    const after = await time(batch, n, true);
    const l: [number, number] = [l0, load()];
    useRows.push({ batch, before, after, load: l });
    const shape = `batch ${batch}, ${n} WordNet glosses`;
    record({
      bench: "use_lite_encode",
      impl: "tfjs-wasm stock, unsorted",
      shape,
      ms: before,
      load: l,
      note: `${(1000 / before).toFixed(1)} sentences/s`,
    });
    record({
      bench: "use_lite_encode",
      impl: "likeness kernels, sorted by length",
      shape,
      ms: after,
      load: l,
      note: `${(1000 / after).toFixed(1)} sentences/s`,
    });
  }
}
let mm: Awaited<ReturnType<typeof compareMatMul>> = [];
let mmLoad: [number, number] = [0, 0];
let mt: Awaited<ReturnType<typeof compareThreads>> = [];
let mtLoad: [number, number] = [0, 0];
if (ROWS.has("matmul")) {
  // matMul at the training shapes, stock and ours, each transpose of a dense layer's training.
  const l0 = load();
  mm = await compareMatMul({
    shapes: [[160, 784, 256], [1024, 512, 512], [128, 1280, 512]],
    modes: ["nn", "tn", "nt"],
    kinds: ["fresh"],
    reps: QUICK ? 5 : 7,
    variant: MM_VARIANT,
  });
  mmLoad = [l0, load()];
  for (const r of mm) {
    const s = `${r.shape} ${r.mode}`;
    record({ bench: "matmul", impl: "tfjs-wasm stock", shape: s, ms: r.stockMs, load: mmLoad });
    record({ bench: "matmul", impl: "likeness kernels", shape: s, ms: r.oursMs, load: mmLoad });
  }
  // The kernels themselves on 1 and 2 threads (no way chooser): their 2-thread speed-up.
  const t0 = load();
  mt = await compareThreads({
    shapes: [[160, 784, 256], [1024, 512, 512], [128, 1280, 512]],
    modes: ["nn", "tn", "nt"],
    reps: QUICK ? 5 : 9,
    variant: MM_VARIANT,
  });
  mtLoad = [t0, load()];
  for (const r of mt) {
    const s = `${r.shape} ${r.mode}`;
    record({ bench: "matmul_threads", impl: "likeness kernels, 1 thread", shape: s, ms: r.oneMs, load: mtLoad });
    record({
      bench: "matmul_threads",
      impl: "likeness kernels, 2 threads",
      shape: s,
      ms: r.twoMs,
      load: mtLoad,
      note: `ran on ${r.threads} thread(s); ${(r.oneMs / r.twoMs).toFixed(2)}× 1 thread`,
    });
  }
}

const outDir = "runs/bench";
if (!existsSync(outDir)) mkdirSync(outDir, { recursive: true });
writeFileSync(join(outDir, `train_${RUNTIME}.jsonl`), rows.map((r) => JSON.stringify(r)).join("\n") + "\n");

const f = (x: number) => x.toFixed(1);
const la = (l: [number, number]) => `load ${l[0].toFixed(1)}–${l[1].toFixed(1)}`;
console.error(`\nbench:train (${RUNTIME}, ${cpus().length} cores, rows ${[...ROWS].join(",")})`);
if (stockRow && oursRow) {
  console.error(
    `quickstart training (${ROUNDS} round(s) of ${STEPS} steps), ms/step: stock ${f(stockStep)} (${
      la(stockRow.load)
    }), ours ${f(oursStep)} (${la(oursRow.load)}): ${f(stockStep / oursStep)}× stock`,
  );
}
for (const t of torchRows) {
  console.error(
    `  PyTorch ${t.threads} thread(s) ${f(t.ms)} ms/step (${la(t.load)}): ours ${
      (t.ms / oursStep).toFixed(2)
    }× PyTorch's steps/s`,
  );
}
if (mnistRows.length === 2) {
  const [st, ou] = mnistRows;
  console.error(
    `MNIST convnet (${MNIST_STEPS} steps of 128), ms/step: stock ${f(st.ms)} (${la(st.load)}), ours ${f(ou.ms)} (${
      la(ou.load)
    }): ${f(st.ms / ou.ms)}× stock; epoch (468 steps) ${f(st.ms * 0.468)} s → ${f(ou.ms * 0.468)} s`,
  );
  for (const r of mnistRows) {
    const p = r.profile;
    if (!p) continue;
    const per = (ms: number) => (ms / p.steps).toFixed(1);
    console.error(
      `  ${r.impl} per step: ${Object.entries(p.phases).map(([k, v]) => `${k} ${per(v)}`).join(", ")}; kernels: ${
        p.kernels.slice(0, 10).map((k) => `${k.name} ${per(k.ms)}`).join(", ")
      }`,
    );
  }
}
if (useRows.length) {
  console.error("USE-lite sentences/s (WordNet glosses): before (stock, unsorted) → after (ours, sorted by length):");
  for (const r of useRows) {
    console.error(
      `  batch ${r.batch}: ${f(1000 / r.before)} → ${f(1000 / r.after)} (${f(r.before / r.after)}×, ${la(r.load)})`,
    );
  }
}
if (mm.length) {
  console.error(
    `matMul, fresh B, median ms (${la(mmLoad)}); ours = tfjs kernel on likeness's (way chooser: in place on 1 ` +
      `thread, Workers on 2, or XNNPACK), CPU/wall ≈ threads it ran on:`,
  );
}
for (const r of mm) {
  console.error(
    `  ${r.shape} ${r.mode}: stock ${f(r.stockMs)}, ours ${f(r.oursMs)} (${(r.stockMs / r.oursMs).toFixed(2)}×; ` +
      `CPU/wall stock ${(r.stockCpuMs / r.stockMs).toFixed(1)}, ours ${(r.oursCpuMs / r.oursMs).toFixed(1)})`,
  );
}
if (mt.length) console.error(`matMul kernels alone, 1 vs 2 threads, median ms (${la(mtLoad)}):`);
for (const r of mt) {
  const stock = mm.find((x) => x.shape === r.shape && x.mode === r.mode)?.stockMs;
  console.error(
    `  ${r.shape} ${r.mode}: 1 thread ${f(r.oneMs)}, 2 threads ${f(r.twoMs)} (${
      (r.oneMs / r.twoMs).toFixed(2)
    }× speed-up, ${r.threads} thread(s) ran)${
      stock
        ? `; stock (the row above, not alternated with these) ÷ 1 thread ${
          (stock / r.oneMs).toFixed(2)
        }×, ÷ 2 threads ${(stock / r.twoMs).toFixed(2)}×`
        : ""
    }`,
  );
}
process.exit(0);
