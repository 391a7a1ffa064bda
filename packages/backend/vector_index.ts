/**
 * The resident vector index: `createIndex(options, backend?)` and `loadIndex(bytes, backend?)`
 * build a {@link VectorIndex} of kind `flat` (exact float32), `int8` (per-dimension scalar
 * quantisation, int8 scores, exact float32 rerank of `k × oversample`) or `binary` (sign bits,
 * Hamming prefilter, exact float32 rerank). On `wasm`/`wasm-simd` the float32 rows live in the
 * dense kernel module's WebAssembly memory (shared with its Workers when the backend has
 * threads); on `js` in a Float32Array searched in float64 (the reference); `webgpu` delegates to
 * wasm-simd and says so in `info().detail`.
 *
 * @example
 * ```ts
 * import { createIndex, loadIndex } from "@likeness/backend";
 * const index = await createIndex({ dim: 2, metric: "cosine" });
 * await index.add({ data: new Float32Array([1, 0, 0, 1, 1, 1]), rows: 3, cols: 2 }, { labels: [0, 1, 1] });
 * const r = await index.search({ data: new Float32Array([1, 0.1]), rows: 1, cols: 2 }, { k: 2 });
 * console.log(r.ids); // Int32Array [0, 2]
 * const copy = await loadIndex(await index.save());
 * console.log(copy.size); // 3
 * index.dispose();
 * copy.dispose();
 * ```
 *
 * @module
 */
import {
  checkFiniteNumber,
  checkLabels,
  checkMatrix,
  checkOneOf,
  checkPositiveInt,
  LikenessError,
  type Matrix,
  ShapeError,
  ValueError,
} from "@likeness/core";
import { type Metric, METRICS } from "@likeness/kernels/types";
import type { Backend } from "./types.ts";
import {
  type AddOptions,
  type HnswParams,
  INDEX_KINDS,
  type IndexInfo,
  type IndexKind,
  type IndexOptions,
  type IndexSearchOptions,
  type IndexSearchResult,
  type VectorIndex,
} from "./index_types.ts";
import { exactValue, normalize64, type RowStore, smallestKeys, storeFor } from "./_index_store.ts";
import { codesFor } from "./_index_codes.ts";
import { INJECT_WORKER_FAULT, type ResidentCodes, type WorkerFault } from "@likeness/kernels";
import { bytesOf, type DecodedIndex, decodeIndex, encodeIndex, FLAG_NORMALIZED, sectionArray } from "./index_format.ts";

/** Largest id + 1. */
const ID_LIMIT = 2 ** 31 - 1;
/** Largest k a search accepts. */
export const MAX_K = 4096;

/** A kind implemented outside this file (`hnsw`): how to create and load it. */
export interface IndexKindFactory {
  /** Create an empty index. */
  create(options: IndexOptions, backend?: Backend): Promise<VectorIndex>;
  /** Rebuild from decoded bytes (header, sections); `buildThreads` for later adds. */
  load(
    decoded: DecodedIndex,
    backend?: Backend,
    options?: { buildThreads?: number; codes?: HnswParams["codes"] },
  ): Promise<VectorIndex>;
}

const factories = new Map<IndexKind, IndexKindFactory>();

/**
 * Register the implementation of an index kind that is not built in (the `hnsw` kind does this
 * from its own module). A later registration replaces an earlier one.
 *
 * @param kind the kind
 * @param factory how to create and load it
 * @throws {ValueError} UNKNOWN_NAME for a kind outside {@link INDEX_KINDS}
 * @example
 * ```ts
 * import { createIndex, registerIndexKind } from "@likeness/backend";
 * registerIndexKind("hnsw", {
 *   create: (o, b) => createIndex({ ...o, kind: "flat" }, b),
 *   load: () => Promise.reject(new Error("not in this example")),
 * });
 * ```
 */
export function registerIndexKind(kind: IndexKind, factory: IndexKindFactory): void {
  checkOneOf(kind, INDEX_KINDS, "index kind");
  factories.set(kind, factory);
}

interface Checked {
  dim: number;
  metric: Metric;
  kind: IndexKind;
  oversample: number;
  capacity: number;
}

function checkOptions(options: IndexOptions): Checked {
  if (!options || typeof options !== "object") {
    throw new ValueError("INVALID_ARGUMENT", "Cannot create index: pass options { dim, metric?, kind? }");
  }
  const dim = checkFiniteNumber(options.dim, "dim", "createIndex", { min: 1, max: 65536, integer: true });
  const metric = checkOneOf(options.metric ?? "cosine", METRICS, "metric");
  const kind = checkOneOf(options.kind ?? "flat", INDEX_KINDS, "index kind");
  const oversample = options.oversample ?? (kind === "binary" ? 16 : 4);
  if (!Number.isInteger(oversample) || oversample < 1 || oversample > 1024) {
    throw new ValueError(
      "INVALID_ARGUMENT",
      `Invalid oversample: expected an integer from 1 to 1024, got ${oversample}`,
    );
  }
  const capacity = checkPositiveInt(options.capacity ?? 1024, "capacity");
  return { dim, metric, kind, oversample, capacity };
}

/**
 * Create an empty resident vector index.
 *
 * @param options dim, metric [cosine], kind [flat], oversample, capacity, hnsw parameters
 * @param backend where it runs (default: wasm-simd on one thread, or scalar wasm without SIMD)
 * @returns the index
 * @throws {ValueError} INVALID_ARGUMENT, UNKNOWN_NAME for bad options
 * @throws {LikenessError} UNSUPPORTED for a kind with no registered implementation
 * @example
 * ```ts
 * import { createIndex } from "@likeness/backend";
 * const index = await createIndex({ dim: 3, metric: "l2", kind: "int8" });
 * console.log(index.info().kind, index.size); // int8 0
 * index.dispose();
 * ```
 */
export async function createIndex(options: IndexOptions, backend?: Backend): Promise<VectorIndex> {
  const c = checkOptions(options);
  if (c.kind === "hnsw") {
    const f = factories.get("hnsw");
    if (!f) throw new LikenessError("UNSUPPORTED", 'The "hnsw" index kind is not available in this build');
    return await f.create(options, backend);
  }
  const store = await storeFor(backend, c.dim, c.capacity);
  return new ResidentIndex(c, store, await codesOf(c, backend, store));
}

/** The resident code engine of an int8 / binary index (null for flat and on `js`). */
async function codesOf(c: Checked, backend: Backend | undefined, store: RowStore): Promise<ResidentCodes | null> {
  if (c.kind === "flat") return null;
  try {
    return await codesFor(backend, c.kind as "int8" | "binary", c.dim, c.capacity);
  } catch (e) {
    store.dispose();
    throw e;
  }
}

/** Options for {@link loadIndex}. */
export interface LoadIndexOptions {
  /** Expected dimension: a saved index of another dimension is rejected (SHAPE_MISMATCH). */
  dim?: number;
  /** `hnsw` only: threads that build the graph on later adds (as {@link IndexOptions.buildThreads}) [1]. */
  buildThreads?: number;
  /** `hnsw` only: walk on these rows instead of the saved ones (see `loadHnswIndex`'s `codes`) [as saved]. */
  codes?: HnswParams["codes"];
}

/**
 * Load an index saved by {@link VectorIndex.save} (format in the backend README).
 *
 * @param bytes the saved bytes, or their {@link decodeIndex} result (a caller that already
 *   decoded them, e.g. to read a section, skips a second checksum pass)
 * @param backend where it runs (default as for {@link createIndex})
 * @param options `dim`: the dimension the caller expects
 * @returns the index, with the same ids, labels, vectors and next id
 * @throws {LikenessError} CORRUPT for truncated or damaged bytes; UNSUPPORTED for a newer format
 * @throws {ShapeError} SHAPE_MISMATCH when `options.dim` differs from the saved dimension
 * @example
 * ```ts
 * import { createIndex, loadIndex } from "@likeness/backend";
 * const a = await createIndex({ dim: 2, metric: "dot" });
 * await a.add({ data: new Float32Array([1, 2]), rows: 1, cols: 2 }, { ids: [7] });
 * const b = await loadIndex(await a.save(), undefined, { dim: 2 });
 * console.log(b.has(7)); // true
 * a.dispose();
 * b.dispose();
 * ```
 */
export async function loadIndex(
  bytes: Uint8Array | DecodedIndex,
  backend?: Backend,
  options: LoadIndexOptions = {},
): Promise<VectorIndex> {
  const given = bytes as Partial<DecodedIndex> | null;
  const decoded = given && typeof given === "object" && given.header && given.sections instanceof Map
    ? bytes as DecodedIndex
    : decodeIndex(bytes as Uint8Array);
  const h = decoded.header;
  if (options.dim !== undefined && options.dim !== h.dim) {
    throw new ShapeError(
      `Cannot load index: it has dimension ${h.dim} but ${options.dim} is expected; load it where vectors have ${h.dim} columns`,
      "SHAPE_MISMATCH",
      { details: { saved: h.dim, expected: options.dim } },
    );
  }
  if (h.kind === "hnsw") {
    const f = factories.get("hnsw");
    if (!f) throw new LikenessError("UNSUPPORTED", 'The "hnsw" index kind is not available in this build');
    return await f.load(
      decoded,
      backend,
      {
        ...(options.buildThreads === undefined ? {} : { buildThreads: options.buildThreads }),
        ...(options.codes === undefined ? {} : { codes: options.codes }),
      },
    );
  }
  let meta: { oversample?: number } = {};
  const m = decoded.sections.get("META");
  if (m) {
    try {
      meta = JSON.parse(new TextDecoder().decode(m));
    } catch {
      throw new LikenessError("CORRUPT", "Cannot load index: the META section is not JSON");
    }
  }
  let c: Checked;
  try {
    c = checkOptions({
      dim: h.dim,
      metric: h.metric,
      kind: h.kind,
      oversample: meta.oversample,
      capacity: h.rows || 1,
    });
  } catch (cause) {
    throw new LikenessError("CORRUPT", `Cannot load index: bad parameters (${(cause as Error).message})`, { cause });
  }
  const store = await storeFor(backend, c.dim, c.capacity);
  const index = new ResidentIndex(c, store, await codesOf(c, backend, store));
  try {
    index._restore(decoded);
  } catch (e) {
    index.dispose();
    throw e;
  }
  return index;
}

/** A float32 view of a 4-byte-aligned section of `count` values (undefined when unaligned or missing). */
function sectionView(sections: Map<string, Uint8Array>, tag: string, count: number): Float32Array | undefined {
  const p = sections.get(tag);
  if (!p || p.byteOffset % 4 !== 0 || p.byteLength !== count * 4) return undefined;
  return new Float32Array(p.buffer, p.byteOffset, count);
}

function checkIntArray(a: ArrayLike<number> | ReadonlySet<number>, what: string): number[] {
  const list = a instanceof Set ? [...a] : Array.from(a as ArrayLike<number>);
  for (const v of list) {
    if (!Number.isInteger(v)) {
      throw new ValueError("INVALID_ARGUMENT", `Invalid ${what}: expected integers, got ${v}`);
    }
  }
  return list;
}

/** A flat, int8 or binary index over a row store. */
class ResidentIndex implements VectorIndex {
  readonly kind: IndexKind;
  readonly metric: Metric;
  readonly dim: number;
  readonly #oversample: number;
  readonly #store: RowStore;
  #n = 0;
  #live = 0;
  #nextId = 0;
  #ids = new Int32Array(0);
  #labels = new Int32Array(0);
  #alive = new Uint8Array(0);
  #pos = new Map<number, number>();
  /** Every position p < #n holds id p (sequential adds, nothing moved): results need no id map. */
  #identity = true;
  // int8: per-dimension scale, codes (n × #cs), squared norms; binary: centre, sign words
  // (n × #cs). With a resident engine these are views of its WebAssembly memory: take them again
  // (#views) after any engine call, since growing that memory detaches them.
  #scale: Float32Array | null = null;
  #codes: Int8Array<ArrayBufferLike> = new Int8Array(0);
  #sq: Float32Array<ArrayBufferLike> = new Float32Array(0);
  #center: Float32Array | null = null;
  #bits: Uint32Array<ArrayBufferLike> = new Uint32Array(0);
  readonly #words: number;
  /** Row stride of #codes (bytes) or #bits (words). */
  readonly #cs: number;
  readonly #engine: ResidentCodes | null;
  #queue: Promise<unknown> = Promise.resolve();
  #disposed = false;

  constructor(c: Checked, store: RowStore, engine: ResidentCodes | null) {
    this.kind = c.kind;
    this.metric = c.metric;
    this.dim = c.dim;
    this.#oversample = c.oversample;
    this.#store = store;
    this.#engine = engine;
    this.#words = (c.dim + 31) >>> 5;
    this.#cs = engine
      ? (c.kind === "int8" ? engine.stride : engine.stride >>> 2)
      : c.kind === "int8"
      ? c.dim
      : this.#words;
    this.#grow(c.capacity);
  }

  /** Take the engine's views again (no-op for JS arrays). */
  #views(): void {
    const e = this.#engine;
    if (!e) return;
    if (this.kind === "int8") {
      this.#codes = e.codes();
      this.#sq = e.norms();
    } else {
      this.#bits = e.bits();
    }
  }

  get size(): number {
    return this.#live;
  }

  get memoryBytes(): number {
    const codes = this.#engine
      ? this.#engine.memoryBytes
      : this.#codes.byteLength + this.#sq.byteLength + this.#bits.byteLength;
    return this.#store.memoryBytes + this.#ids.byteLength + this.#labels.byteLength + this.#alive.byteLength + codes;
  }

  info(): IndexInfo {
    const params: Record<string, number> = {};
    if (this.kind !== "flat") params.oversample = this.#oversample;
    return {
      kind: this.kind,
      metric: this.metric,
      dim: this.dim,
      size: this.#live,
      memoryBytes: this.memoryBytes,
      detail: `${this.#store.detail}${
        this.kind === "flat" ? "" : `; ${this.#engine ? this.#engine.info.detail : `${this.kind} codes in JS arrays`}`
      }`,
      params,
    };
  }

  has(id: number): boolean {
    return this.#pos.has(id);
  }

  #check(): void {
    if (this.#disposed) throw new ValueError("INVALID_ARGUMENT", "This index was disposed; create or load a new one");
  }

  /** Run after every earlier call (one at a time, in order). */
  #serial<T>(f: () => T | Promise<T>): Promise<T> {
    const run = this.#queue.then(() => {
      this.#check();
      return f();
    });
    this.#queue = run.catch(() => undefined);
    return run;
  }

  /** Make room for `rows` positions (doubling). */
  #grow(rows: number): void {
    const cap = this.#ids.length;
    if (rows <= cap) return;
    let next = Math.max(1, cap);
    while (next < rows) next *= 2;
    this.#store.reserve(next);
    const grow32 = (a: Int32Array) => {
      const b = new Int32Array(next);
      b.set(a);
      return b;
    };
    this.#ids = grow32(this.#ids);
    this.#labels = grow32(this.#labels);
    const alive = new Uint8Array(next);
    alive.set(this.#alive);
    this.#alive = alive;
    if (this.#engine) {
      this.#engine.reserve(next);
      this.#views();
    } else if (this.kind === "int8") {
      const codes = new Int8Array(next * this.#cs);
      codes.set(this.#codes);
      this.#codes = codes;
      const sq = new Float32Array(next);
      sq.set(this.#sq);
      this.#sq = sq;
    } else if (this.kind === "binary") {
      const bits = new Uint32Array(next * this.#cs);
      bits.set(this.#bits);
      this.#bits = bits;
    }
  }

  add(vectors: Matrix, options: AddOptions = {}): Promise<Int32Array> {
    let ids: number[] | null = null, labels: number[] | null = null;
    try {
      this.#check();
      checkMatrix(vectors, "vectors");
      if (vectors.cols !== this.dim) {
        throw new ShapeError(
          `Cannot add to index: vectors have ${vectors.cols} columns but the index has dimension ${this.dim}`,
          "SHAPE_MISMATCH",
          { details: { got: vectors.cols, expected: this.dim } },
        );
      }
      const n = vectors.rows;
      if (options.ids !== undefined) {
        if (!options.ids || options.ids.length !== n) {
          throw new ShapeError(
            `Cannot add to index: got ${options.ids?.length} ids for ${n} vectors; pass one id per row`,
            "SHAPE_MISMATCH",
          );
        }
        ids = checkIntArray(options.ids, "ids");
        const seen = new Set<number>();
        for (const id of ids) {
          if (id < 0 || id >= ID_LIMIT) {
            throw new ValueError("OUT_OF_RANGE", `Invalid id ${id}: ids are integers in [0, ${ID_LIMIT})`);
          }
          if (seen.has(id)) {
            throw new LikenessError("CONFLICT", `Cannot add to index: id ${id} appears twice in one add`, {
              details: { id },
            });
          }
          seen.add(id);
        }
      }
      if (options.labels !== undefined) {
        checkLabels(options.labels, n, "vectors");
        labels = checkIntArray(options.labels, "labels");
        for (const l of labels) {
          if (l < -(2 ** 31) || l >= 2 ** 31) {
            throw new ValueError("OUT_OF_RANGE", `Invalid label ${l}: use int32 labels`);
          }
        }
      }
    } catch (e) {
      return Promise.reject(e);
    }
    const data = vectors.data.slice();
    return this.#serial(() => {
      const n = vectors.rows;
      let given: number[];
      if (ids) {
        for (const id of ids) {
          if (this.#pos.has(id)) {
            throw new LikenessError(
              "CONFLICT",
              `Cannot add to index: id ${id} is already in the index; remove it first`,
              {
                details: { id },
              },
            );
          }
        }
        given = ids;
      } else {
        if (this.#nextId + n > ID_LIMIT) {
          throw new ValueError("OUT_OF_RANGE", `Cannot add ${n} rows: the id space [0, ${ID_LIMIT}) is exhausted`);
        }
        given = Array.from({ length: n }, (_, i) => this.#nextId + i);
      }
      this.#append(data, n, given, labels, this.metric === "cosine");
      return Int32Array.from(given);
    });
  }

  /** Write n rows at the end (normalising when asked), with their ids and labels; no checks. */
  #append(data: Float32Array, n: number, ids: ArrayLike<number>, labels: ArrayLike<number> | null, norm: boolean) {
    const D = this.dim, p0 = this.#n;
    this.#grow(p0 + n);
    this.#store.rows().set(data, p0 * D);
    if (norm) this.#store.normalizeRows(p0, p0 + n);
    for (let i = 0; i < n; i++) {
      const id = ids[i];
      if (id !== p0 + i) this.#identity = false;
      this.#ids[p0 + i] = id;
      this.#labels[p0 + i] = labels ? labels[i] : -1;
      this.#alive[p0 + i] = 1;
      this.#pos.set(id, p0 + i);
      if (id >= this.#nextId) this.#nextId = id + 1;
    }
    this.#n += n;
    this.#live += n;
    if (this.kind !== "flat") this.#encode(p0, p0 + n);
  }

  /** Quantise rows [p0, p1) (deriving the scale or centre from them on the first add). */
  #encode(p0: number, p1: number): void {
    const D = this.dim, rows = this.#store.rows(), S = this.#cs;
    this.#views();
    if (this.kind === "int8") {
      if (!this.#scale) this.#scale = this.#deriveScale(p0, p1);
      const s = this.#scale;
      for (let p = p0; p < p1; p++) {
        let sq = 0;
        for (let d = 0; d < D; d++) {
          const x = rows[p * D + d];
          sq += x * x;
          this.#codes[p * S + d] = Math.max(-127, Math.min(127, Math.round(x / s[d])));
        }
        this.#sq[p] = sq;
      }
    } else {
      if (!this.#center) this.#center = this.#deriveCenter(p0, p1);
      const c = this.#center;
      for (let p = p0; p < p1; p++) {
        for (let w = 0; w < S; w++) this.#bits[p * S + w] = 0;
        for (let d = 0; d < D; d++) {
          if (rows[p * D + d] > c[d]) this.#bits[p * S + (d >>> 5)] |= 1 << (d & 31);
        }
      }
    }
  }

  #deriveScale(p0: number, p1: number): Float32Array {
    const D = this.dim, rows = this.#store.rows(), s = new Float32Array(D);
    for (let p = p0; p < p1; p++) for (let d = 0; d < D; d++) s[d] = Math.max(s[d], Math.abs(rows[p * D + d]));
    for (let d = 0; d < D; d++) s[d] = s[d] > 0 ? s[d] / 127 : 1;
    return s;
  }

  #deriveCenter(p0: number, p1: number): Float32Array {
    const D = this.dim, rows = this.#store.rows(), c = new Float64Array(D);
    for (let p = p0; p < p1; p++) for (let d = 0; d < D; d++) c[d] += rows[p * D + d];
    return Float32Array.from(c, (v) => v / (p1 - p0));
  }

  remove(ids: ArrayLike<number>): Promise<number> {
    let list: number[];
    try {
      this.#check();
      if (!ids || typeof ids.length !== "number") {
        throw new ValueError("INVALID_ARGUMENT", "Cannot remove: pass an array of ids");
      }
      list = checkIntArray(ids, "ids");
      if (new Set(list).size !== list.length) {
        throw new ValueError("INVALID_ARGUMENT", "Cannot remove: an id appears twice in one call");
      }
    } catch (e) {
      return Promise.reject(e);
    }
    return this.#serial(() => {
      const missing = list.filter((id) => !this.#pos.has(id));
      if (missing.length) {
        throw new LikenessError(
          "NOT_FOUND",
          `Cannot remove: id${missing.length > 1 ? "s" : ""} ${missing.slice(0, 5).join(", ")}${
            missing.length > 5 ? ", ..." : ""
          } not in the index; nothing was removed`,
          { details: { missing: missing.slice(0, 100) } },
        );
      }
      for (const id of list) {
        const p = this.#pos.get(id)!;
        this.#alive[p] = 0;
        this.#pos.delete(id);
      }
      this.#live -= list.length;
      return list.length;
    });
  }

  /** Eligibility mask for a search (null: every one of the #n positions), and its count. */
  #mask(filter: IndexSearchOptions["filter"], labels: number[] | null, ids: number[] | null) {
    const n = this.#n;
    if (!labels && !ids) {
      return { mask: this.#live === n ? null : this.#alive.subarray(0, n), count: this.#live };
    }
    const mask = new Uint8Array(n);
    let count = 0;
    const allow = labels ? new Set(labels) : null;
    if (ids) {
      for (const id of new Set(ids)) {
        const p = this.#pos.get(id);
        if (p === undefined || (allow && !allow.has(this.#labels[p]))) continue;
        mask[p] = 1;
        count++;
      }
    } else {
      for (let p = 0; p < n; p++) {
        if (this.#alive[p] && allow!.has(this.#labels[p])) {
          mask[p] = 1;
          count++;
        }
      }
    }
    void filter;
    return { mask, count };
  }

  search(queries: Matrix, options: IndexSearchOptions): Promise<IndexSearchResult> {
    let k: number, labels: number[] | null = null, ids: number[] | null = null;
    let exclude: Int32Array | null = null;
    try {
      this.#check();
      if (!options || typeof options !== "object") {
        throw new ValueError("INVALID_ARGUMENT", "Cannot search: pass options { k, filter? }");
      }
      checkMatrix(queries, "queries");
      if (queries.cols !== this.dim) {
        throw new ShapeError(
          `Cannot search: queries have ${queries.cols} columns but the index has dimension ${this.dim}`,
          "SHAPE_MISMATCH",
          { details: { got: queries.cols, expected: this.dim } },
        );
      }
      k = checkPositiveInt(options.k, "k");
      if (k > MAX_K) {
        throw new ShapeError(`Cannot take top-${k}: at most k = ${MAX_K} is supported`, "K_TOO_LARGE");
      }
      if (options.exclude !== undefined) {
        if (this.kind !== "flat") {
          throw new LikenessError(
            "UNSUPPORTED",
            `Cannot search: \`exclude\` is supported by the flat index kind only (this one is ${this.kind})`,
          );
        }
        if (!options.exclude || options.exclude.length !== queries.rows) {
          throw new ShapeError(
            `Cannot search: got ${options.exclude?.length} exclude ids for ${queries.rows} queries; pass one per row`,
            "SHAPE_MISMATCH",
          );
        }
        exclude = Int32Array.from(checkIntArray(options.exclude, "exclude ids"));
      }
      if (options.filter !== undefined) {
        if (!options.filter || typeof options.filter !== "object") {
          throw new ValueError("INVALID_ARGUMENT", "Invalid filter: pass { labels?, ids? }");
        }
        if (options.filter.labels !== undefined) labels = checkIntArray(options.filter.labels, "filter labels");
        if (options.filter.ids !== undefined) ids = checkIntArray(options.filter.ids, "filter ids");
      }
    } catch (e) {
      return Promise.reject(e);
    }
    const query = queries.data.slice();
    const Q = queries.rows;
    return this.#serial(async () => {
      const want = k;
      if (options.allowFewer && k > this.#live) k = Math.max(1, this.#live);
      if (k > this.#live) {
        throw new ShapeError(
          `Cannot take top-${k}: the index holds only ${this.#live} live rows; use k <= ${this.#live} or add rows`,
          "K_TOO_LARGE",
          { details: { k, size: this.#live } },
        );
      }
      const { mask, count } = this.#mask(options.filter, labels, ids);
      const empty = () => ({
        ids: new Int32Array(Q * want).fill(-1),
        values: new Float32Array(Q * want).fill(NaN),
        rows: Q,
        k: want,
      });
      if (count === 0 || this.#live === 0) return empty();
      let positions: Int32Array, values: Float32Array;
      if (this.kind === "flat") {
        const r = await this.#store.topk(query, Q, {
          metric: this.metric === "cosine" ? "dot" : this.metric as "dot",
          k,
          rows: this.#n,
          eligible: mask,
          normalizeQuery: this.metric === "cosine",
          exclude: exclude ? this.#positionsOf(exclude) : null,
        });
        positions = r.positions;
        values = r.values;
      } else {
        ({ positions, values } = await this.#quantisedSearch(query, Q, k, Math.min(count, k * this.#oversample), mask));
      }
      // Position p holds id p: the kernel's positions are the ids (-1 padding stays -1).
      if (this.#identity && want === k) return { ids: positions, values, rows: Q, k };
      const out = empty();
      for (let i = 0; i < Q; i++) {
        for (let t = 0; t < k; t++) {
          const p = positions[i * k + t];
          if (p < 0) continue;
          out.ids[i * want + t] = this.#ids[p];
          out.values[i * want + t] = values[i * k + t];
        }
      }
      return out;
    });
  }

  /** Row position of each id (-1 for -1 or an id not live). */
  #positionsOf(ids: Int32Array): Int32Array {
    const out = new Int32Array(ids.length);
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i];
      out[i] = this.#identity ? (id >= 0 && id < this.#n && this.#alive[id] ? id : -1) : this.#pos.get(id) ?? -1;
    }
    return out;
  }

  /**
   * int8 / binary: approximate scores over every eligible row, the best m kept (ties to the lower
   * position), exact float64 rerank of those m. The query codes are the same on every backend;
   * the resident engine scans in WebAssembly, the `js` reference in the loop below, and both keep
   * the same m positions (the keys are bit-identical float64).
   */
  async #quantisedSearch(query: Float32Array, Q: number, k: number, m: number, mask: Uint8Array | null) {
    const D = this.dim, n = this.#n, S = this.#cs;
    const q = Float64Array.from(query);
    if (this.metric === "cosine") normalize64(q, Q, D);
    const metric = this.metric === "cosine" ? "dot" : this.metric;
    const sign = metric === "dot" ? -1 : 1;
    // Query codes: int8 q·s / qs rounded (qs = the query's largest |q·s| / 127), or sign bits.
    const int8 = this.kind === "int8";
    const qc = int8 ? new Int16Array(Q * S) : null;
    const qsc = int8 ? new Float64Array(Q) : null;
    const qb = int8 ? null : new Uint32Array(Q * S);
    for (let i = 0; i < Q; i++) {
      if (int8) {
        const s = this.#scale!;
        let mx = 0;
        for (let d = 0; d < D; d++) mx = Math.max(mx, Math.abs(q[i * D + d] * s[d]));
        const qs = mx > 0 ? mx / 127 : 1;
        qsc![i] = qs;
        for (let d = 0; d < D; d++) qc![i * S + d] = Math.round((q[i * D + d] * s[d]) / qs);
      } else {
        const c = this.#center!;
        for (let d = 0; d < D; d++) if (q[i * D + d] > c[d]) qb![i * S + (d >>> 5)] |= 1 << (d & 31);
      }
    }
    let cands: Int32Array;
    if (this.#engine) {
      cands = await this.#engine.scan(int8 ? qc! : qb!, qsc, Q, {
        rows: n,
        m,
        eligible: mask,
        distance: metric !== "dot",
      });
      this.#views();
    } else {
      cands = new Int32Array(Q * m);
      const approx = new Float64Array(n);
      for (let i = 0; i < Q; i++) {
        if (int8) {
          const codes = this.#codes, qs = qsc![i], qo = i * S;
          for (let p = 0; p < n; p++) {
            let acc = 0;
            const o = p * S;
            for (let d = 0; d < D; d++) acc += qc![qo + d] * codes[o + d];
            const dot = acc * qs;
            approx[p] = metric === "dot" ? -dot : this.#sq[p] - 2 * dot;
          }
        } else {
          const bits = this.#bits, qo = i * S;
          for (let p = 0; p < n; p++) {
            let h = 0;
            for (let w = 0; w < S; w++) h += popcount32(qb![qo + w] ^ bits[p * S + w]);
            approx[p] = h;
          }
        }
        cands.set(smallestKeys(approx, n, m, mask), i * m);
      }
    }
    const rows = this.#store.rows();
    const positions = new Int32Array(Q * k).fill(-1);
    const values = new Float32Array(Q * k).fill(NaN);
    for (let i = 0; i < Q; i++) {
      const cand = cands.subarray(i * m, i * m + m);
      const exact = new Float64Array(m);
      exactValues(metric, q, i * D, rows, cand, D, exact);
      if (sign < 0) { for (let t = 0; t < m; t++) exact[t] = -exact[t]; }
      const order = Array.from({ length: m }, (_, t) => t).filter((t) => cand[t] >= 0);
      order.sort((a, b) => exact[a] - exact[b] || cand[a] - cand[b]);
      for (let t = 0; t < Math.min(k, order.length); t++) {
        positions[i * k + t] = cand[order[t]];
        values[i * k + t] = sign * exact[order[t]];
      }
    }
    return { positions, values };
  }

  compact(): Promise<void> {
    try {
      this.#check();
    } catch (e) {
      return Promise.reject(e);
    }
    return this.#serial(() => {
      if (this.#live === this.#n) return;
      const D = this.dim, W = this.#cs;
      const rows = this.#store.rows();
      this.#views();
      let w = 0;
      for (let p = 0; p < this.#n; p++) {
        if (!this.#alive[p]) continue;
        if (w !== p) {
          this.#identity = false;
          rows.copyWithin(w * D, p * D, (p + 1) * D);
          this.#ids[w] = this.#ids[p];
          this.#labels[w] = this.#labels[p];
          if (this.kind === "int8") {
            this.#codes.copyWithin(w * W, p * W, (p + 1) * W);
            this.#sq[w] = this.#sq[p];
          } else if (this.kind === "binary") {
            this.#bits.copyWithin(w * W, p * W, (p + 1) * W);
          }
          this.#pos.set(this.#ids[w], w);
        }
        this.#alive[w] = 1;
        w++;
      }
      this.#alive.fill(0, w, this.#n);
      this.#n = w;
    });
  }

  save(): Promise<Uint8Array> {
    try {
      this.#check();
    } catch (e) {
      return Promise.reject(e);
    }
    return this.#serial(() => {
      const D = this.dim, live = this.#live;
      const vecs = new Float32Array(live * D);
      const ids = new Int32Array(live);
      const labels = new Int32Array(live);
      const rows = this.#store.rows();
      let w = 0;
      for (let p = 0; p < this.#n; p++) {
        if (!this.#alive[p]) continue;
        vecs.set(rows.subarray(p * D, (p + 1) * D), w * D);
        ids[w] = this.#ids[p];
        labels[w] = this.#labels[p];
        w++;
      }
      const sections: [string, Uint8Array][] = [
        ["META", new TextEncoder().encode(JSON.stringify(this.info().params))],
        ["IDS ", bytesOf(ids)],
        ["LABL", bytesOf(labels)],
        ["VECS", bytesOf(vecs)],
      ];
      if (this.#scale) sections.push(["QSCL", bytesOf(this.#scale)]);
      if (this.#center) sections.push(["BCTR", bytesOf(this.#center)]);
      return encodeIndex({
        version: 1, // the flat, int8 and binary sections are those of version 1
        kind: this.kind,
        metric: this.metric,
        dim: D,
        rows: live,
        nextId: this.#nextId,
        flags: this.metric === "cosine" ? FLAG_NORMALIZED : 0,
      }, sections);
    });
  }

  /** Fill an empty index from decoded bytes (private to `loadIndex`). */
  _restore(decoded: DecodedIndex): void {
    const { header: h, sections } = decoded;
    const n = h.rows, D = this.dim;
    const ids = sectionArray(sections, "IDS ", n, "i32");
    const labels = sectionArray(sections, "LABL", n, "i32");
    // The vectors are copied into the row store below: read them in place (no 4 bytes × n × D copy).
    const vecs = sectionView(sections, "VECS", n * D) ?? sectionArray(sections, "VECS", n * D, "f32");
    // Saved in position order, ids ascend whenever rows only grew: then none repeats (no Set of n ids).
    let ascending = true;
    for (let i = 0; i < n; i++) {
      const id = ids[i];
      if (id < 0 || id >= ID_LIMIT || id >= h.nextId) {
        throw new LikenessError("CORRUPT", `Cannot load index: bad or repeated id ${id}`);
      }
      if (i > 0 && id <= ids[i - 1]) ascending = false;
    }
    if (!ascending) {
      const seen = new Set<number>();
      for (const id of ids) {
        if (seen.has(id)) throw new LikenessError("CORRUPT", `Cannot load index: bad or repeated id ${id}`);
        seen.add(id);
      }
    }
    for (let t = 0; t < vecs.length; t++) {
      if (!Number.isFinite(vecs[t])) {
        throw new LikenessError("CORRUPT", "Cannot load index: a stored value is not finite");
      }
    }
    if (this.kind === "int8" && n > 0) this.#scale = sectionArray(sections, "QSCL", D, "f32");
    if (this.kind === "binary" && n > 0) this.#center = sectionArray(sections, "BCTR", D, "f32");
    if (n > 0) this.#append(vecs, n, ids, labels, false);
    this.#nextId = h.nextId;
  }

  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    this.#store.dispose();
    this.#engine?.dispose();
  }

  /**
   * Test-only (see `INJECT_WORKER_FAULT` in `@likeness/kernels`): make kernel Worker `tid` of the
   * engine that scans this index (the codes' for int8 and binary, the rows' for flat) die.
   */
  [INJECT_WORKER_FAULT](how: WorkerFault, tid: number): void {
    const target = this.#engine ?? this.#store;
    const inject = target[INJECT_WORKER_FAULT];
    if (!inject) throw new RangeError("This index runs no kernel Workers");
    inject.call(target, how, tid);
  }
}

/**
 * `exactValue` of query row `q` (at qo) with each stored row in `cand` (-1 entries skipped) into
 * `out`: four candidates per pass over the dimensions, each summed in dimension order, so every
 * value is bit-identical to `exactValue`'s while four independent sums hide the add latency.
 */
function exactValues(
  metric: "dot" | "l2" | "sqeuclidean" | "l1",
  q: Float64Array,
  qo: number,
  rows: Float32Array,
  cand: Int32Array,
  D: number,
  out: Float64Array,
): void {
  const list: number[] = [];
  for (let t = 0; t < cand.length; t++) if (cand[t] >= 0) list.push(t);
  let u = 0;
  for (; u + 4 <= list.length; u += 4) {
    const t0 = list[u], t1 = list[u + 1], t2 = list[u + 2], t3 = list[u + 3];
    const o0 = cand[t0] * D, o1 = cand[t1] * D, o2 = cand[t2] * D, o3 = cand[t3] * D;
    let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    if (metric === "dot") {
      for (let d = 0; d < D; d++) {
        const x = q[qo + d];
        s0 += x * rows[o0 + d];
        s1 += x * rows[o1 + d];
        s2 += x * rows[o2 + d];
        s3 += x * rows[o3 + d];
      }
    } else if (metric === "l1") {
      for (let d = 0; d < D; d++) {
        const x = q[qo + d];
        s0 += Math.abs(x - rows[o0 + d]);
        s1 += Math.abs(x - rows[o1 + d]);
        s2 += Math.abs(x - rows[o2 + d]);
        s3 += Math.abs(x - rows[o3 + d]);
      }
    } else {
      for (let d = 0; d < D; d++) {
        const x = q[qo + d];
        const e0 = x - rows[o0 + d], e1 = x - rows[o1 + d], e2 = x - rows[o2 + d], e3 = x - rows[o3 + d];
        s0 += e0 * e0;
        s1 += e1 * e1;
        s2 += e2 * e2;
        s3 += e3 * e3;
      }
      if (metric === "l2") {
        s0 = Math.sqrt(s0);
        s1 = Math.sqrt(s1);
        s2 = Math.sqrt(s2);
        s3 = Math.sqrt(s3);
      }
    }
    out[t0] = s0;
    out[t1] = s1;
    out[t2] = s2;
    out[t3] = s3;
  }
  for (; u < list.length; u++) out[list[u]] = exactValue(metric, q, qo, rows, cand[list[u]], D);
}

function popcount32(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  x = (x + (x >>> 4)) & 0x0f0f0f0f;
  return Math.imul(x, 0x01010101) >>> 24;
}
