/**
 * Batch-hard mining benchmark at B = 1024: WebAssembly SIMD and scalar kernels, the plain-JS
 * float64 reference, and tfjs-backend-wasm (masked max/min with tf ops). Every implementation
 * goes from typed arrays in to typed arrays out (copies, validation and read-back included).
 *
 * Standalone: `deno run -A bench/kernels_mining.ts` or `bun run bench/kernels_mining.ts` prints
 * one JSON object per line. `bench/kernels_main.ts` calls {@link benchMining}.
 *
 * @module
 */
import { createRng, type Matrix, sameLabelMatrix } from "@likeness/core";
import { createMiningKernels, hasWasmSimd } from "@likeness/kernels";
import { batchHardRef } from "@likeness/kernels/reference";
import { tf, useTfBackend } from "@likeness/tf";

/** One benchmark row. */
export interface MiningBenchRow {
  bench: "batch_hard";
  impl: "wasm-simd" | "wasm" | "js" | "tfjs-wasm";
  runtime: string;
  threads: 1;
  shape: string;
  ms: number;
  gflops: null;
  /** Fastest run in ms (the median is `ms`; the machine may be shared). */
  msMin: number;
  /** Speed relative to the plain-JS reference measured in the same run (> 1 = faster). */
  vsJs?: number;
}

/** Median and fastest wall time of `fn` in ms after `warmup` calls (the first WASM run is in the baseline tier). */
async function time(fn: () => unknown, warmup: number, runs: number): Promise<[number, number]> {
  for (let i = 0; i < warmup; i++) await fn();
  const t: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn();
    t.push(performance.now() - t0);
  }
  t.sort((a, b) => a - b);
  return [t[Math.floor(t.length / 2)], t[0]];
}

/** tfjs batch-hard: hardest positive = argmax over masked positives, hardest negative = argmin. */
function tfBatchHard(dist: Matrix, same: Uint8Array): { positive: Int32Array; negative: Int32Array } {
  const b = dist.rows;
  return tf.tidy(() => {
    const d = tf.tensor2d(dist.data, [b, b]);
    const s = tf.tensor2d(same, [b, b], "bool");
    const offDiag = tf.logicalNot(tf.cast(tf.eye(b), "bool"));
    const pos = tf.logicalAnd(s, offDiag);
    const neg = tf.logicalAnd(tf.logicalNot(s), offDiag);
    const pd = tf.where(pos, d, tf.fill([b, b], -Infinity));
    const nd = tf.where(neg, d, tf.fill([b, b], Infinity));
    const pIdx = tf.argMax(pd, 1);
    const nIdx = tf.argMin(nd, 1);
    const pValid = tf.any(pos, 1);
    const nValid = tf.any(neg, 1);
    const none = tf.fill([b], -1, "int32");
    const positive = tf.where(pValid, pIdx, none).dataSync() as Int32Array;
    const negative = tf.where(nValid, nIdx, none).dataSync() as Int32Array;
    // the distances, as the kernels return them
    tf.max(pd, 1).dataSync();
    tf.min(nd, 1).dataSync();
    return { positive, negative };
  });
}

/**
 * Measure batch-hard mining at B = 1024 (256 classes × 4, random distances) for every
 * implementation and check that they agree with the reference.
 *
 * @param runtime runtime name for the rows (e.g. `deno 2.9.6`)
 * @returns one row per implementation
 * @throws {Error} when an implementation disagrees with the reference
 * @example
 * ```ts
 * import { benchMining } from "./kernels_mining.ts";
 * for (const row of await benchMining("deno")) console.log(JSON.stringify(row));
 * ```
 */
export async function benchMining(runtime: string): Promise<MiningBenchRow[]> {
  const b = 1024;
  const rng = createRng(2024);
  const labels = rng.shuffle(Array.from({ length: b }, (_, i) => i % 256));
  const data = new Float32Array(b * b);
  for (let i = 0; i < data.length; i++) data[i] = rng.next() * 2;
  const dist: Matrix = { data, rows: b, cols: b };
  const same = sameLabelMatrix(labels);
  const want = batchHardRef(dist, same);
  const check = (impl: string, got: { positive: Int32Array; negative: Int32Array }) => {
    for (let i = 0; i < b; i++) {
      if (got.positive[i] !== want.positive[i] || got.negative[i] !== want.negative[i]) {
        throw new Error(`bench batch_hard: ${impl} disagrees with the reference at anchor ${i}`);
      }
    }
  };
  const rows: MiningBenchRow[] = [];
  const row = (impl: MiningBenchRow["impl"], [ms, msMin]: [number, number]): MiningBenchRow => ({
    bench: "batch_hard",
    impl,
    runtime,
    threads: 1,
    shape: `B=${b}`,
    ms: Math.round(ms * 1000) / 1000,
    gflops: null,
    msMin: Math.round(msMin * 1000) / 1000,
  });

  const js = await time(() => batchHardRef(dist, same), 2, 9);
  for (const variant of hasWasmSimd() ? ["simd", "scalar"] as const : ["scalar"] as const) {
    const k = createMiningKernels({ variant });
    check(variant, await k.batchHard(dist, same));
    rows.push(row(variant === "simd" ? "wasm-simd" : "wasm", await time(() => k.batchHard(dist, same), 20, 51)));
    k.dispose();
  }
  rows.push(row("js", js));
  try {
    await useTfBackend("wasm");
    check("tfjs-wasm", tfBatchHard(dist, same));
    rows.push(row("tfjs-wasm", await time(() => tfBatchHard(dist, same), 3, 15)));
  } catch (e) {
    console.error(`bench batch_hard: tfjs-wasm skipped: ${(e as Error).message}`);
  }
  for (const r of rows) r.vsJs = Math.round((js[0] / r.ms) * 100) / 100;
  return rows;
}

if (import.meta.main) {
  const g = globalThis as { Bun?: { version: string }; Deno?: { version: { deno: string } } };
  const runtime = g.Bun ? `bun ${g.Bun.version}` : g.Deno ? `deno ${g.Deno.version.deno}` : "unknown";
  for (const r of await benchMining(runtime)) console.log(JSON.stringify(r));
}
