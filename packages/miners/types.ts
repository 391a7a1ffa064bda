/**
 * Shared shapes of the miners: the {@link Miner} interface, the part of the `Backend` a miner
 * uses, and how a miner measures closeness ({@link MinerDistance}).
 *
 * @module
 */
import type { Label, LabelMatcher, Matrix, MinedIndices } from "@likeness/core";
import type { Backend, Metric } from "@likeness/backend";
import type { tf } from "@likeness/tf";
import type { Distance } from "@likeness/losses";

export type { MinedIndices };

/** The part of the `Backend` interface a miner uses (any full `Backend` fits). */
export type MinerBackend = Pick<
  Backend,
  "pairwise" | "normalize" | "batchHard" | "tripletMargin" | "pairMargin" | "multiSimilarity" | "synchronous"
>;

/**
 * How a miner measures closeness, evaluated on the backend.
 *
 * @example
 * ```ts
 * import type { MinerDistance } from "@likeness/miners";
 * const pmlDefault: MinerDistance = { metric: "l2", normalize: true }; // LpDistance(normalize_embeddings=True)
 * ```
 */
export interface MinerDistance {
  /** Backend metric: `l2`, `sqeuclidean`, `l1` are distances; `cosine`, `dot` similarities. */
  metric: Metric;
  /** L2-normalise rows before the metric (pytorch-metric-learning's `normalize_embeddings`). Default false. */
  normalize?: boolean;
  /** Raise every value to this power (pytorch-metric-learning's `power`). Default 1. */
  power?: number;
}

/** Options shared by every miner's constructor. */
export interface MinerOptions {
  /**
   * Distance: a spec evaluated on the backend, or a `Distance` object of `@likeness/losses`
   * evaluated with tfjs. Default: L2 between L2-normalised rows (pytorch-metric-learning's default).
   */
  distance?: MinerDistance | Distance;
  /**
   * Backend running pairwise distances and selection. Default: one shared backend created lazily
   * on first use by `createBackend({ tf: false })` of `@likeness/backend`.
   */
  backend?: MinerBackend | Promise<MinerBackend>;
}

/** Options of one `mine` call. */
export interface MineOptions {
  /** Label matcher for multi-label data (default: equality). */
  match?: LabelMatcher;
}

/** Embeddings a miner accepts: a tfjs 2-D tensor or a row-major float32 matrix. */
export type MinerInput = tf.Tensor2D | Matrix;

/**
 * A miner: picks index tuples (triplets or positive/negative pairs) from a batch. Mining is
 * not differentiable; the tuples feed a loss through `LossTarget.indices`.
 */
export interface Miner {
  /** pytorch-metric-learning's class name, e.g. "BatchHardMiner". */
  readonly name: string;
  /**
   * Mine index tuples from a batch.
   *
   * @param embeddings B×D embeddings (tensor or matrix); not modified, not disposed
   * @param labels one label per row
   * @param options label matcher
   * @returns triplets or positive/negative pairs, indices into the batch
   */
  mine(embeddings: MinerInput, labels: readonly Label[], options?: MineOptions): Promise<MinedIndices>;
  /**
   * The same miner as a plain call (same tuples, same errors, thrown), for callers that cannot
   * await, such as `fit`, which mines inside tfjs's gradient tape and so runs the forward pass
   * once per step instead of twice. Undefined when the backend computes asynchronously (WebGPU).
   * Optional: a miner without it is awaited on a separate inference pass.
   */
  synchronous?(): Promise<SyncMiner | undefined>;
}

/** The synchronous form of a {@link Miner} (from `synchronous()`). */
export interface SyncMiner {
  /**
   * Mine index tuples from a batch, on the calling thread.
   *
   * @param embeddings B×D embeddings (tensor, read with `dataSync()`, or matrix)
   * @param labels one label per row
   * @param options label matcher
   * @returns triplets or positive/negative pairs, as `Miner.mine` resolves them
   */
  mine(embeddings: MinerInput, labels: readonly Label[], options?: MineOptions): MinedIndices;
}
