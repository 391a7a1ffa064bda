/**
 * pytorch-metric-learning's CircleLoss.
 *
 * @module
 */
import { tf } from "@likeness/tf";
import { checkFiniteNumber } from "@likeness/core";
import type { LossTarget } from "../types.ts";
import { BaseLoss, type LossDict } from "../base_loss.ts";
import { avgNonZeroReducer, type Reducer } from "../reducers.ts";
import { cosineSimilarity, maskedLogSumExp, pairBatch, pairMasks, type PmlDistance, stopGradient } from "./_common.ts";

/** Options of {@link PmlCircleLoss}. */
export interface PmlCircleLossOptions {
  /** Relaxation m (default 0.4). */
  m?: number;
  /** Scale γ (default 80). */
  gamma?: number;
  /** Similarity (default CosineSimilarity). */
  distance?: PmlDistance;
  /** Reduction of the per-element losses (default average over non-zero terms, pml's AvgNonZeroReducer). */
  reducer?: Reducer;
}

/**
 * CircleLoss of pml 2.8.1: per anchor softplus(logΣ_p exp(-γ α_p (s_p - Δ_p)) + logΣ_n exp(γ α_n (s_n - Δ_n)))
 * with α_p = relu(1 + m - s_p), α_n = relu(s_n + m) (not differentiated), Δ_p = 1 - m, Δ_n = m;
 * anchors without a positive or a negative give 0; averaged over the non-zero anchors.
 *
 * @example
 * ```ts
 * import { tf, useTfBackend } from "@likeness/tf";
 * import { PmlCircleLoss } from "@likeness/losses";
 * await useTfBackend("wasm");
 * const loss = new PmlCircleLoss();
 * console.log(loss.compute(tf.tensor2d([[1, 0], [1, 0.2], [0, 1]]), { labels: [0, 0, 1] }).dataSync()[0]);
 * ```
 */
export class PmlCircleLoss extends BaseLoss {
  /** pml's class name. */
  readonly name = "CircleLoss";
  /** m. */
  readonly m: number;
  /** γ. */
  readonly gamma: number;
  /** The similarity. */
  readonly distance: PmlDistance;

  /** Reduction of the per-element losses. */
  override readonly reducer: Reducer;

  /**
   * @param options m, gamma, distance
   * @throws {ValueError} INVALID_ARGUMENT
   */
  constructor(options: PmlCircleLossOptions = {}) {
    super();
    this.m = checkFiniteNumber(options.m ?? 0.4, "m", this.name);
    this.gamma = checkFiniteNumber(options.gamma ?? 80, "gamma", this.name);
    this.distance = options.distance ?? cosineSimilarity();
    this.reducer = options.reducer ?? avgNonZeroReducer();
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
    const masks = pairMasks(pairs, b);
    return tf.tidy((): LossDict => {
      const mat = this.distance.matrix(embeddings);
      const pos = tf.tensor2d(masks.pos, [b, b]);
      const neg = tf.tensor2d(masks.neg, [b, b]);
      const sd = stopGradient(mat);
      const posLogits = tf.mul(
        tf.mul(-this.gamma, tf.relu(tf.sub(1 + this.m, sd))),
        tf.sub(mat, 1 - this.m),
      ) as tf.Tensor2D;
      const negLogits = tf.mul(tf.mul(this.gamma, tf.relu(tf.add(sd, this.m))), tf.sub(mat, this.m)) as tf.Tensor2D;
      const lp = maskedLogSumExp(posLogits, pos, false);
      const ln = maskedLogSumExp(negLogits, neg, false);
      const rowOk = tf.mul(tf.step(tf.sum(pos, 1, true)), tf.step(tf.sum(neg, 1, true)));
      const losses = tf.mul(tf.softplus(tf.add(lp, ln)), rowOk);
      return { loss: { losses: losses, reductionType: "element" } };
    });
  }
}
