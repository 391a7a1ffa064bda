/**
 * pytorch-metric-learning's AngularLoss.
 *
 * @module
 */
import { gatherRows, tf } from "@likeness/tf";
import { checkFiniteNumber } from "@likeness/core";
import { _matMul } from "../_matmul.ts";
import type { LossTarget } from "../types.ts";
import { BaseLoss, type LossDict } from "../base_loss.ts";
import { meanReducer, type Reducer } from "../reducers.ts";
import { l2Normalize, lacksPairs, maskedLogSumExp, pairBatch, sameMatrix } from "./_common.ts";

/** Options of {@link PmlAngularLoss}. */
export interface PmlAngularLossOptions {
  /** Angle α in degrees (default 40). */
  alpha?: number;
  /** Reduction of the per-element losses (default mean, pml's MeanReducer). */
  reducer?: Reducer;
}

/**
 * AngularLoss of pml 2.8.1 (Wang et al. 2017): for every positive pair (a, p), with x̂ the
 * L2-normalised rows, log(1 + Σ_{n: label ≠ label(a)} exp(4 tan²α (x̂_a + x̂_p)·x_n − 2 (1 + tan²α) x̂_a·x̂_p)),
 * mean over positive pairs. As in pml, the negatives x_n enter as given (not normalised): feed
 * normalised embeddings for the paper's form. A batch without positive or negative pairs gives 0.
 *
 * @example
 * ```ts
 * import { tf, useTfBackend } from "@likeness/tf";
 * import { PmlAngularLoss } from "@likeness/losses";
 * await useTfBackend("wasm");
 * const loss = new PmlAngularLoss();
 * console.log(loss.compute(tf.tensor2d([[1, 0], [1, 0.2], [0, 1]]), { labels: [0, 0, 1] }).dataSync()[0]);
 * ```
 */
export class PmlAngularLoss extends BaseLoss {
  /** pml's class name. */
  readonly name = "AngularLoss";
  /** α in degrees. */
  readonly alpha: number;

  /** Reduction of the per-element losses. */
  override readonly reducer: Reducer;

  /**
   * @param options alpha (degrees)
   * @throws {ValueError} INVALID_ARGUMENT
   */
  constructor(options: PmlAngularLossOptions = {}) {
    super();
    this.alpha = checkFiniteNumber(options.alpha ?? 40, "alpha", this.name);
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
    const { b, labels, pairs } = pairBatch(embeddings, target, this.name);
    if (lacksPairs(pairs)) return {};
    const same = sameMatrix(labels, target.match);
    const k = pairs.a1.length;
    const keep = new Float32Array(k * b);
    for (let i = 0; i < k; i++) for (let j = 0; j < b; j++) keep[i * b + j] = same[pairs.a1[i] * b + j] ? 0 : 1;
    const t2 = Math.tan((this.alpha * Math.PI) / 180) ** 2;
    return tf.tidy((): LossDict => {
      // as pml 2.8.1: anchors and positives are L2-normalised, the other rows enter as given
      const anchors = l2Normalize(gatherRows(embeddings, pairs.a1));
      const positives = l2Normalize(gatherRows(embeddings, pairs.p));
      const apDot = tf.sum(tf.mul(anchors, positives), 1, true);
      const apX = _matMul(tf.add(anchors, positives) as tf.Tensor2D, embeddings, false, true); // K×B
      const form = tf.sub(tf.mul(4 * t2, apX), tf.mul(2 * (1 + t2), apDot)) as tf.Tensor2D;
      return { loss: { losses: maskedLogSumExp(form, tf.tensor2d(keep, [k, b]), true), reductionType: "element" } };
    });
  }
}
