/**
 * pytorch-metric-learning's SupConLoss.
 *
 * @module
 */
import { tf } from "@likeness/tf";
import { checkFiniteNumber } from "@likeness/core";
import type { LossTarget } from "../types.ts";
import { BaseLoss, type LossDict } from "../base_loss.ts";
import { avgNonZeroReducer, type Reducer } from "../reducers.ts";
import {
  cosineSimilarity,
  lacksPairs,
  maskedLogSumExp,
  pairBatch,
  pairMasks,
  type PmlDistance,
  similarityMatrix,
} from "./_common.ts";

/** Options of {@link PmlSupConLoss}. */
export interface PmlSupConLossOptions {
  /** Temperature (default 0.1). */
  temperature?: number;
  /** Distance (default CosineSimilarity). */
  distance?: PmlDistance;
  /** Reduction of the per-element losses (default average over non-zero terms, pml's AvgNonZeroReducer). */
  reducer?: Reducer;
}

/**
 * SupConLoss of pml 2.8.1: per anchor, minus the mean over its positives of
 * log(exp(s_ap/τ) / Σ_{k pos or neg of a} exp(s_ak/τ)); averaged over the non-zero anchors
 * (AvgNonZeroReducer). A batch without positives or negatives gives 0.
 *
 * @example
 * ```ts
 * import { tf, useTfBackend } from "@likeness/tf";
 * import { PmlSupConLoss } from "@likeness/losses";
 * await useTfBackend("wasm");
 * const loss = new PmlSupConLoss();
 * console.log(loss.compute(tf.tensor2d([[1, 0], [1, 0.2], [0, 1]]), { labels: [0, 0, 1] }).dataSync()[0]);
 * ```
 */
export class PmlSupConLoss extends BaseLoss {
  /** pml's class name. */
  readonly name = "SupConLoss";
  /** τ. */
  readonly temperature: number;
  /** The similarity. */
  readonly distance: PmlDistance;

  /** Reduction of the per-element losses. */
  override readonly reducer: Reducer;

  /**
   * @param options temperature, distance
   * @throws {ValueError} INVALID_ARGUMENT for a temperature <= 0
   */
  constructor(options: PmlSupConLossOptions = {}) {
    super();
    this.temperature = checkFiniteNumber(options.temperature ?? 0.1, "temperature", this.name, {
      min: 0,
      minExclusive: true,
    });
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
    if (lacksPairs(pairs)) return {};
    const masks = pairMasks(pairs, b);
    return tf.tidy((): LossDict => {
      let mat = similarityMatrix(this.distance, embeddings);
      mat = tf.div(mat, this.temperature);
      const pos = tf.tensor2d(masks.pos, [b, b]);
      const any = tf.add(pos, tf.tensor2d(masks.neg, [b, b])) as tf.Tensor2D;
      const denom = maskedLogSumExp(mat, any, false);
      const logProb = tf.sub(mat, denom);
      const meanPos = tf.div(tf.sum(tf.mul(pos, logProb), 1), tf.add(tf.sum(pos, 1), 1.1754943508222875e-38));
      return { loss: { losses: tf.neg(meanPos), reductionType: "element" } };
    });
  }
}
