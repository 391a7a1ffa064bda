/**
 * `deno task bench:index [--quick]` (or `bun bench/index_main.ts`): the resident vector index
 * beside today's `Backend.topk` path and the peers, on the same vectors in one run. Prints one
 * JSON row per measurement. Never a timed test.
 *
 * Rows: exact kNN R × D unit vectors, Q queries, k = 10, inner product (`flat`, `int8`, `binary`
 * with recall@10 against the exact result; `Backend.topk`; usearch `exactSearch`; faiss-node
 * `IndexFlatIP` when `tools/bench_setup.sh` built it), on 1 and 2 threads; `computeAccuracy` on
 * 10,000 × 64 with 10 labels at k = max_bin_count (index path, `topk` path, numpy when python3 has
 * it); add / remove 10 % / search / compact; save and load.
 *
 * Peers need the bench set-up: usearch is an npm devDependency; faiss-node is built from source
 * by `tools/bench_setup.sh` (not in CI). A missing peer is reported as a row with `skipped`.
 */
import { createRequire } from "node:module";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { createBackend, createIndex, type IndexKind, loadIndex, type VectorIndex } from "@likeness/backend";
import { createRng } from "@likeness/core";
import { unitRows } from "./_data.ts";
import { measureFmaPeak } from "./_fma_peak.ts";
import { type AccuracyOptions, computeAccuracy } from "@likeness/eval";

const quick = process.argv.includes("--quick");
const runtime = typeof (globalThis as { Bun?: unknown }).Bun !== "undefined" ? "bun" : "deno";
const R = quick ? 20_000 : 100_000, D = 384, Q = quick ? 200 : 1000, K = 10;
const SAVE_ROWS = quick ? 200_000 : 1_000_000;
const require = createRequire(import.meta.url);
const rng = createRng(2026);

function emit(row: Record<string, unknown>): void {
  console.log(JSON.stringify({ bench: "index", runtime, ...row }));
}

function recall(got: ArrayLike<number | bigint>, want: Int32Array, rows: number, k: number): number {
  let hit = 0;
  for (let i = 0; i < rows; i++) {
    const w = new Set(want.subarray(i * k, i * k + k));
    for (let t = 0; t < k; t++) if (w.has(Number(got[i * k + t]))) hit++;
  }
  return hit / (rows * k);
}

/** CPU seconds of this process so far (every thread): a load-robust companion to wall time. */
function cpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

async function time<T>(f: () => Promise<T> | T): Promise<[T, number]> {
  const t0 = performance.now();
  const r = await f();
  return [r, performance.now() - t0];
}

// ---------------------------------------------------------------------------------------------
// Exact kNN.
const ref = unitRows(rng, R, D);
const queries = unitRows(rng, Q, D);
const warm = { data: queries.data.subarray(0, 8 * D), rows: 8, cols: D };
const peak = await measureFmaPeak();
emit({ op: "fma_peak", variant: peak.variant, gflops: +peak.gflopsCpu.toFixed(1) });
let exact: Int32Array | undefined;
for (const threads of [1, 2]) {
  const { backend } = await createBackend({ prefer: "wasm-simd", threads });
  for (const kind of ["flat", "int8", "binary"] as IndexKind[]) {
    const index = await createIndex({ dim: D, metric: "dot", kind, capacity: R }, backend);
    await index.add(ref);
    // int8/binary scan their codes in WebAssembly too: the same queries as flat.
    const nq = Q;
    const qm = queries;
    await index.search(warm, { k: K });
    const [res, ms] = await time(() => index.search(qm, { k: K }));
    if (kind === "flat" && threads === 1) exact = res.ids;
    emit({
      op: "knn",
      impl: `likeness-${kind}`,
      threads: backend.info.threads,
      rows: R,
      dim: D,
      queries: nq,
      k: K,
      qps: +(nq / (ms / 1000)).toFixed(1),
      recall: +recall(res.ids, exact!, nq, K).toFixed(4),
      // flat scores every row in float32: its GFLOP/s per thread over one thread's FMA peak.
      ...(kind === "flat"
        ? {
          peakSharePerThread: +((2 * nq * R * D) / (ms / 1000) / 1e9 / backend.info.threads / peak.gflopsCpu).toFixed(
            3,
          ),
        }
        : {}),
      detail: index.info().detail,
    });
    index.dispose();
  }
  await backend.topk(warm, ref, { k: K, metric: "dot" });
  const [t, ms] = await time(() => backend.topk(queries, ref, { k: K, metric: "dot" }));
  emit({
    op: "knn",
    impl: "Backend.topk",
    threads: backend.info.threads,
    rows: R,
    dim: D,
    queries: Q,
    k: K,
    qps: +(Q / (ms / 1000)).toFixed(1),
    recall: +recall(t.indices, exact!, Q, K).toFixed(4),
  });
  backend.dispose();
}

try {
  const us = require("usearch");
  us.exactSearch(ref.data, warm.data, D, K, us.MetricKind.IP);
  const [r, ms] = await time(() => us.exactSearch(ref.data, queries.data, D, K, us.MetricKind.IP));
  emit({
    op: "knn",
    impl: "usearch-exactSearch",
    threads: "usearch default",
    rows: R,
    dim: D,
    queries: Q,
    k: K,
    qps: +(Q / (ms / 1000)).toFixed(1),
    recall: +recall(r.keys, exact!, Q, K).toFixed(4),
  });
} catch (e) {
  emit({ op: "knn", impl: "usearch-exactSearch", skipped: (e as Error).message });
}

try {
  const faiss = require("faiss-node");
  // faiss-node exposes no thread setter: it runs with OpenMP's default (OMP_NUM_THREADS, else every core).
  const ompThreads = process.env.OMP_NUM_THREADS ?? "all cores";
  for (const threads of [ompThreads]) {
    const idx = new faiss.IndexFlatIP(D);
    idx.add(Array.from(ref.data));
    const qs = Array.from(queries.data);
    idx.search(qs.slice(0, 8 * D), K);
    const [r, ms] = await time(() => idx.search(qs, K));
    emit({
      op: "knn",
      impl: "faiss-node-IndexFlatIP",
      threads,
      rows: R,
      dim: D,
      queries: Q,
      k: K,
      qps: +(Q / (ms / 1000)).toFixed(1),
      recall: +recall(r.labels, exact!, Q, K).toFixed(4),
    });
  }
} catch (e) {
  emit({
    op: "knn",
    impl: "faiss-node-IndexFlatIP",
    skipped: `run tools/bench_setup.sh first (${(e as Error).message})`,
  });
}

// ---------------------------------------------------------------------------------------------
// computeAccuracy 10,000 × 64, 10 labels, k = max_bin_count.
{
  const n = 10_000, d = 64;
  const labels = Array.from({ length: n }, () => rng.int(10));
  const centres = unitRows(rng, 10, d);
  const e = new Float32Array(n * d);
  for (let i = 0; i < n; i++) {
    for (let t = 0; t < d; t++) e[i * d + t] = centres.data[labels[i] * d + t] + 0.15 * rng.normal();
  }
  const emb = { data: e, rows: n, cols: d };
  const metrics = ["precision_at_1", "r_precision", "mean_average_precision_at_r"] as const;
  for (const threads of [1, 2]) {
    const { backend } = await createBackend({ prefer: "wasm-simd", threads });
    const run = (b: AccuracyOptions["backend"]) =>
      computeAccuracy({ embeddings: emb, labels }, { embeddings: emb, labels }, {
        include: [...metrics],
        referenceIncludesQuery: true,
        backend: b,
      });
    const c0 = cpuSeconds();
    const [a, msIndex] = await time(() => run(backend));
    const cpuIndex = cpuSeconds() - c0;
    const topkOnly = { topk: backend.topk.bind(backend) };
    const [b, msTopk] = await time(() => run(topkOnly));
    emit({
      op: "computeAccuracy",
      rows: n,
      dim: d,
      k: a.k,
      threads: backend.info.threads,
      indexSeconds: +(msIndex / 1000).toFixed(3),
      indexCpuSeconds: +cpuIndex.toFixed(3),
      topkPathSeconds: +(msTopk / 1000).toFixed(3),
      // The two paths sum a query's metric terms in different orders: equal up to float rounding.
      metricsMaxAbsDiff: Math.max(
        ...metrics.map((m) => Math.abs((a.metrics[m] ?? NaN) - (b.metrics[m] ?? NaN))),
      ),
      precisionAt1: +a.metrics.precision_at_1!.toFixed(4),
    });
    backend.dispose();
  }
  // numpy, one thread, the same k-NN (dot on unit rows would differ from cosine: normalise first).
  const dir = mkdtempSync(join(tmpdir(), "likeness-bench-index-"));
  try {
    writeFileSync(join(dir, "e.f32"), new Uint8Array(e.buffer));
    writeFileSync(join(dir, "l.i32"), new Uint8Array(Int32Array.from(labels).buffer));
    const py = `
import os, time, numpy as np
e = np.fromfile("${dir}/e.f32", dtype=np.float32).reshape(${n}, ${d})
l = np.fromfile("${dir}/l.i32", dtype=np.int32)
t = time.perf_counter()
c = time.process_time()
x = e / np.linalg.norm(e, axis=1, keepdims=True)
k = int(np.bincount(l).max()) - 1
p1 = 0.0
for i0 in range(0, ${n}, 1000):
    s = x[i0:i0+1000] @ x.T
    s[np.arange(s.shape[0]), np.arange(i0, i0 + s.shape[0])] = -np.inf
    top = np.argpartition(-s, k, axis=1)[:, :k]
    order = np.take_along_axis(s, top, 1).argsort(axis=1)[:, ::-1]
    top = np.take_along_axis(top, order, 1)
    p1 += (l[top[:, 0]] == l[i0:i0 + s.shape[0]]).sum()
print(time.perf_counter() - t, k, p1 / ${n}, time.process_time() - c)
`;
    const r = spawnSync("python3", ["-c", py], {
      encoding: "utf8",
      env: { ...process.env, OMP_NUM_THREADS: "1", OPENBLAS_NUM_THREADS: "1" },
    });
    if (r.status === 0) {
      const [s, k, p1, cpu] = r.stdout.trim().split(/\s+/).map(Number);
      emit({
        op: "computeAccuracy",
        impl: "numpy-knn (1 thread)",
        rows: n,
        k,
        seconds: +s.toFixed(3),
        cpuSeconds: +cpu.toFixed(3),
        precisionAt1: p1,
      });
    } else {emit({
        op: "computeAccuracy",
        impl: "numpy-knn",
        skipped: (r.stderr || r.error?.message || "").slice(0, 200),
      });}
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------
// Add, remove 10 %, search, compact; save and load.
{
  const { backend } = await createBackend({ prefer: "wasm-simd", threads: 2 });
  const n = quick ? 20_000 : 100_000, d = 128;
  const m = unitRows(rng, n, d);
  const index = await createIndex({ dim: d, metric: "cosine" }, backend);
  const [, add] = await time(() => index.add(m));
  const gone = Array.from({ length: n / 10 }, (_, i) => i * 10);
  const [, remove] = await time(() => index.remove(gone));
  const q = unitRows(rng, 100, d);
  await index.search(q, { k: K });
  const [, search] = await time(() => index.search(q, { k: K }));
  const [, compact] = await time(() => index.compact());
  emit({
    op: "lifecycle",
    rows: n,
    dim: d,
    addMs: +add.toFixed(1),
    remove10pctMs: +remove.toFixed(1),
    search100Ms: +search.toFixed(1),
    compactMs: +compact.toFixed(1),
  });
  index.dispose();

  const big = unitRows(rng, SAVE_ROWS, 128);
  const b = await createIndex({ dim: 128, metric: "cosine", capacity: SAVE_ROWS }, backend);
  await b.add(big);
  const [bytes, save] = await time(() => b.save());
  b.dispose();
  const [loaded, load] = await time(() => loadIndex(bytes, backend)) as [VectorIndex, number];
  emit({
    op: "save-load",
    rows: SAVE_ROWS,
    dim: 128,
    saveMs: +save.toFixed(1),
    loadMs: +load.toFixed(1),
    mb: +(bytes.byteLength / 2 ** 20).toFixed(1),
    size: loaded.size,
  });
  loaded.dispose();
  backend.dispose();
}
