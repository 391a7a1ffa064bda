/**
 * Types of the compute operations (metrics, top-k, mining, retrieval metrics) shared by the
 * kernel wrappers and `@likeness/backend`, which re-exports them beside its `Backend` interface.
 * They live here so that the kernels do not depend on the backend package.
 *
 * @module
 */

/**
 * The synchronous form of an object of async methods: each method returns its result directly
 * instead of a promise (the shape of `synchronous()` on the kernels and backends that compute on
 * the calling thread).
 */
export type Synchronous<T> = {
  [K in keyof T]: T[K] extends (...args: infer A) => Promise<infer R> ? (...args: A) => R : T[K];
};

/** Backend names, by default priority. */
export type BackendName = "webgpu" | "wasm-simd" | "wasm" | "js";

/** Distance or similarity metric for pairwise and top-k. */
export type Metric = "dot" | "cosine" | "l2" | "sqeuclidean" | "l1";

/** All metric names. */
export const METRICS: readonly Metric[] = ["dot", "cosine", "l2", "sqeuclidean", "l1"];

/** Whether larger values mean closer for a metric (true for `dot` and `cosine`). */
export function largerIsCloser(metric: Metric): boolean {
  return metric === "dot" || metric === "cosine";
}

/** What a backend reports about itself. */
export interface BackendInfo {
  /** The backend's name. */
  name: BackendName;
  /** Human-readable details: adapter, SIMD variant, thread count. */
  detail: string;
  /** Worker threads used for pairwise and top-k (1 = none). */
  threads: number;
  /** Relaxed-SIMD variant in use (wasm-simd only). */
  relaxed?: boolean;
  /** GPU adapter description (webgpu only). */
  adapter?: string;
}

/** Options for {@link Backend.topk}. */
export interface TopKOptions {
  /** Number of neighbours per query (must be ≤ number of eligible references). */
  k: number;
  /** Metric (default `cosine`). */
  metric?: Metric;
  /** Keep the k largest values (default: `largerIsCloser(metric)`). */
  largest?: boolean;
  /** Optional label filter: one int label per reference row ... */
  referenceLabels?: Int32Array;
  /** ... and the labels a reference must have to be eligible (any of them). */
  allowLabels?: Int32Array;
}

/** Result of a top-k search: `rows × k`, best first, ties to the lower index. */
export interface TopKResult {
  /** Reference indices, row-major `rows × k`; -1 where fewer than k references were eligible. */
  indices: Int32Array;
  /** Metric values for those indices (NaN where index is -1). */
  values: Float32Array;
  /** Number of queries. */
  rows: number;
  /** k. */
  k: number;
}

/** Result of batch-hard mining on a B×B distance matrix. */
export interface BatchHardResult {
  /** Per anchor: index of the hardest positive (farthest same-label, j ≠ i), or -1. */
  positive: Int32Array;
  /** Per anchor: index of the hardest negative (closest different-label), or -1. */
  negative: Int32Array;
  /** Distances of those pairs (NaN where invalid). */
  positiveDistance: Float32Array;
  /** Distances of those pairs (NaN where invalid). */
  negativeDistance: Float32Array;
  /** 1 when the anchor has a valid positive. */
  validPositive: Uint8Array;
  /** 1 when the anchor has a valid negative. */
  validNegative: Uint8Array;
}

/** Triplet selection rule, as pytorch-metric-learning's TripletMarginMiner defines it. */
export type TripletType = "all" | "hard" | "semihard" | "easy";

/** Options shared by mining kernels. */
export interface MiningOptions {
  /** Whether smaller values mean closer (true for distances, false for similarities). Default true. */
  smallerIsCloser?: boolean;
}

/** Triplets as a flat `T × 3` array of [anchor, positive, negative]. */
export interface Triplets {
  /** Flat [a, p, n, a, p, n, ...]. */
  indices: Int32Array;
  /** Number of triplets. */
  count: number;
}

/** Pairs as flat index arrays. */
export interface Pairs {
  /** Positive pairs flat [a, p, ...]. */
  positive: Int32Array;
  /** Negative pairs flat [a, n, ...]. */
  negative: Int32Array;
}

/** Retrieval metrics per query and averaged. */
export interface RetrievalMetrics {
  /** precision@k averaged over queries. */
  precisionAtK: number;
  /** recall@k as hit rate (any relevant in top k), averaged. */
  recallAtK: number;
  /** Mean reciprocal rank within the top k. */
  mrr: number;
  /** R-precision (precision at R = number of relevant references), averaged. */
  rPrecision: number;
  /** MAP@R, averaged. */
  mapAtR: number;
  /** Number of queries averaged over (queries with no relevant reference are skipped). */
  queries: number;
}
