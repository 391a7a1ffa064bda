/**
 * Quaterion's MultipleNegativesRankingLoss: in-batch negatives for (anchor, positive) pairs.
 *
 * @module
 */
import { gatherRows, tf } from "@likeness/tf";
import { checkFiniteNumber, ValueError } from "@likeness/core";
import type { LossTarget } from "../types.ts";
import { alreadyReduced, BaseLoss, type LossDict } from "../base_loss.ts";
import type { Distance, DistanceName } from "../distances.ts";
import { evaluateRowChunked } from "../chunked.ts";
import { _pairs } from "../_common.ts";
import { quaterionDefaultDistance } from "./_shared.ts";

/** Options of {@link MultipleNegativesRankingLoss}. */
export interface MultipleNegativesRankingLossOptions {
  /** Multiplier of the similarities before the softmax (default 20). */
  scale?: number;
  /**
   * Similarity source: the distance's `similarityMatrix` is used. Default Quaterion's cosine
   * similarity matrix `(1 + cos) / 2`; pass `distance("cosine")` for plain `cos` (sentence-transformers).
   */
  distance?: Distance | DistanceName;
  /** Also rank anchors given each positive, averaging both directions (default false). */
  symmetric?: boolean;
  /** Pairs per block for bounded-memory evaluation (default: all at once). */
  chunkRows?: number;
}

/**
 * Multiple negatives ranking loss (Henderson et al. 2017): for pairs `(a_i, p_i)`, cross-entropy of
 * `scale * sim(a_i, p_j)` over j with target i, i.e. every other pair's positive is a negative.
 * With `symmetric`, the mean of that and the same loss with anchors and positives swapped.
 *
 * @example
 * ```ts
 * import { tf } from "@likeness/tf";
 * import { MultipleNegativesRankingLoss } from "@likeness/losses";
 * const loss = new MultipleNegativesRankingLoss();
 * const e = tf.tensor2d([[1, 0], [0, 1], [0.9, 0.1], [0.1, 0.9]]);
 * console.log(loss.compute(e, { pairs: [[0, 2], [1, 3]] }).arraySync() < 0.01); // true
 * ```
 */
export class MultipleNegativesRankingLoss extends BaseLoss {
  /** Loss name. */
  readonly name = "MultipleNegativesRankingLoss";
  /** Similarity scale. */
  readonly scale: number;
  /** Similarity source. */
  readonly distance: Distance;
  /** Symmetric variant. */
  readonly symmetric: boolean;
  /** Pairs per block, or undefined. */
  readonly chunkRows?: number;

  /**
   * @param options scale, distance, symmetric, chunkRows
   * @throws {ValueError} INVALID_ARGUMENT for a bad scale
   */
  constructor(options: MultipleNegativesRankingLossOptions = {}) {
    super();
    this.scale = checkFiniteNumber(options.scale ?? 20, "scale", this.name);
    this.distance = quaterionDefaultDistance(options.distance);
    this.symmetric = options.symmetric ?? false;
    this.chunkRows = options.chunkRows;
  }

  /**
   * Scalar loss of a batch of positive pairs.
   *
   * @param embeddings B×D
   * @param target `pairs` (anchor, positive); `scores`, if given, must all be 1
   * @returns the named sub-losses (`compute` reduces them to the scalar loss)
   * @throws {ValueError} NON_FINITE; INVALID_ARGUMENT without pairs or with a score other than 1; OUT_OF_RANGE for bad indices
   */
  computeLoss(embeddings: tf.Tensor2D, target: LossTarget): LossDict {
    const pairs = _pairs(target, embeddings.shape[0], this.name);
    if (target.scores && target.scores.some((s) => s !== 1)) {
      throw new ValueError(
        "INVALID_ARGUMENT",
        `Cannot compute ${this.name}: it takes positive pairs only (every score 1); use ContrastiveLoss for scored pairs`,
      );
    }
    const p = pairs.length;
    const ia = pairs.map((q) => q[0]);
    const ib = pairs.map((q) => q[1]);
    const scale = this.scale;
    const dist = this.distance;
    const sym = this.symmetric;
    // cross-entropy rows [s, e) of sim(left rows, all right) with targets on the diagonal
    const ceRows = (left: tf.Tensor2D, right: tf.Tensor2D, s: number, e: number) => {
      const logits = tf.mul(scale, dist.similarityMatrix(tf.slice(left, [s, 0], [e - s, -1]), right));
      const diag = tf.sum(tf.mul(logits, tf.oneHot(tf.range(s, e, 1, "int32") as tf.Tensor1D, p)), 1);
      return tf.sum(tf.sub(tf.logSumExp(logits, 1), diag));
    };
    return alreadyReduced(evaluateRowChunked(
      {
        rows: p,
        partial: (x, s, e) => {
          const a = gatherRows(x, ia);
          const b = gatherRows(x, ib);
          return tf.stack([ceRows(a, b, s, e), sym ? ceRows(b, a, s, e) : tf.scalar(0)]) as tf.Tensor1D;
        },
        finish: (t) => {
          const fwd = tf.div(tf.slice(t, [0], [1]), p);
          const v = sym ? tf.div(tf.add(fwd, tf.div(tf.slice(t, [1], [1]), p)), 2) : fwd;
          return tf.reshape(v, []) as tf.Scalar;
        },
      },
      embeddings,
      { chunkRows: this.chunkRows },
    ));
  }

  /** No learned parameters. */
  override trainableVariables(): tf.Variable[] {
    return [];
  }
}
