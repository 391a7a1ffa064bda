/**
 * pytorch-metric-learning's TupletMarginLoss.
 *
 * @module
 */
import { gatherEntries, gatherValues, tf } from "@likeness/tf";
import { checkFiniteNumber } from "@likeness/core";
import type { LossTarget } from "../types.ts";
import { BaseLoss, type LossDict } from "../base_loss.ts";
import { meanReducer, type Reducer } from "../reducers.ts";
import {
  cosineSimilarity,
  lacksPairs,
  maskedLogSumExp,
  pairBatch,
  pairMasks,
  type PmlDistance,
  rowsWithNegatives,
} from "./_common.ts";

/** Options of {@link PmlTupletMarginLoss}. */
export interface PmlTupletMarginLossOptions {
  /** Angular margin in degrees (default 5.73). */
  margin?: number;
  /** Scale (default 64). */
  scale?: number;
  /** Similarity (default CosineSimilarity; must be a cosine). */
  distance?: PmlDistance;
  /** Reduction of the per-element losses (default mean, pml's MeanReducer). */
  reducer?: Reducer;
}

/**
 * TupletMarginLoss of pml 2.8.1 (Yu & Tao 2019): for every positive pair (a, p),
 * log(1 + Σ_{n neg of a} exp(scale (cos θ_an - cos(θ_ap - margin)))), mean over positive pairs.
 * A batch without positive or negative pairs gives 0.
 *
 * @example
 * ```ts
 * import { tf, useTfBackend } from "@likeness/tf";
 * import { PmlTupletMarginLoss } from "@likeness/losses";
 * await useTfBackend("wasm");
 * const loss = new PmlTupletMarginLoss();
 * console.log(loss.compute(tf.tensor2d([[1, 0], [1, 0.2], [0, 1]]), { labels: [0, 0, 1] }).dataSync()[0]);
 * ```
 */
export class PmlTupletMarginLoss extends BaseLoss {
  /** pml's class name. */
  readonly name = "TupletMarginLoss";
  /** Margin in degrees. */
  readonly margin: number;
  /** Scale. */
  readonly scale: number;
  /** The similarity. */
  readonly distance: PmlDistance;

  /** Reduction of the per-element losses. */
  override readonly reducer: Reducer;

  /**
   * @param options margin (degrees), scale, distance
   * @throws {ValueError} INVALID_ARGUMENT
   */
  constructor(options: PmlTupletMarginLossOptions = {}) {
    super();
    this.margin = checkFiniteNumber(options.margin ?? 5.73, "margin", this.name);
    this.scale = checkFiniteNumber(options.scale ?? 64, "scale", this.name);
    this.distance = options.distance ?? cosineSimilarity();
    this.reducer = options.reducer ?? meanReducer();
  }

  /**
   * Loss of a batch.
   *
   * @param embeddings B×D
   * @param target labels (optional mined pairs, matcher)
   * @returns the named sub-losses (`compute` reduces them to the scalar loss)
   * @throws {ShapeError} LABEL_MISMATCH; {ValueError} NON_FINITE
   */
  computeLoss(embeddings: tf.Tensor2D, target: LossTarget): LossDict {
    const { b, pairs } = pairBatch(embeddings, target, this.name);
    if (lacksPairs(pairs)) return {};
    const { neg } = pairMasks(pairs, b);
    const hasNeg = rowsWithNegatives(pairs, b);
    return tf.tidy((): LossDict => {
      const mat = this.distance.matrix(embeddings);
      const cosAp = tf.clipByValue(gatherEntries(mat, pairs.a1, pairs.p), -1 + 1e-7, 1 - 1e-7);
      const shifted = tf.cos(tf.sub(tf.acos(cosAp), (this.margin * Math.PI) / 180));
      // log(1 + Σ_n exp(scale (s_an - c))) = softplus(logΣ_n exp(scale s_an) - scale c): one
      // log-sum-exp per anchor row, O(B²) memory
      const rowLse = tf.reshape(
        maskedLogSumExp(tf.mul(this.scale, mat) as tf.Tensor2D, tf.tensor2d(neg, [b, b]), false),
        [b],
      );
      const perPair = tf.softplus(tf.sub(gatherValues(rowLse, pairs.a1), tf.mul(this.scale, shifted)));
      return {
        loss: { losses: tf.mul(perPair, gatherValues(tf.tensor1d(hasNeg), pairs.a1)), reductionType: "pos_pair" },
      };
    });
  }
}
