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
import type { Label, LabelMatcher } from "@likeness/core";

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
}

/** Index tuples produced by a miner. */
export interface MinedIndices {
  /** Triplets [a, p, n]. */
  triplets?: readonly (readonly [number, number, number])[];
  /** Positive pairs [a, p]. */
  positivePairs?: readonly (readonly [number, number])[];
  /** Negative pairs [a, n]. */
  negativePairs?: readonly (readonly [number, number])[];
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
