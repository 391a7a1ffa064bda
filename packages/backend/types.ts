/**
 * The `Backend` interface: one async surface over pairwise distances, exact top-k, mining
 * and retrieval metrics, implemented by `webgpu`, `wasm-simd`, `wasm` and `js`.
 *
 * Conventions (every implementation follows them, the conformance suite checks them):
 * - Matrices are row-major float32 ({@link Matrix} from `@likeness/core`).
 * - `pairwise` returns raw values of the metric: `dot` and `cosine` are similarities
 *   (larger = closer), `l2`, `sqeuclidean` and `l1` are distances (smaller = closer).
 *   Cosine with a zero-norm row is 0. Squared L2 is clamped at 0 before `sqrt`.
 * - Mining and metrics take a `same` mask (B×B or Q×R, 1 = positive pair) instead of labels,
 *   so any label-matching function (multi-label data) works; helpers build it from labels.
 *
 * @module
 */
import type { Matrix } from "@likeness/core";

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

/**
 * The compute interface every backend implements. All methods validate input and throw the
 * typed errors of `@likeness/core` (never return garbage).
 */
export interface Backend {
  /** Name and details. */
  readonly info: BackendInfo;
  /** Q×R matrix of `metric(query_i, reference_j)`. */
  pairwise(query: Matrix, reference: Matrix, metric: Metric): Promise<Matrix>;
  /** L2 norm of each row. */
  norms(m: Matrix): Promise<Float32Array>;
  /** Rows scaled to unit L2 norm (zero rows stay zero). */
  normalize(m: Matrix): Promise<Matrix>;
  /** Exact top-k per query, streamed over references in blocks (memory O(Q·k)). */
  topk(query: Matrix, reference: Matrix, options: TopKOptions): Promise<TopKResult>;
  /** Hardest positive and negative per anchor; `same` is the B×B positive mask. */
  batchHard(dist: Matrix, same: Uint8Array, options?: MiningOptions): Promise<BatchHardResult>;
  /** Enumerate triplets by margin type (TripletMarginMiner semantics). */
  tripletMargin(
    dist: Matrix,
    same: Uint8Array,
    options: MiningOptions & { margin: number; type: TripletType },
  ): Promise<Triplets>;
  /** PairMarginMiner: positives farther than posMargin, negatives closer than negMargin. */
  pairMargin(
    dist: Matrix,
    same: Uint8Array,
    options: MiningOptions & { posMargin: number; negMargin: number },
  ): Promise<Pairs>;
  /** MultiSimilarityMiner on a similarity (or distance) matrix with margin epsilon. */
  multiSimilarity(dist: Matrix, same: Uint8Array, options: MiningOptions & { epsilon: number }): Promise<Pairs>;
  /**
   * Retrieval metrics from top-k: `relevant` is `rows × k` (1 where the neighbour is relevant)
   * and `relevantCount[i]` the number of relevant references for query i (R).
   */
  retrievalMetrics(relevant: Uint8Array, relevantCount: Int32Array, k: number): Promise<RetrievalMetrics>;
  /** Release workers, GPU buffers and memory. */
  dispose(): void;
}
