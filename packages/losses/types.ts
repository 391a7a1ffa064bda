/**
 * Shared shapes of losses, distances and reducers.
 *
 * A loss is a differentiable tfjs function of the embeddings plus a target (labels for group
 * losses, pairs and scores for pairwise losses), and may own learned parameters (proxies,
 * class weights, centers, margin beta) that the trainer optimises with the model.
 *
 * @module
 */
import type { tf } from "@likeness/tf";
import type { Label, LabelMatcher, MinedIndices } from "@likeness/core";

/** Moved to `@likeness/core` (miners produce it, losses consume it); re-exported here. */
export type { MinedIndices };

/** What a loss is computed against. Which fields are needed depends on the loss. */
export interface LossTarget {
  /** One label (group/class) per embedding row: group losses. */
  labels?: readonly Label[];
  /** Pairs of row indices [a, b]: pairwise losses (Quaterion SimilarityPairSample batches). */
  pairs?: readonly (readonly [number, number])[];
  /** One score per pair (1 = similar, 0 = dissimilar, or a graded score). */
  scores?: readonly number[];
  /** Subgroup id per embedding row (Quaterion's subgroups for extra negatives). */
  subgroups?: readonly number[];
  /** Pre-mined index tuples (from a miner): triplets [a, p, n] or pairs. */
  indices?: MinedIndices;
  /** Label matcher for multi-label data (default: equality). */
  match?: LabelMatcher;
  /**
   * A reference set to compare the batch against instead of itself (pml's `ref_emb`, `ref_labels`):
   * pairs are (batch row, reference row), and mined `indices` index the reference for positives
   * and negatives. Only losses with `acceptsReference` take it; {@link CrossBatchMemory} passes its memory.
   */
  ref?: ReferenceSet;
}

/** Rows to compare a batch against: constant embeddings with one label each. */
export interface ReferenceSet {
  /** R×D embeddings (no gradient flows into them). */
  embeddings: tf.Tensor2D;
  /** One label per reference row. */
  labels: readonly Label[];
}

/** A similarity-learning loss. */
export interface Loss {
  /** Name, e.g. "TripletMarginLoss". */
  readonly name: string;
  /**
   * Scalar loss for a batch.
   * @param embeddings B×D embeddings
   * @param target labels / pairs / mined indices
   */
  compute(embeddings: tf.Tensor2D, target: LossTarget): tf.Scalar;
  /** Learned parameters (proxies, class weights, centers, beta) to optimise with the model. */
  trainableVariables(): tf.Variable[];
}
