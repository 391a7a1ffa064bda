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

export type {
  BackendInfo,
  BackendName,
  BatchHardResult,
  Metric,
  MiningOptions,
  Pairs,
  RetrievalMetrics,
  Synchronous,
  TopKOptions,
  TopKResult,
  Triplets,
  TripletType,
} from "@likeness/kernels/types";
export { largerIsCloser, METRICS } from "@likeness/kernels/types";
import type {
  BackendInfo,
  BatchHardResult,
  Metric,
  MiningOptions,
  Pairs,
  RetrievalMetrics,
  Synchronous,
  TopKOptions,
  TopKResult,
  Triplets,
  TripletType,
} from "@likeness/kernels/types";

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
  /**
   * Optional, on the backends that compute on the calling thread (`js`, `wasm-simd`, `wasm`; not
   * `webgpu`): the mining operations as plain calls, with the same results and errors returned or
   * thrown. For callers that cannot await, such as a miner run inside tfjs's gradient tape.
   */
  synchronous?(): Promise<SyncMiningOps>;
  /** Release workers, GPU buffers and memory. */
  dispose(): void;
}

/** The operations a miner uses, as plain calls (from {@link Backend.synchronous}). */
export type SyncMiningOps = Synchronous<
  Pick<Backend, "pairwise" | "normalize" | "batchHard" | "tripletMargin" | "pairMargin" | "multiSimilarity">
>;
