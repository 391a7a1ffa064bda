/**
 * The `hnsw` kind of {@link VectorIndex}: an approximate index over a hierarchical navigable
 * small world graph (Malkov & Yashunin) whose rows, lists and search scratch live in one
 * WebAssembly memory, built and searched by the AssemblyScript kernel of `kernels/hnsw/`.
 *
 * - Levels are drawn from the seeded generator of `@likeness/core` (`P(level ≥ l) = M^-l`,
 *   computed without logarithms), so one seed and one insertion order give the same graph bytes
 *   in Deno and in Bun (per kernel build: `simd` and `scalar` sum in different orders).
 * - `add` links new rows into the graph (no rebuild); `remove` tombstones (searches walk through
 *   tombstones but never return them); `compact` rebuilds the graph from the live rows in order,
 *   keeping their levels, and reclaims the memory.
 * - Filtered search: label and id filters become one eligibility byte per row, applied during the
 *   walk; when few rows are eligible the search switches to an exact scan of those rows. Rule
 *   (cost model: a filtered walk evaluates about `M · ef / (2s)` distances at selectivity `s`, a
 *   constant fitted on Fashion-MNIST in `bench/ann_main.ts`; the scan evaluates `e = s · n`): scan
 *   when `2e² ≤ M · ef · n`, with `e` the eligible live rows and `n` the rows in the graph
 *   (tombstones included). At n = 60,000, M = 16, ef = 80 that is s ≤ 10 %; without a filter or
 *   tombstones it is `n ≤ M·ef/2`. `mode: "graph"` or `"exact"` overrides the rule.
 *
 * @module
 */
import { checkMatrix, checkOneOf, createRng, LikenessError, type Matrix, ShapeError, ValueError } from "@likeness/core";
import { hasWasmSimd, HnswGraph, type HnswGraphArrays, type HnswQuantizer, type HnswVariant } from "@likeness/kernels";
import { type Metric, METRICS } from "@likeness/kernels/types";
import {
  type AddOptions,
  HNSW_CODES,
  type HnswParams,
  type IndexFilter,
  type IndexInfo,
  type IndexKind,
  type IndexOptions,
  type IndexSearchOptions,
  type IndexSearchResult,
  type VectorIndex,
} from "./index_types.ts";
import type { Backend } from "./types.ts";
import { bytesOf, type DecodedIndex, decodeIndex, encodeIndex, FLAG_NORMALIZED, sectionArray } from "./index_format.ts";
import { MAX_K, registerIndexKind } from "./vector_index.ts";

/** The numeric parameters of the `hnsw` kind. */
export type HnswNumericParam = Exclude<keyof HnswParams, "codes">;

/** Parameter ranges of the `hnsw` kind (declared once: validation, docs and `info` read them). */
export const HNSW_PARAM_RANGES: Readonly<Record<HnswNumericParam, readonly [number, number, number]>> = {
  M: [2, 128, 16],
  efConstruction: [1, 65536, 200],
  efSearch: [1, 1 << 24, 64],
  seed: [-(2 ** 31), 2 ** 32 - 1, 42],
};

/** Highest level a node can get (P = M^-16 is far below one in 2⁶⁴ for M ≥ 16). */
const MAX_LEVEL = 16;
const MAX_ID = 2 ** 31 - 1;

/** How a search finds its neighbours: the rule above, the graph walk, or an exact scan. */
export type HnswSearchMode = "auto" | "graph" | "exact";

/** Search options of the `hnsw` kind (the contract's options plus `mode`). */
export interface HnswSearchOptions extends IndexSearchOptions {
  /** `auto` [default]: exact scan when few rows are eligible (see the module doc), else the graph. */
  mode?: HnswSearchMode;
}

/** Options of {@link createHnswIndex}: the contract's options plus the kernel build. */
export interface HnswIndexOptions extends IndexOptions {
  /** Kernel build: `simd` [when the runtime has WebAssembly SIMD] or `scalar`. */
  variant?: HnswVariant;
  /**
   * Threads that link the rows of an `add` (1–16 [1]): with 2 or more the memory is shared and
   * `threads − 1` Workers link beside the calling thread, each node's lists under a spin lock.
   * Such a graph is not bit-identical to a one-thread build (nor from run to run) but meets the
   * same recall; a one-thread build is deterministic for a seed. Not saved: pass it to
   * {@link loadHnswIndex} again for threaded adds after a load.
   */
  buildThreads?: number;
}

/** Range of {@link HnswIndexOptions.buildThreads}. */
export const HNSW_BUILD_THREADS: readonly [number, number, number] = [1, 16, 1];

const KIND_OF: Record<Metric, 0 | 1 | 2> = { dot: 0, cosine: 0, l2: 1, sqeuclidean: 1, l1: 2 };

function checkIntIn(value: unknown, name: string, [lo, hi]: readonly [number, number, number]): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < lo || value > hi) {
    throw new ValueError(
      "INVALID_ARGUMENT",
      `Invalid ${name}: expected an integer from ${lo} to ${hi}, got ${String(value)}`,
      {
        details: { name, value, min: lo, max: hi },
      },
    );
  }
  return value;
}

/** Validated HNSW parameters with defaults filled in. */
function checkParams(p: HnswParams | undefined): Required<HnswParams> {
  if (p !== undefined && (p === null || typeof p !== "object")) {
    throw new ValueError(
      "INVALID_ARGUMENT",
      "Invalid hnsw: expected { M?, efConstruction?, efSearch?, seed?, codes? }",
    );
  }
  const r = HNSW_PARAM_RANGES;
  return {
    M: checkIntIn(p?.M ?? r.M[2], "hnsw.M", r.M),
    efConstruction: checkIntIn(p?.efConstruction ?? r.efConstruction[2], "hnsw.efConstruction", r.efConstruction),
    efSearch: checkIntIn(p?.efSearch ?? r.efSearch[2], "hnsw.efSearch", r.efSearch),
    seed: checkIntIn(p?.seed ?? r.seed[2], "hnsw.seed", r.seed),
    codes: checkOneOf(p?.codes ?? "float32", HNSW_CODES, "hnsw.codes"),
  };
}

/** The level of a new node from one uniform draw: the largest l with u < M^-l (no logarithm). */
function levelOf(u: number, M: number): number {
  let level = 0;
  let p = 1 / M;
  while (u < p && level < MAX_LEVEL) {
    level++;
    p /= M;
  }
  return level;
}

/** Rows scaled to unit length in float64, stored as float32 (zero rows stay zero). */
function normalizeRows(data: Float32Array, rows: number, dim: number): Float32Array {
  const out = new Float32Array(rows * dim);
  for (let i = 0; i < rows; i++) {
    let s = 0;
    for (let k = 0; k < dim; k++) s += data[i * dim + k] * data[i * dim + k];
    const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
    for (let k = 0; k < dim; k++) out[i * dim + k] = data[i * dim + k] * inv;
  }
  return out;
}

function disposedError(): ValueError {
  return new ValueError("INVALID_ARGUMENT", "This index was disposed; create or load a new one");
}

/**
 * Create an empty `hnsw` index.
 *
 * @param options dim, metric [cosine], hnsw params (M 2–128 [16], efConstruction 1–65,536 [200],
 *   efSearch 1–2²⁴ [64], seed [42], codes float32 | int8 [float32]), capacity [1024], variant
 * @returns the index
 * @throws {ValueError} INVALID_ARGUMENT for a parameter outside its range; UNKNOWN_NAME for an unknown
 *   metric, kind, codes or variant; UNSUPPORTED for `simd`
 *   without WebAssembly SIMD
 * @example
 * ```ts
 * import { createHnswIndex } from "@likeness/backend";
 * const index = await createHnswIndex({ dim: 2, metric: "l2", hnsw: { M: 8, seed: 1 } });
 * await index.add({ data: new Float32Array([0, 0, 1, 0, 0, 1]), rows: 3, cols: 2 });
 * const r = await index.search({ data: new Float32Array([0.9, 0.1]), rows: 1, cols: 2 }, { k: 1 });
 * console.log(r.ids[0]); // 1
 * index.dispose();
 * ```
 */
export async function createHnswIndex(options: HnswIndexOptions): Promise<HnswIndex> {
  if (!options || typeof options !== "object") {
    throw new ValueError("INVALID_ARGUMENT", "Cannot create an index: pass options { dim, metric?, hnsw? }");
  }
  const kind = options.kind ?? "hnsw";
  if (kind !== "hnsw") {
    throw new ValueError("UNKNOWN_NAME", `createHnswIndex builds the "hnsw" kind, not ${JSON.stringify(kind)}`);
  }
  const dim = checkIntIn(options.dim, "dim", [1, 65536, 0]);
  const metric = options.metric ?? "cosine";
  if (!(METRICS as readonly string[]).includes(metric)) {
    throw new ValueError("UNKNOWN_NAME", `Unknown metric ${JSON.stringify(metric)}: use one of ${METRICS.join(", ")}`);
  }
  const params = checkParams(options.hnsw);
  const capacity = checkIntIn(options.capacity ?? 1024, "capacity", [1, 2 ** 26, 1024]);
  const variant = checkVariant(options.variant);
  const codes = params.codes === "int8";
  const threads = checkIntIn(options.buildThreads ?? 1, "buildThreads", HNSW_BUILD_THREADS);
  const graph = await HnswGraph.create({
    dim,
    kind: KIND_OF[metric],
    M: params.M,
    variant,
    capacity,
    codes,
    threads,
  });
  return new HnswIndex(graph, metric, params, params.seed);
}

function checkVariant(v: unknown): HnswVariant {
  if (v === undefined) return hasWasmSimd() ? "simd" : "scalar";
  if (v !== "simd" && v !== "scalar") {
    throw new ValueError("UNKNOWN_NAME", `Unknown variant ${JSON.stringify(v)}: use one of simd, scalar`);
  }
  if (v === "simd" && !hasWasmSimd()) {
    throw new ValueError("UNSUPPORTED", `WebAssembly SIMD is not available in this runtime; use variant "scalar"`);
  }
  return v;
}

/** Options of {@link loadHnswIndex}. */
export interface LoadHnswOptions {
  /** Expected dimension: a saved index of another dimension is rejected (SHAPE_MISMATCH). */
  dim?: number;
  /** Expected kind: anything but `hnsw` is rejected (UNSUPPORTED). */
  kind?: IndexKind;
  /** Kernel build to search with [best available]. */
  variant?: HnswVariant;
  /** Threads of later adds (see {@link HnswIndexOptions.buildThreads}) [1]. */
  buildThreads?: number;
  /**
   * Walk on other rows than the file's [as saved]: `int8` on a float32 file fits a quantizer on the
   * rows and encodes them (the graph is the same: builds always run on float32 rows), `float32` on
   * an int8 file drops the codes. Saving the index then saves it with these codes.
   */
  codes?: HnswParams["codes"];
}

/**
 * Load an `hnsw` index saved by {@link HnswIndex.save} from one buffer: one pass over the bytes,
 * one copy into WebAssembly memory, no rebuild. `loadIndex` of `vector_index.ts` reaches the same
 * code for files of kind `hnsw`.
 *
 * @param bytes the saved bytes
 * @param options expected dim and kind, variant
 * @returns the index
 * @throws {LikenessError} CORRUPT for a truncated, damaged or inconsistent file
 * @throws {ShapeError} SHAPE_MISMATCH when `dim` is given and differs
 * @throws {ValueError} UNSUPPORTED when the file holds another kind (or `kind` is not `hnsw`)
 * @example
 * ```ts
 * import { createHnswIndex, loadHnswIndex } from "@likeness/backend";
 * const a = await createHnswIndex({ dim: 2, metric: "l2" });
 * await a.add({ data: new Float32Array([0, 0, 1, 0]), rows: 2, cols: 2 });
 * const b = await loadHnswIndex(await a.save(), { dim: 2 });
 * console.log(b.size, b.info().params.M); // 2 16
 * a.dispose();
 * b.dispose();
 * ```
 */
export async function loadHnswIndex(bytes: Uint8Array, options: LoadHnswOptions = {}): Promise<HnswIndex> {
  if (options.kind !== undefined && options.kind !== "hnsw") {
    throw new ValueError("UNSUPPORTED", `loadHnswIndex reads the "hnsw" kind, not ${JSON.stringify(options.kind)}`);
  }
  const decoded = decodeIndex(bytes);
  const h = decoded.header;
  if (h.kind !== "hnsw") {
    throw new ValueError("UNSUPPORTED", `The saved index is of kind ${JSON.stringify(h.kind)}, not "hnsw"`, {
      details: { kind: h.kind },
    });
  }
  if (options.dim !== undefined && options.dim !== h.dim) {
    throw new ShapeError(
      `Cannot load the index: it has dimension ${h.dim} but ${options.dim} was expected`,
      "SHAPE_MISMATCH",
      {
        details: { saved: h.dim, expected: options.dim },
      },
    );
  }
  const threads = checkIntIn(options.buildThreads ?? 1, "buildThreads", HNSW_BUILD_THREADS);
  const codes = options.codes === undefined ? undefined : checkOneOf(options.codes, HNSW_CODES, "codes");
  return await fromDecoded(decoded, checkVariant(options.variant), threads, codes);
}

function corrupt(why: string): LikenessError {
  return new LikenessError("CORRUPT", `Cannot load the hnsw index: ${why}; save it again from a live index`);
}

/** Ints of the HNSW section's fixed head: graph rows, upper slots used, entry, top level, M. */
const HNSW_HEAD = 5;

/** The `HNSW` section: head, then levels, upperOff, links0, upper (int32) and tombstones (bytes). */
function encodeGraph(a: HnswGraphArrays, M: number): Uint8Array {
  const n = a.count;
  const ints = HNSW_HEAD + 2 * n + a.links0.length + a.upper.length;
  const out = new Uint8Array(ints * 4 + n);
  const i32 = new Int32Array(out.buffer, 0, ints);
  i32.set([n, a.upper.length, a.entry, a.maxLevel, M]);
  let at = HNSW_HEAD;
  for (const part of [a.levels, a.upperOff, a.links0, a.upper]) {
    i32.set(part, at);
    at += part.length;
  }
  out.set(a.deleted, ints * 4);
  return out;
}

async function fromDecoded(
  decoded: DecodedIndex,
  variant: HnswVariant,
  threads = 1,
  codesAs?: HnswParams["codes"],
): Promise<HnswIndex> {
  const h = decoded.header;
  const dim = h.dim;
  if (dim > 65536) throw corrupt(`dimension ${dim}`);
  const metric = h.metric;
  const metaBytes = decoded.sections.get("META");
  if (!metaBytes) throw corrupt("the META section is missing");
  let meta: { params?: HnswParams; rngState?: number };
  try {
    meta = JSON.parse(new TextDecoder().decode(metaBytes));
  } catch {
    throw corrupt("the META section is not JSON");
  }
  let params: Required<HnswParams>;
  try {
    params = checkParams(meta.params);
  } catch {
    throw corrupt("the META parameters are out of range");
  }
  const rngState = meta.rngState;
  if (typeof rngState !== "number" || !Number.isInteger(rngState) || rngState < 0 || rngState >= 2 ** 32) {
    throw corrupt("the META rngState");
  }
  const M = params.M;
  const g = decoded.sections.get("HNSW");
  if (!g) throw corrupt("the HNSW section is missing");
  if (g.byteLength < HNSW_HEAD * 4) throw corrupt("the HNSW section is short");
  const head = new Int32Array(g.slice(0, HNSW_HEAD * 4).buffer);
  const [count, upperUsed, entry, maxLevel, savedM] = head;
  if (savedM !== M || count !== h.rows || upperUsed < 0 || entry < -1 || entry >= count) {
    throw corrupt("the HNSW section head does not match the header");
  }
  const ints = HNSW_HEAD + 2 * count + count * (1 + 2 * M) + upperUsed;
  if (g.byteLength !== ints * 4 + count) throw corrupt(`the HNSW section has ${g.byteLength} bytes`);
  // Views of the file's bytes where they are 4-byte aligned (restore copies them into WebAssembly
  // memory; a copy here as well cost as much again at 1,000,000 rows).
  const all = int32View(g, ints);
  let at = HNSW_HEAD;
  const take = (len: number) => all.subarray(at, at += len);
  const arrays: HnswGraphArrays = {
    count,
    entry,
    maxLevel,
    levels: take(count),
    upperOff: take(count),
    links0: take(count * (1 + 2 * M)),
    upper: take(upperUsed),
    vectors: vecsView(decoded.sections, count * dim),
    deleted: g.slice(ints * 4),
  };
  const ids = sectionArray(decoded.sections, "IDS ", count, "i32");
  const labels = sectionArray(decoded.sections, "LABL", count, "i32");
  checkGraph(arrays, M);
  if ((entry < 0) !== (count === 0) || (entry >= 0 && arrays.levels[entry] !== maxLevel)) {
    throw corrupt("the entry point");
  }
  // Non-finite float32: every exponent bit set (the bits as integers: cheaper than Number.isFinite).
  const bits = new Uint32Array(arrays.vectors.buffer, arrays.vectors.byteOffset, arrays.vectors.length);
  for (let i = 0; i < bits.length; i++) {
    if ((bits[i] & 0x7f800000) === 0x7f800000) throw corrupt("a non-finite row value");
  }
  const live = new Map<number, number>();
  for (let i = 0; i < count; i++) {
    if (ids[i] < 0 || ids[i] >= MAX_ID) throw corrupt(`the id at row ${i}`);
    if (arrays.deleted[i] > 1) throw corrupt(`the tombstone byte at row ${i}`);
    if (arrays.deleted[i] === 0) {
      if (live.has(ids[i])) throw corrupt(`live id ${ids[i]} appears twice`);
      live.set(ids[i], i);
    }
  }
  if (h.nextId > MAX_ID) throw corrupt("the next id");
  const codes = params.codes === "int8";
  if (codes !== (h.version >= 2 && decoded.sections.has("HQ8 "))) {
    throw corrupt(
      codes ? "the int8 codes' quantizer (HQ8, version 2) is missing" : "an HQ8 section without int8 codes",
    );
  }
  if (codes) arrays.quantizer = quantizerOf(decoded.sections.get("HQ8 ")!, dim);
  // Other codes than saved: the saved quantizer goes (a float32 walk), or one is fitted on the rows.
  if (codesAs !== undefined && codesAs !== params.codes) {
    delete arrays.quantizer;
    params = { ...params, codes: codesAs };
  }
  const graph = await HnswGraph.create({
    dim,
    kind: KIND_OF[metric],
    M,
    variant,
    capacity: Math.max(count, 16),
    codes: params.codes === "int8",
    threads,
  });
  graph.restore(arrays);
  const index = new HnswIndex(graph, metric, params, rngState);
  index._restoreRows(ids, labels, live, h.nextId);
  return index;
}

/** The first `n` int32 of `bytes`: a view when aligned, else a copy. */
function int32View(bytes: Uint8Array, n: number): Int32Array {
  return bytes.byteOffset % 4 === 0
    ? new Int32Array(bytes.buffer, bytes.byteOffset, n)
    : new Int32Array(bytes.slice(0, n * 4).buffer);
}

/** The `VECS` section as float32 (a view when aligned, else a copy; CORRUPT when missing or of another size). */
function vecsView(sections: Map<string, Uint8Array>, n: number): Float32Array {
  const p = sections.get("VECS");
  if (!p || p.byteLength !== n * 4 || p.byteOffset % 4 !== 0) return sectionArray(sections, "VECS", n, "f32");
  return new Float32Array(p.buffer, p.byteOffset, n);
}

/** The `HQ8 ` section: dim float32 offsets, then the float32 scale (finite, > 0). */
function quantizerOf(bytes: Uint8Array, dim: number): HnswQuantizer {
  if (bytes.byteLength !== (dim + 1) * 4) throw corrupt(`the HQ8 section has ${bytes.byteLength} bytes`);
  const f = new Float32Array(bytes.slice().buffer);
  for (let i = 0; i <= dim; i++) if (!Number.isFinite(f[i])) throw corrupt("a non-finite value in HQ8");
  if (!(f[dim] > 0)) throw corrupt("the HQ8 scale");
  return { offset: f.slice(0, dim), scale: f[dim] };
}

/** The variant matching a backend: scalar for `wasm`, else the best available. */
function variantFor(backend: Backend | undefined): HnswVariant {
  return backend?.info.name === "wasm" ? "scalar" : checkVariant(undefined);
}

registerIndexKind("hnsw", {
  create: (options, backend) => createHnswIndex({ ...options, variant: variantFor(backend) }),
  load: (decoded, backend, o) =>
    fromDecoded(
      decoded,
      variantFor(backend),
      checkIntIn(o?.buildThreads ?? 1, "buildThreads", HNSW_BUILD_THREADS),
      o?.codes === undefined ? undefined : checkOneOf(o.codes, HNSW_CODES, "codes"),
    ),
});

/** Lists and levels in range (so the kernel never reads outside its regions). */
function checkGraph(a: HnswGraphArrays, M: number): void {
  const n = a.count;
  const s0 = 1 + 2 * M;
  for (let i = 0; i < n; i++) {
    const c = a.links0[i * s0];
    if (c < 0 || c > 2 * M) throw corrupt(`layer-0 list of row ${i}`);
    for (let j = 1; j <= c; j++) {
      const v = a.links0[i * s0 + j];
      if (v < 0 || v >= n) throw corrupt(`layer-0 link of row ${i}`);
    }
    const L = a.levels[i];
    if (L < 0 || L > MAX_LEVEL) throw corrupt(`level of row ${i}`);
    if (L > 0) {
      const o = a.upperOff[i];
      if (o < 0 || o + L * (1 + M) > a.upper.length) throw corrupt(`upper lists of row ${i}`);
      for (let l = 0; l < L; l++) {
        const c2 = a.upper[o + l * (1 + M)];
        if (c2 < 0 || c2 > M) throw corrupt(`upper list of row ${i}`);
        for (let j = 1; j <= c2; j++) {
          const v = a.upper[o + l * (1 + M) + j];
          if (v < 0 || v >= n || a.levels[v] < l + 1) throw corrupt(`upper link of row ${i}`);
        }
      }
    }
  }
}

/**
 * An HNSW index (create it with {@link createHnswIndex}, read one back with {@link loadHnswIndex}).
 * Calls run one at a time in order; see the module doc for the algorithm and the filter rule.
 */
export class HnswIndex implements VectorIndex {
  /** Kind: always `hnsw`. */
  readonly kind: IndexKind = "hnsw";
  /** Metric. */
  readonly metric: Metric;
  /** Dimension. */
  readonly dim: number;
  private graph: HnswGraph;
  private readonly params: Required<HnswParams>;
  private rngState: number;
  /** Row (insertion position) → id. */
  private ids: Int32Array = new Int32Array(16);
  /** Row → label (-1 = none). */
  private labels: Int32Array = new Int32Array(16);
  /** Live id → row. */
  private live = new Map<number, number>();
  private nextId = 0;
  private disposed = false;
  private queue: Promise<unknown> = Promise.resolve();

  /** @internal use {@link createHnswIndex} or {@link loadHnswIndex}. */
  constructor(graph: HnswGraph, metric: Metric, params: Required<HnswParams>, rngState: number) {
    this.graph = graph;
    this.metric = metric;
    this.dim = graph.dim;
    this.params = params;
    this.rngState = rngState >>> 0;
  }

  /** @internal rows of a loaded index. */
  _restoreRows(ids: Int32Array, labels: Int32Array, live: Map<number, number>, nextId: number): void {
    this.ensureRowArrays(ids.length);
    this.ids.set(ids);
    this.labels.set(labels);
    this.live = live;
    this.nextId = nextId;
  }

  /** Live rows. */
  get size(): number {
    return this.live.size;
  }

  /** Bytes held: WebAssembly memory laid out (rows, graph, scratch) plus the id and label arrays. */
  get memoryBytes(): number {
    return this.graph.memoryBytes + this.ids.byteLength + this.labels.byteLength;
  }

  /** Rows in the graph, tombstones included (the `n` of the filter rule). */
  get graphRows(): number {
    return this.graph.count;
  }

  /**
   * Kind, size, parameters and where it runs.
   *
   * @returns the info
   */
  info(): IndexInfo {
    return {
      kind: "hnsw",
      metric: this.metric,
      dim: this.dim,
      size: this.size,
      memoryBytes: this.memoryBytes,
      detail: `wasm ${this.graph.variant} build, ${
        this.graph.threads === 1 ? "searches on 1 thread" : `batches searched across ${this.graph.threads} threads`
      }, graph built on ${this.graph.threads} thread${this.graph.threads === 1 ? "" : "s"}; ${
        this.params.codes === "int8" ? "walk on int8 codes, float32 rerank; " : ""
      }${this.graph.count - this.size} tombstones`,
      params: {
        M: this.params.M,
        efConstruction: this.params.efConstruction,
        efSearch: this.params.efSearch,
        seed: this.params.seed,
      },
    };
  }

  private serial<T>(f: () => T | Promise<T>): Promise<T> {
    if (this.disposed) return Promise.reject(disposedError());
    const run = this.queue.then(() => {
      if (this.disposed) throw disposedError();
      return f();
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  private ensureRowArrays(n: number): void {
    if (n <= this.ids.length) return;
    let c = this.ids.length;
    while (c < n) c *= 2;
    const ids = new Int32Array(c);
    ids.set(this.ids);
    const labels = new Int32Array(c);
    labels.set(this.labels);
    this.ids = ids;
    this.labels = labels;
  }

  private checkRows(m: Matrix, what: string): void {
    checkMatrix(m, what);
    if (m.cols !== this.dim) {
      throw new ShapeError(
        `Cannot use ${what}: it has ${m.cols} columns but the index has dimension ${this.dim}`,
        "SHAPE_MISMATCH",
        { details: { cols: m.cols, dim: this.dim } },
      );
    }
  }

  /**
   * Append rows and link them into the graph (no rebuild). Cosine rows are normalised once here.
   *
   * @param vectors rows × dim
   * @param options ids (unique, not live) and labels (integers)
   * @returns the ids of the new rows
   * @throws {ShapeError} SHAPE_MISMATCH, EMPTY_INPUT; OUT_OF_RANGE for an id outside [0, 2³¹ − 1)
   * @throws {ValueError} NON_FINITE; CONFLICT for a duplicate or live id; INVALID_ARGUMENT for bad labels
   * @throws {LikenessError} WORKER_FAILED when a build Worker (buildThreads ≥ 2) dies: nothing is added
   */
  add(vectors: Matrix, options: AddOptions = {}): Promise<Int32Array> {
    return this.serial(async () => {
      this.checkRows(vectors, "vectors");
      const n = vectors.rows;
      const ids = new Int32Array(n);
      if (options.ids !== undefined) {
        if (options.ids.length !== n) {
          throw new ShapeError(`Cannot add: ${options.ids.length} ids for ${n} rows`, "SHAPE_MISMATCH");
        }
        const seen = new Set<number>();
        for (let i = 0; i < n; i++) {
          const id = options.ids[i];
          if (!Number.isInteger(id) || id < 0 || id >= MAX_ID) {
            throw new ShapeError(`Cannot add: id ${id} at row ${i} is not an integer in [0, 2^31 - 1)`, "OUT_OF_RANGE");
          }
          if (seen.has(id) || this.live.has(id)) {
            throw new ValueError("CONFLICT", `Cannot add: id ${id} is ${seen.has(id) ? "repeated" : "already live"}`, {
              details: { id },
            });
          }
          seen.add(id);
          ids[i] = id;
        }
      } else {
        if (this.nextId + n > MAX_ID) throw new ShapeError("Cannot add: ids would pass 2^31 - 1", "OUT_OF_RANGE");
        for (let i = 0; i < n; i++) {
          if (this.live.has(this.nextId + i)) {
            throw new ValueError("CONFLICT", `Cannot add: the next id ${this.nextId + i} is already live; pass ids`);
          }
          ids[i] = this.nextId + i;
        }
      }
      const labels = new Int32Array(n).fill(-1);
      if (options.labels !== undefined) {
        if (options.labels.length !== n) {
          throw new ShapeError(`Cannot add: ${options.labels.length} labels for ${n} rows`, "LABEL_MISMATCH");
        }
        for (let i = 0; i < n; i++) {
          const l = options.labels[i];
          if (!Number.isInteger(l) || l < -(2 ** 31) || l >= 2 ** 31) {
            throw new ValueError("INVALID_ARGUMENT", `Cannot add: label ${l} at row ${i} is not a 32-bit integer`);
          }
          labels[i] = l;
        }
      }
      // Validated: from here on nothing throws for bad input.
      const rows = this.metric === "cosine" ? normalizeRows(vectors.data, n, this.dim) : vectors.data;
      const rng = createRng(this.rngState);
      const levels = new Int32Array(n);
      for (let i = 0; i < n; i++) levels[i] = levelOf(rng.next(), this.params.M);
      const r0 = this.graph.count;
      this.ensureRowArrays(r0 + n);
      await this.graph.addThreaded(rows, levels, this.params.efConstruction);
      if (16 * n >= this.graph.count) this.graph.repair(this.params.efConstruction);
      this.rngState = rng.state();
      this.ids.set(ids, r0);
      this.labels.set(labels, r0);
      for (let i = 0; i < n; i++) {
        this.live.set(ids[i], r0 + i);
        if (ids[i] >= this.nextId) this.nextId = ids[i] + 1;
      }
      return ids;
    });
  }

  /**
   * Tombstone ids: searches skip them at once, {@link HnswIndex.compact} reclaims them.
   *
   * @param ids live ids (no repeats)
   * @returns the number removed
   * @throws {ValueError} NOT_FOUND for an id that is not live, INVALID_ARGUMENT for a repeated id (nothing
   *   removed)
   */
  remove(ids: ArrayLike<number>): Promise<number> {
    return this.serial(() => {
      if (!ids || typeof ids.length !== "number") {
        throw new ValueError("INVALID_ARGUMENT", "Cannot remove: pass an array of ids");
      }
      const seen = new Set<number>();
      for (let i = 0; i < ids.length; i++) {
        if (!this.live.has(ids[i])) {
          throw new ValueError("NOT_FOUND", `Cannot remove: id ${ids[i]} is not in the index`, {
            details: { id: ids[i] },
          });
        }
        if (seen.has(ids[i])) {
          throw new ValueError("INVALID_ARGUMENT", `Cannot remove: id ${ids[i]} appears twice in one call`);
        }
        seen.add(ids[i]);
      }
      for (const id of seen) {
        this.graph.markDeleted(this.live.get(id)!);
        this.live.delete(id);
      }
      return seen.size;
    });
  }

  /**
   * Whether an id is live.
   *
   * @param id an id
   * @returns true when it was added and not removed
   */
  has(id: number): boolean {
    return this.live.has(id);
  }

  /** Eligibility bytes per row (live and passing the filter) and their count. */
  private eligibility(filter: IndexFilter | undefined): { mask: Uint8Array | null; count: number } {
    const n = this.graph.count;
    if (!filter) return { mask: null, count: this.live.size };
    if (typeof filter !== "object") {
      throw new ValueError("INVALID_ARGUMENT", "Invalid filter: expected { labels?, ids? }");
    }
    let mask: Uint8Array | null = null;
    if (filter.labels !== undefined) {
      const want = new Set<number>();
      for (let i = 0; i < filter.labels.length; i++) {
        if (!Number.isInteger(filter.labels[i])) {
          throw new ValueError("INVALID_ARGUMENT", `Invalid filter: label ${filter.labels[i]} is not an integer`);
        }
        want.add(filter.labels[i]);
      }
      mask = new Uint8Array(n);
      for (let r = 0; r < n; r++) mask[r] = want.has(this.labels[r]) ? 1 : 0;
    }
    if (filter.ids !== undefined) {
      const set = filter.ids instanceof Set
        ? filter.ids as ReadonlySet<number>
        : new Set(Array.from(filter.ids as ArrayLike<number>));
      const m2 = new Uint8Array(n);
      for (const id of set) {
        const r = this.live.get(id);
        if (r !== undefined) m2[r] = 1;
      }
      if (mask) { for (let r = 0; r < n; r++) mask[r] &= m2[r]; }
      else mask = m2;
    }
    if (!mask) return { mask: null, count: this.live.size };
    let count = 0;
    const deleted = this.graph.deletedView();
    for (let r = 0; r < n; r++) {
      if (deleted[r]) mask[r] = 0;
      count += mask[r];
    }
    return { mask, count };
  }

  /**
   * Whether a search over `eligible` of the graph's rows scans them exactly (the rule of the module doc).
   *
   * @param eligible eligible live rows
   * @param ef candidate list size of the search
   * @returns true for the exact scan
   */
  usesExactScan(eligible: number, ef: number): boolean {
    return 2 * eligible * eligible <= this.params.M * ef * this.graph.count;
  }

  /**
   * k nearest live rows per query (all queries in one kernel call).
   *
   * @param queries rows × dim
   * @param options k (1 ≤ k ≤ size, or any k ≤ 4096 with `allowFewer`: -1 / NaN padding), filter,
   *   efSearch (this call), mode
   * @returns ids and metric values, best first; -1 / NaN where fewer than k rows are eligible
   * @throws {ShapeError} SHAPE_MISMATCH, EMPTY_INPUT; K_TOO_LARGE when k > size or k > 4096
   * @throws {ValueError} INVALID_ARGUMENT for efSearch out of range
   * @throws {ValueError} NON_FINITE; INVALID_ARGUMENT for bad k, filter or mode
   */
  search(queries: Matrix, options: HnswSearchOptions): Promise<IndexSearchResult> {
    return this.serial(async () => {
      if (!options || typeof options !== "object") {
        throw new ValueError("INVALID_ARGUMENT", "Cannot search: pass options { k, filter?, efSearch? }");
      }
      this.checkRows(queries, "queries");
      if (options.exclude !== undefined) {
        throw new LikenessError("UNSUPPORTED", "Cannot search: `exclude` is supported by the flat index kind only");
      }
      const k = options.k;
      if (!Number.isInteger(k) || k < 1) {
        throw new ValueError("INVALID_ARGUMENT", `Invalid k: expected a positive integer, got ${k}`);
      }
      if (k > MAX_K) throw new ShapeError(`Cannot take top-${k}: at most k = ${MAX_K} is supported`, "K_TOO_LARGE");
      if (k > this.size && !options.allowFewer) {
        throw new ShapeError(
          `Cannot search: k = ${k} but the index holds ${this.size} live rows; use k ≤ ${this.size}`,
          "K_TOO_LARGE",
          { details: { k, size: this.size } },
        );
      }
      const ef = options.efSearch === undefined
        ? this.params.efSearch
        : checkIntIn(options.efSearch, "efSearch", HNSW_PARAM_RANGES.efSearch);
      const mode = options.mode ?? "auto";
      if (mode !== "auto" && mode !== "graph" && mode !== "exact") {
        throw new ValueError("INVALID_ARGUMENT", `Invalid mode ${JSON.stringify(mode)}: use auto, graph or exact`);
      }
      const { mask, count } = this.eligibility(options.filter);
      const nq = queries.rows;
      const q = this.metric === "cosine" ? normalizeRows(queries.data, nq, this.dim) : queries.data;
      const exact = mode === "exact" || (mode === "auto" && this.usesExactScan(count, Math.max(ef, k)));
      let out: { nodes: Int32Array; dists: Float32Array };
      if (exact) {
        const list = new Int32Array(count);
        let j = 0;
        const deleted = this.graph.deletedView();
        for (let r = 0; r < this.graph.count; r++) {
          if (mask ? mask[r] : !deleted[r]) list[j++] = r;
        }
        out = this.graph.exact(q, nq, k, list);
      } else {
        // With buildThreads ≥ 2 the batch is split across the build's threads (same results).
        out = await this.graph.searchThreaded(q, nq, k, ef, mask);
      }
      const ids = new Int32Array(nq * k);
      const values = new Float32Array(nq * k);
      for (let i = 0; i < nq * k; i++) {
        const node = out.nodes[i];
        if (node < 0) {
          ids[i] = -1;
          values[i] = NaN;
          continue;
        }
        ids[i] = this.ids[node];
        const d = out.dists[i];
        values[i] = this.metric === "dot" || this.metric === "cosine"
          ? -d
          : this.metric === "l2"
          ? Math.sqrt(Math.max(d, 0))
          : d;
      }
      return { ids, values, rows: nq, k };
    });
  }

  /**
   * Rebuild the graph from the live rows (insertion order and levels kept) and drop the
   * tombstones; ids stay the same. Costs one build of the live rows.
   */
  compact(): Promise<void> {
    return this.serial(async () => {
      const n = this.graph.count;
      if (n === this.live.size) return;
      const a = this.graph.arrays();
      const keep: number[] = [];
      for (let r = 0; r < n; r++) if (a.deleted[r] === 0) keep.push(r);
      const rows = new Float32Array(keep.length * this.dim);
      const levels = new Int32Array(keep.length);
      const ids = new Int32Array(Math.max(16, keep.length));
      const labels = new Int32Array(Math.max(16, keep.length));
      keep.forEach((r, i) => {
        rows.set(a.vectors.subarray(r * this.dim, (r + 1) * this.dim), i * this.dim);
        levels[i] = a.levels[r];
        ids[i] = this.ids[r];
        labels[i] = this.labels[r];
      });
      const g = await HnswGraph.create({
        dim: this.dim,
        kind: this.graph.kind,
        M: this.params.M,
        variant: this.graph.variant,
        capacity: Math.max(16, keep.length),
        codes: this.graph.codes,
        threads: this.graph.threads,
      });
      g.add(rows, levels, this.params.efConstruction);
      g.repair(this.params.efConstruction);
      this.graph.dispose();
      this.graph = g;
      this.ids = ids;
      this.labels = labels;
      this.live = new Map(keep.map((_, i) => [ids[i], i]));
    });
  }

  /**
   * Serialise to the shared `LKIX` format (`index_format.ts`): `META` (JSON: params, the level
   * generator's state, the kernel build), `IDS `, `LABL`, `VECS` for every graph row (tombstones
   * included, so `rows` counts them), and `HNSW`: five int32 (graph rows, upper slots used, entry,
   * top level, M), then int32 levels, upper offsets, layer-0 lists (1 + 2M per row), upper lists,
   * then one tombstone byte per row. With int8 codes the file is version 2 and adds `HQ8 `
   * (float32 offsets × dim, then the scale); the codes follow from it and the rows on load.
   * Loading it needs no rebuild.
   *
   * @returns the bytes
   */
  save(): Promise<Uint8Array> {
    return this.serial(() => {
      const a = this.graph.arrays();
      const n = a.count;
      const meta = { params: this.params, rngState: this.rngState, variant: this.graph.variant };
      const q = a.quantizer;
      const hq8: [string, Uint8Array][] = [];
      if (this.graph.codes) {
        const f = new Float32Array(this.dim + 1);
        // An empty graph has no quantizer yet: a neutral one (load refits on the first rows anyway).
        f.set(q ? q.offset : new Float32Array(this.dim));
        f[this.dim] = q ? q.scale : 1;
        hq8.push(["HQ8 ", bytesOf(f)]);
      }
      return encodeIndex({
        version: this.graph.codes ? 2 : 1,
        kind: "hnsw",
        metric: this.metric,
        dim: this.dim,
        rows: n,
        nextId: this.nextId,
        flags: this.metric === "cosine" ? FLAG_NORMALIZED : 0,
      }, [
        ["META", new TextEncoder().encode(JSON.stringify(meta))],
        ["IDS ", bytesOf(this.ids.slice(0, n))],
        ["LABL", bytesOf(this.labels.slice(0, n))],
        ["VECS", bytesOf(a.vectors)],
        ["HNSW", encodeGraph(a, this.params.M)],
        ...hq8,
      ]);
    });
  }

  /**
   * The graph's arrays (layer-0 and upper lists, levels): for graph-equality tests and tools.
   *
   * @returns copies of the arrays
   */
  graphArrays(): Promise<HnswGraphArrays> {
    return this.serial(() => this.graph.arrays());
  }

  /** Release the memory; later calls reject. */
  dispose(): void {
    this.disposed = true;
    this.graph.dispose();
  }

  /**
   * Rows each thread linked in the last threaded add (calling thread first), or null when no add
   * ran threaded yet (with `buildThreads` 1, or adds of fewer than 64 rows).
   */
  get buildShares(): number[] | null {
    return this.graph.lastBuildShares?.slice() ?? null;
  }

  /**
   * Test-only: make build Worker `tid` die (`throw`: during the next threaded add, which then
   * rejects with WORKER_FAILED and adds nothing; `terminate`: now).
   *
   * @param how `throw` or `terminate`
   * @param tid 1 ≤ tid < buildThreads
   */
  injectBuildFault(how: "throw" | "terminate", tid: number): Promise<void> {
    return this.serial(() => this.graph.injectBuildFault(how, tid));
  }
}
