/**
 * `deno run -A bench/index_threads_main.ts [--rows 20000] [--queries 200] [--reps 7] [--batch 200]`
 * (or `bun bench/index_threads_main.ts ...`): the 2-thread speed-up of a `flat` index through the
 * public API (`VectorIndex.search`, R × 384 unit vectors, k = 10, inner product). A 1-thread and a
 * 2-thread index hold the same rows; their searches alternate, `reps` times each, and the row
 * reports the median wall time, its q/s, the ratio, and the CPU seconds per search (a
 * load-robust companion: on a shared machine a lost core shows as wall time, not CPU time), and
 * `others_cores`: the cores other processes kept busy meanwhile (Linux /proc/stat; 0 = a quiet
 * run, where the ratio means something), and the scoring's GFLOP/s (2·Q·R·D flops) per thread as a
 * share of one thread's WebAssembly FMA peak measured in the same process (`bench/_fma_peak.ts`).
 * `--batch b` splits the queries into calls of b rows (the server's shape). A second row does the
 * same one level down (`createResidentDense`, the engine under the index) with three engines side
 * by side: 1 thread, 2 threads with reference blocks from a shared counter (the default), and 2
 * threads with the earlier fixed split (`split: "fixed"`). Never a timed test.
 */
import process from "node:process";
import { readFileSync } from "node:fs";
import { createBackend, createIndex, type VectorIndex } from "@likeness/backend";
import { createRng } from "@likeness/core";
import { unitRows } from "./_data.ts";
import { createResidentDense, type ResidentDense } from "@likeness/kernels";
import { measureFmaPeak } from "./_fma_peak.ts";

const runtime = typeof (globalThis as { Bun?: unknown }).Bun !== "undefined" ? "bun" : "deno";
function flag(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}
const R = flag("rows", 20_000), D = flag("dim", 384), Q = flag("queries", 200), REPS = flag("reps", 7);
const BATCH = flag("batch", Q), K = 10;
const rng = createRng(2026);

function cpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

/** Busy CPU seconds of the whole machine so far (Linux /proc/stat, USER_HZ = 100), or NaN. */
function machineBusySeconds(): number {
  try {
    const f = readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/).slice(1).map(Number);
    return (f[0] + f[1] + f[2] + f[5] + f[6] + f[7]) / 100;
  } catch {
    return NaN;
  }
}

/** Cores other processes kept busy on average while `f` ran (how quiet the run was). */
async function othersCores(f: () => Promise<void>): Promise<number> {
  const m0 = machineBusySeconds(), c0 = cpuSeconds(), t0 = performance.now();
  await f();
  const wall = (performance.now() - t0) / 1000;
  return Math.max(0, (machineBusySeconds() - m0 - (cpuSeconds() - c0)) / wall);
}

const ref = unitRows(rng, R, D);
const queries = unitRows(rng, Q, D);
const indexes: VectorIndex[] = [];
const disposers: (() => void)[] = [];
for (const threads of [1, 2]) {
  const { backend } = await createBackend({ prefer: "wasm-simd", threads });
  const index = await createIndex({ dim: D, metric: "dot", kind: "flat", capacity: R }, backend);
  await index.add(ref);
  indexes.push(index);
  disposers.push(() => {
    index.dispose();
    backend.dispose();
  });
}

async function searchAll(index: VectorIndex): Promise<Int32Array> {
  const out = new Int32Array(Q * K);
  for (let i0 = 0; i0 < Q; i0 += BATCH) {
    const rows = Math.min(BATCH, Q - i0);
    const r = await index.search({ data: queries.data.subarray(i0 * D, (i0 + rows) * D), rows, cols: D }, { k: K });
    out.set(r.ids, i0 * K);
  }
  return out;
}

// Warm both (V8 tiers up the kernels on every thread), then check they agree.
const ids: Int32Array[] = [];
for (const index of indexes) {
  for (let w = 0; w < 3; w++) ids.push(await searchAll(index));
}
const same = ids[0].every((v, i) => v === ids[3][i]);
const wall: number[][] = [[], []], cpu: number[][] = [[], []];
const others = await othersCores(async () => {
  for (let rep = 0; rep < REPS; rep++) {
    for (const t of [0, 1]) {
      const c0 = cpuSeconds(), t0 = performance.now();
      await searchAll(indexes[t]);
      wall[t].push(performance.now() - t0);
      cpu[t].push(cpuSeconds() - c0);
    }
  }
});
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const ms = wall.map(median), cs = cpu.map(median);
// Share of the FMA peak per thread: the scoring's flops (2·Q·R·D) over wall time and threads,
// against one thread's peak measured in this process right after the searches.
const peak = await measureFmaPeak();
const gflops = ms.map((m) => (2 * Q * R * D) / (m / 1000) / 1e9);
console.log(JSON.stringify({
  bench: "index_threads",
  runtime,
  rows: R,
  dim: D,
  queries: Q,
  batch: BATCH,
  k: K,
  reps: REPS,
  identical: same,
  qps1: +(Q / (ms[0] / 1000)).toFixed(1),
  qps2: +(Q / (ms[1] / 1000)).toFixed(1),
  speedup: +(ms[0] / ms[1]).toFixed(3),
  best_speedup: +(Math.min(...wall[0]) / Math.min(...wall[1])).toFixed(3),
  cpu_s1: +cs[0].toFixed(4),
  cpu_s2: +cs[1].toFixed(4),
  fma_peak_gflops: +peak.gflopsCpu.toFixed(1),
  fma_peak_variant: peak.variant,
  gflops1: +gflops[0].toFixed(1),
  gflops2: +gflops[1].toFixed(1),
  peak_share_per_thread1: +(gflops[0] / peak.gflopsCpu).toFixed(3),
  peak_share_per_thread2: +(gflops[1] / 2 / peak.gflopsCpu).toFixed(3),
  others_cores: +others.toFixed(2),
  detail2: indexes[1].info().detail,
}));
for (const d of disposers) d();

// The engine under the index: 1 thread, 2 threads (blocks), 2 threads (fixed split), interleaved.
const engines: ResidentDense[] = [];
for (const [threads, split] of [[1, "blocks"], [2, "blocks"], [2, "fixed"]] as const) {
  const e = await createResidentDense({ dim: D, threads, split });
  e.reserve(R);
  e.rows().set(ref.data);
  engines.push(e);
}
async function engineAll(e: ResidentDense): Promise<Int32Array> {
  const out = new Int32Array(Q * K);
  for (let i0 = 0; i0 < Q; i0 += BATCH) {
    const rows = Math.min(BATCH, Q - i0);
    const r = await e.topk(queries.data.subarray(i0 * D, (i0 + rows) * D), rows, { metric: "dot", k: K, rows: R });
    out.set(r.positions, i0 * K);
  }
  return out;
}
const eids: Int32Array[] = [];
for (const e of engines) for (let w = 0; w < 3; w++) eids.push(await engineAll(e));
const ew: number[][] = [[], [], []], ec: number[][] = [[], [], []];
const eothers = await othersCores(async () => {
  for (let rep = 0; rep < REPS; rep++) {
    for (const t of [0, 1, 2]) {
      const c0 = cpuSeconds(), t0 = performance.now();
      await engineAll(engines[t]);
      ew[t].push(performance.now() - t0);
      ec[t].push(cpuSeconds() - c0);
    }
  }
});
const em = ew.map(median), emin = ew.map((xs) => Math.min(...xs));
console.log(JSON.stringify({
  bench: "resident_threads",
  runtime,
  rows: R,
  dim: D,
  queries: Q,
  batch: BATCH,
  reps: REPS,
  identical: eids.every((x) => x.every((v, i) => v === eids[0][i])),
  qps1: +(Q / (em[0] / 1000)).toFixed(1),
  qps2_blocks: +(Q / (em[1] / 1000)).toFixed(1),
  qps2_fixed: +(Q / (em[2] / 1000)).toFixed(1),
  speedup_blocks: +(em[0] / em[1]).toFixed(3),
  speedup_fixed: +(em[0] / em[2]).toFixed(3),
  best_speedup_blocks: +(emin[0] / emin[1]).toFixed(3),
  best_speedup_fixed: +(emin[0] / emin[2]).toFixed(3),
  cpu_s: ec.map((xs) => +median(xs).toFixed(4)),
  others_cores: +eothers.toFixed(2),
}));
for (const e of engines) e.dispose();
