// Contract notes (index helper, for every kind's implementer):
// - Entry points: `createIndex(options, backend?)` and `loadIndex(bytes, backend?, { dim? })` in
//   `vector_index.ts`; a kind outside this file plugs in with `registerIndexKind(kind, { create, load })`
//   (`load` receives `decodeIndex(bytes)`: header + sections, see `index_format.ts` and the README).
// - Error codes: repeated id in one `add` or an id already live → CONFLICT; id outside [0, 2³¹ − 1) →
//   OUT_OF_RANGE; unknown id in `remove` → NOT_FOUND; repeated id in one `remove` → INVALID_ARGUMENT;
//   k > live size or k > 4096 → K_TOO_LARGE; damaged bytes → CORRUPT; loadIndex dim mismatch → SHAPE_MISMATCH.
// - `IndexSearchOptions.allowFewer` (added, optional): k above the live size gives the live rows and -1 padding
//   instead of K_TOO_LARGE (for callers whose writes are queued ahead of the search, like the server).
// - `search` with an empty filter result returns all -1 / NaN (not an error); k is still checked against the
//   live size.

/**
 * The resident vector index contract: an object that owns its reference vectors (in one
 * WebAssembly memory that the kernel threads share, a GPU buffer, or plain arrays for the `js`
 * reference), validated once at `add`, searched many times without a per-call copy.
 *
 * Every index kind (`flat`, `int8`, `binary`, `hnsw`) implements {@link VectorIndex}, is built by
 * `createIndex(...)` and read back by `loadIndex(...)`, and passes one conformance suite
 * (`tests/index_conformance_test.ts`) on every backend in both runtimes.
 *
 * Conventions:
 * - Ids are integers in [0, 2³¹ − 1). `add` without ids assigns `nextId, nextId + 1, ...`.
 *   Ids stay stable across `remove` and `compact`.
 * - `remove` tombstones: searches skip removed rows at once; `compact()` reclaims their memory.
 * - Results are best first; ties go to the lower insertion position (so a `flat` index gives
 *   exactly the order of `Backend.topk` over the same rows). Where fewer than `k` rows are
 *   eligible (filter), the tail holds id -1 and value NaN.
 * - Values are raw metric values: similarities (`dot`, `cosine`) larger = closer, distances
 *   (`l2`, `sqeuclidean`, `l1`) smaller = closer.
 * - A rejected call (bad dimension, non-finite value, duplicate or unknown id, bad k) throws a
 *   typed error of `@likeness/core` and leaves the index unchanged.
 *
 * @module
 */
import type { Matrix } from "@likeness/core";
import type { Metric } from "@likeness/kernels/types";

/** Index kinds: exact float32, int8 codes + float32 rerank, sign bits + float32 rerank, HNSW graph. */
export type IndexKind = "flat" | "int8" | "binary" | "hnsw";

/** All index kinds. */
export const INDEX_KINDS: readonly IndexKind[] = ["flat", "int8", "binary", "hnsw"];

/** HNSW parameters (ignored by the other kinds). */
export interface HnswParams {
  /** Neighbours per node on layers above 0 (layer 0 keeps 2·M) [16]. */
  M?: number;
  /** Candidate list size while building [200]. */
  efConstruction?: number;
  /** Candidate list size while searching (≥ k is used) [64]. */
  efSearch?: number;
  /** Seed of the level assignment: same seed and insertion order, same graph [42]. */
  seed?: number;
  /**
   * What the search walks on [`float32`]: `int8` keeps int8 codes beside the rows (one common
   * scale, per-dimension offsets), walks the graph on them and reranks the best max(efSearch, k)
   * in float32. The build always uses float32, so the graph is the same either way.
   */
  codes?: HnswCodes;
}

/** What an `hnsw` search walks on: float32 rows, or int8 codes with a float32 rerank. */
export type HnswCodes = "float32" | "int8";

/** Every value of {@link HnswCodes}. */
export const HNSW_CODES: readonly HnswCodes[] = ["float32", "int8"];

/** Options for `createIndex`. */
export interface IndexOptions {
  /** Vector dimension (positive integer). */
  dim: number;
  /** Metric [`cosine`]: cosine normalises vectors once at add time. */
  metric?: Metric;
  /** Index kind [`flat`]. */
  kind?: IndexKind;
  /** `int8` and `binary`: rerank the best `k × oversample` candidates in float32 [4 for int8, 16 for binary]. */
  oversample?: number;
  /** HNSW parameters. */
  hnsw?: HnswParams;
  /** Initial capacity in rows (grows by doubling) [1024]. */
  capacity?: number;
  /**
   * `hnsw` only: threads that build the graph on later adds (1–16) [1]. Above 1 the graph is not
   * bit-identical from run to run (it meets the same recall); other kinds ignore it.
   */
  buildThreads?: number;
}

/** Which references a search may return: any of `labels`, or only `ids` (both: must satisfy both). */
export interface IndexFilter {
  /** Labels (as given to `add`) a reference must have one of. */
  labels?: ArrayLike<number>;
  /** Ids a reference must be one of. */
  ids?: ArrayLike<number> | ReadonlySet<number>;
}

/** Options for {@link VectorIndex.search}. */
export interface IndexSearchOptions {
  /** Neighbours per query: 1 ≤ k ≤ live size. */
  k: number;
  /** Optional label or id filter. */
  filter?: IndexFilter;
  /** HNSW only: candidate list size for this call. */
  efSearch?: number;
  /** k above the live size pads with -1 / NaN instead of throwing K_TOO_LARGE [false]. */
  allowFewer?: boolean;
  /**
   * `flat` only: one id per query row that this row never returns (-1 or an id not in the index:
   * none), e.g. the query's own id when the queries are the indexed rows (self-retrieval). The
   * kernel skips it while it scans, so the search stays one pass at k (no k + 1 and no drop).
   * Other kinds reject it (UNSUPPORTED).
   */
  exclude?: ArrayLike<number>;
}

/** Result of a search: `rows × k`, best first. */
export interface IndexSearchResult {
  /** Ids, row-major `rows × k`; -1 where fewer than k references were eligible. */
  ids: Int32Array;
  /** Metric values (NaN where id is -1). */
  values: Float32Array;
  /** Number of queries. */
  rows: number;
  /** k. */
  k: number;
}

/** What `add` accepts besides the vectors. */
export interface AddOptions {
  /** One id per row (unique, not already live); default: assigned sequentially. */
  ids?: ArrayLike<number>;
  /** One integer label per row, for label filters [-1 = none]. */
  labels?: ArrayLike<number>;
}

/** What an index reports about itself (health, metrics, `info`). */
export interface IndexInfo {
  /** Kind. */
  kind: IndexKind;
  /** Metric. */
  metric: Metric;
  /** Dimension. */
  dim: number;
  /** Live rows. */
  size: number;
  /** Bytes held (vectors, codes, graph, ids). */
  memoryBytes: number;
  /** Where it runs and why (e.g. "wasm-simd, 2 threads", "webgpu: delegated to wasm-simd"). */
  detail: string;
  /** Kind parameters in force (oversample, M, efConstruction, efSearch, seed). */
  params: Record<string, number>;
}

/** A resident vector index (see the module doc for conventions). */
export interface VectorIndex {
  /** Kind. */
  readonly kind: IndexKind;
  /** Metric. */
  readonly metric: Metric;
  /** Dimension. */
  readonly dim: number;
  /** Live rows. */
  readonly size: number;
  /** Bytes held. */
  readonly memoryBytes: number;
  /** Kind, size, parameters, where it runs. */
  info(): IndexInfo;
  /** Append rows (validated; cosine rows normalised once); returns their ids. */
  add(vectors: Matrix, options?: AddOptions): Promise<Int32Array>;
  /** Tombstone ids; throws NOT_FOUND for an id that is not live (nothing removed then). */
  remove(ids: ArrayLike<number>): Promise<number>;
  /** Whether an id is live. */
  has(id: number): boolean;
  /** k nearest live rows per query. */
  search(queries: Matrix, options: IndexSearchOptions): Promise<IndexSearchResult>;
  /** Reclaim tombstoned rows (ids stay the same). */
  compact(): Promise<void>;
  /** Serialise to the documented little-endian format (header, version, sections, CRC-32). */
  save(): Promise<Uint8Array>;
  /** Release memory and Workers; later calls throw. */
  dispose(): void;
}
