/**
 * Kernel benchmarks: `deno task bench:kernels [--quick]`.
 *
 * Runs under Deno, then re-runs itself under Bun (`bun run bench/kernels_main.ts --child`), and
 * prints one JSON object per line (also written to `runs/bench/kernels.jsonl`):
 *
 * - `fma_peak`: the WebAssembly FMA peak, a tight loop of 12 independent f32x4 multiply-add
 *   chains (relaxed madd, and plain mul + add), the yardstick for `peakRatio`;
 * - `pairwise`: B×B pairwise cosine and L2 at B=256 D=128 and B=1024 D=512, likeness kernels on
 *   1 and 2 threads beside tfjs-backend-wasm (`matMul(a, transpose(b))`, explicit transpose)
 *   and plain JS;
 * - `knn`: exact top-10 cosine neighbours of 1,000 queries among 100,000 × 384 references
 *   (`--quick`: 100 queries), likeness on 1 and 2 threads beside tfjs-wasm (`matMul` + `topk`
 *   in query chunks) and plain JS (a few queries only);
 * - `batch_hard`: mining rows from `bench/kernels_mining.ts` when present.
 *
 * `gflops` counts 2·Q·R·D flops for every metric (one multiply-add per element pair), over the
 * median wall time `ms`. The machine this runs on may be shared, so rows also carry `cpuMs`, the
 * process's CPU time (all threads) per run, which time-slicing by other processes does not
 * inflate, and `gflopsCpu` from it. `peakRatio` = gflopsCpu / FMA peak (also CPU-timed, same
 * runtime and build): the fraction of the peak each busy thread reaches. `speedup` = 1-thread
 * over 2-thread wall time (only meaningful on an otherwise idle machine); `vsTfjs` = tfjs-wasm wall
 * time over ours and `vsTfjsCpu` the same in CPU time (> 1 = we are faster).
 *
 * @module
 */
import { createRng, type Matrix } from "@likeness/core";
import {
  createDenseKernels,
  type DenseKernels,
  type DenseVariant,
  hasRelaxedSimd,
  hasWasmSimd,
} from "@likeness/kernels";
import { cpuNowMs as cpuNow, measureFmaPeak } from "./_fma_peak.ts";
import { tf, useTfBackend } from "@likeness/tf";
import { appendFileSync, existsSync, mkdirSync, writeFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

declare const Bun: { version: string; argv: string[] } | undefined;

const isBun = typeof Bun !== "undefined";
const argv: string[] = isBun ? Bun!.argv.slice(2) : Deno.args;
const quick = argv.includes("--quick");
const child = argv.includes("--child");
const runtime = isBun ? `bun ${Bun!.version}` : `deno ${Deno.version.deno}`;
const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const outFile = join(root, "runs", "bench", "kernels.jsonl");

/** One output row. */
interface Row {
  bench: string;
  impl: string;
  runtime: string;
  threads: number;
  shape: string;
  ms: number;
  gflops: number | null;
  [extra: string]: unknown;
}

const rows: Row[] = [];

function emit(row: Row): void {
  const r: Row = { ...row, ms: round(row.ms) };
  if (typeof r.gflops === "number") r.gflops = round(r.gflops);
  for (const [k, v] of Object.entries(r)) if (typeof v === "number" && k !== "threads") r[k] = round(v);
  rows.push(r);
  const line = JSON.stringify(r);
  console.log(line);
  appendFileSync(outFile, line + "\n");
}

function round(x: number): number {
  return Number.isFinite(x) ? Number(x.toPrecision(4)) : x;
}

/** Wall and CPU times of one measurement. */
interface Timing {
  /** Median wall time over the runs. */
  median: number;
  /** Fastest run (the least disturbed by other processes on a shared machine). */
  best: number;
  /** Median CPU time of the process (all its threads) per run: robust to time-slicing. */
  cpu: number;
}

/**
 * Wall time in ms after `warmup` calls (first WASM calls run unoptimised), over at most `runs`
 * runs and about `budgetMs` of measuring (at least one run).
 */
async function time(fn: () => unknown, warmup: number, runs: number, budgetMs = quick ? 600 : 1500): Promise<Timing> {
  for (let i = 0; i < warmup; i++) await fn();
  const t: number[] = [];
  const c: number[] = [];
  const start = performance.now();
  for (let i = 0; i < runs && (i === 0 || performance.now() - start < budgetMs); i++) {
    const c0 = cpuNow();
    const t0 = performance.now();
    await fn();
    t.push(performance.now() - t0);
    c.push(cpuNow() - c0);
  }
  t.sort((a, b) => a - b);
  c.sort((a, b) => a - b);
  return { median: t[Math.floor(t.length / 2)], best: t[0], cpu: c[Math.floor(c.length / 2)] };
}

function random(rows: number, cols: number, seed: number): Matrix {
  const rng = createRng(seed);
  const data = new Float32Array(rows * cols);
  for (let i = 0; i < data.length; i++) data[i] = rng.next() * 2 - 1;
  return { data, rows, cols };
}

// ---------------------------------------------------------------------------------------------
// FMA peak

async function fmaPeak(variant: "relaxed" | "simd"): Promise<number> {
  const p = await measureFmaPeak(variant, quick ? 5e6 : 2e7);
  emit({
    bench: "fma_peak",
    impl: `wasm-${variant}`,
    runtime,
    threads: 1,
    shape: `${p.iters}x12xf32x4`,
    ms: p.ms,
    gflops: p.gflops,
    cpuMs: p.cpuMs,
    gflopsCpu: p.gflopsCpu,
  });
  return p.gflopsCpu;
}

// ---------------------------------------------------------------------------------------------
// Plain JS and tfjs baselines

function jsPairwise(a: Matrix, b: Matrix, metric: "cosine" | "l2"): Float32Array {
  const d = a.cols;
  const out = new Float32Array(a.rows * b.rows);
  const na = new Float32Array(a.rows);
  const nb = new Float32Array(b.rows);
  if (metric === "cosine") {
    for (let i = 0; i < a.rows; i++) {
      let s = 0;
      for (let k = 0; k < d; k++) s += a.data[i * d + k] ** 2;
      na[i] = s > 0 ? 1 / Math.sqrt(s) : 0;
    }
    for (let j = 0; j < b.rows; j++) {
      let s = 0;
      for (let k = 0; k < d; k++) s += b.data[j * d + k] ** 2;
      nb[j] = s > 0 ? 1 / Math.sqrt(s) : 0;
    }
  }
  for (let i = 0; i < a.rows; i++) {
    for (let j = 0; j < b.rows; j++) {
      let s = 0;
      if (metric === "cosine") {
        for (let k = 0; k < d; k++) s += a.data[i * d + k] * b.data[j * d + k];
        out[i * b.rows + j] = s * na[i] * nb[j];
      } else {
        for (let k = 0; k < d; k++) {
          const t = a.data[i * d + k] - b.data[j * d + k];
          s += t * t;
        }
        out[i * b.rows + j] = Math.sqrt(s);
      }
    }
  }
  return out;
}

/**
 * tfjs-wasm pairwise through matMul with an explicit transpose (transposeB is much slower there).
 * The graph runs in `tf.tidy`; the result is read with `await data()` outside it (reading inside
 * `tidy` with `dataSync` costs tens of ms per call in tfjs-wasm here, which would be unfair).
 */
async function tfPairwise(a: Matrix, b: Matrix, metric: "cosine" | "l2"): Promise<Float32Array> {
  const out = tf.tidy(() => {
    let x = tf.tensor2d(a.data, [a.rows, a.cols]);
    let y = tf.tensor2d(b.data, [b.rows, b.cols]);
    if (metric === "cosine") {
      x = tf.div(x, tf.maximum(tf.norm(x, 2, 1, true), 1e-12));
      y = tf.div(y, tf.maximum(tf.norm(y, 2, 1, true), 1e-12));
      return tf.matMul(x, tf.transpose(y));
    }
    const dot = tf.matMul(x, tf.transpose(y));
    const sq = tf.add(
      tf.sub(tf.sum(tf.square(x), 1, true), tf.mul(dot, 2)),
      tf.reshape(tf.sum(tf.square(y), 1), [1, b.rows]),
    );
    return tf.sqrt(tf.relu(sq));
  });
  const data = await out.data() as Float32Array;
  out.dispose();
  return data;
}

// ---------------------------------------------------------------------------------------------
// Pairwise

async function benchPairwise(variant: DenseVariant, peaks: Record<string, number>): Promise<void> {
  const shapes: [number, number][] = [[256, 128], [1024, 512]];
  const kernels: Record<number, DenseKernels> = {
    1: createDenseKernels({ variant, threads: 1 }),
    2: createDenseKernels({ variant, threads: 2 }),
  };
  try {
    for (const [b, d] of shapes) {
      const x = random(b, d, b + d);
      const y = random(b, d, b + d + 1);
      const flops = 2 * b * b * d;
      const small = b * b * d < 1e8;
      const runs = quick ? (small ? 20 : 3) : (small ? 50 : 8);
      for (const metric of ["cosine", "l2"] as const) {
        const shape = `${b}x${b}x${d} ${metric}`;
        const tfT = await time(() => tfPairwise(x, y, metric), small ? 2 : 1, runs);
        const tfMs = tfT.median;
        emit({
          bench: "pairwise",
          impl: "tfjs-wasm",
          runtime,
          threads: 1,
          shape,
          ms: tfMs,
          bestMs: tfT.best,
          gflops: flops / tfMs / 1e6,
          cpuMs: tfT.cpu,
          gflopsCpu: flops / tfT.cpu / 1e6,
        });
        if (small || !quick) {
          const js = await time(() => jsPairwise(x, y, metric), small ? 1 : 0, small ? 3 : 1);
          emit({
            bench: "pairwise",
            impl: "js",
            runtime,
            threads: 1,
            shape,
            ms: js.median,
            bestMs: js.best,
            gflops: flops / js.median / 1e6,
            cpuMs: js.cpu,
          });
        }
        let one = NaN;
        for (const threads of [1, 2]) {
          const k = kernels[threads];
          const t = await time(() => k.pairwise(x, y, metric), 3, runs);
          const ms = t.median;
          if (threads === 1) one = ms;
          const gflops = flops / ms / 1e6;
          emit({
            bench: "pairwise",
            impl: `likeness-${variant}`,
            runtime,
            threads: k.info.threads,
            shape,
            ms,
            bestMs: t.best,
            gflops,
            cpuMs: t.cpu,
            gflopsCpu: flops / t.cpu / 1e6,
            peakRatio: flops / t.cpu / 1e6 / (peaks[variant] ?? NaN),
            vsTfjs: tfMs / ms,
            vsTfjsCpu: tfT.cpu / t.cpu,
            ...(threads === 2 ? { speedup: one / ms } : {}),
          });
        }
      }
    }
  } finally {
    kernels[1].dispose();
    kernels[2].dispose();
  }
}

// ---------------------------------------------------------------------------------------------
// Exact kNN

function jsTopk(q: Matrix, r: Matrix, k: number): Int32Array {
  const d = q.cols;
  const out = new Int32Array(q.rows * k);
  const rn = new Float32Array(r.rows);
  for (let j = 0; j < r.rows; j++) {
    let s = 0;
    for (let t = 0; t < d; t++) s += r.data[j * d + t] ** 2;
    rn[j] = s > 0 ? 1 / Math.sqrt(s) : 0;
  }
  const vals = new Float64Array(k);
  for (let i = 0; i < q.rows; i++) {
    vals.fill(-Infinity);
    const idx = out.subarray(i * k, (i + 1) * k).fill(-1);
    for (let j = 0; j < r.rows; j++) {
      let s = 0;
      for (let t = 0; t < d; t++) s += q.data[i * d + t] * r.data[j * d + t];
      s *= rn[j];
      if (s > vals[k - 1]) {
        let p = k - 1;
        while (p > 0 && vals[p - 1] < s) {
          vals[p] = vals[p - 1];
          idx[p] = idx[p - 1];
          p--;
        }
        vals[p] = s;
        idx[p] = j;
      }
    }
  }
  return out;
}

async function benchKnn(variant: DenseVariant, peaks: Record<string, number>): Promise<void> {
  const R = 100_000;
  const D = 384;
  const Q = quick ? 100 : 1000;
  const K = 10;
  const refs = random(R, D, 42);
  const queries = random(Q, D, 43);
  const shape = `${Q}x${R}x${D} k=${K} cosine`;
  const flops = 2 * Q * R * D;

  // tfjs-wasm: normalised references, transposed once; queries in chunks of 100.
  const refT = tf.tidy(() => {
    const y = tf.tensor2d(refs.data, [R, D]);
    return tf.transpose(tf.div(y, tf.maximum(tf.norm(y, 2, 1, true), 1e-12)));
  });
  const tfChunk = async (i0: number, n: number) => {
    const { values, indices } = tf.tidy(() => {
      const x = tf.tensor2d(queries.data.subarray(i0 * D, (i0 + n) * D), [n, D]);
      return tf.topk(tf.matMul(x, refT), K);
    });
    await indices.data();
    await values.data();
    indices.dispose();
    values.dispose();
  };
  const tfKnn = async () => {
    for (let i0 = 0; i0 < Q; i0 += 100) await tfChunk(i0, Math.min(100, Q - i0));
  };
  await tfChunk(0, 2);
  const tfT = await time(tfKnn, 0, 1);
  const tfMs = tfT.median;
  refT.dispose();
  emit({
    bench: "knn",
    impl: "tfjs-wasm",
    runtime,
    threads: 1,
    shape,
    ms: tfMs,
    gflops: flops / tfMs / 1e6,
    cpuMs: tfT.cpu,
    gflopsCpu: flops / tfT.cpu / 1e6,
  });

  const jsQ = quick ? 2 : 10;
  const jsQueries = { data: queries.data.subarray(0, jsQ * D), rows: jsQ, cols: D };
  const jsMs = (await time(() => jsTopk(jsQueries, refs, K), 0, 1)).median;
  emit({
    bench: "knn",
    impl: "js",
    runtime,
    threads: 1,
    shape: `${jsQ}x${R}x${D} k=${K} cosine`,
    ms: jsMs,
    gflops: (2 * jsQ * R * D) / jsMs / 1e6,
  });

  let one = NaN;
  for (const threads of [1, 2]) {
    const k = createDenseKernels({ variant, threads });
    try {
      // Warm up (compiles optimised code) on a few queries.
      const warm = { data: queries.data.subarray(0, 8 * D), rows: 8, cols: D };
      await k.topk(warm, refs, { k: K, metric: "cosine" });
      const t = await time(() => k.topk(queries, refs, { k: K, metric: "cosine" }), 0, 1);
      const ms = t.median;
      if (threads === 1) one = ms;
      const gflops = flops / ms / 1e6;
      emit({
        bench: "knn",
        impl: `likeness-${variant}`,
        runtime,
        threads: k.info.threads,
        shape,
        ms,
        gflops,
        cpuMs: t.cpu,
        gflopsCpu: flops / t.cpu / 1e6,
        peakRatio: flops / t.cpu / 1e6 / (peaks[variant] ?? NaN),
        vsTfjs: tfMs / ms,
        vsTfjsCpu: tfT.cpu / t.cpu,
        ...(threads === 2 ? { speedup: one / ms } : {}),
      });
    } finally {
      k.dispose();
    }
  }
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  mkdirSync(dirname(outFile), { recursive: true });
  if (!child) writeFileSync(outFile, "");
  await useTfBackend("wasm");
  // The machine may be shared: record its load so the numbers can be read in context.
  const { loadavg, cpus } = await import("node:os");
  emit({
    bench: "env",
    impl: "-",
    runtime,
    threads: cpus().length,
    shape: quick ? "quick" : "full",
    ms: 0,
    gflops: null,
    load1: loadavg()[0],
  });
  const peaks: Record<string, number> = {};
  if (hasRelaxedSimd()) peaks.relaxed = await fmaPeak("relaxed");
  if (hasWasmSimd()) peaks.simd = await fmaPeak("simd");
  const variant: DenseVariant = hasRelaxedSimd() ? "relaxed" : hasWasmSimd() ? "simd" : "scalar";
  await benchPairwise(variant, peaks);
  await benchKnn(variant, peaks);
  const mining = join(root, "bench", "kernels_mining.ts");
  if (existsSync(mining)) {
    const mod = await import("./kernels_mining.ts") as unknown as {
      benchMining?: (runtime: string) => Promise<Row[]>;
    };
    if (mod.benchMining) { for (const row of await mod.benchMining(runtime)) emit(row); }
  }
  if (!child && !isBun) {
    const bun = join(root, "node_modules", ".bin", "bun");
    const args = ["run", join(root, "bench", "kernels_main.ts"), "--child", ...(quick ? ["--quick"] : [])];
    const r = spawnSync(bun, args, { stdio: "inherit", cwd: root });
    if (r.status !== 0) console.error(`bun run failed with status ${r.status}`);
  }
}

await main();
