/**
 * pytorch-metric-learning's MultiSimilarityLoss.
 *
 * @module
 */
import { tf } from "@likeness/tf";
import { checkFiniteNumber } from "@likeness/core";
import type { LossTarget } from "../types.ts";
import { BaseLoss, type LossDict } from "../base_loss.ts";
import { meanReducer, type Reducer } from "../reducers.ts";
import {
  cosineSimilarity,
  maskedLogSumExp,
  pairBatch,
  pairMasks,
  partnerCount,
  type PmlDistance,
  similarityMatrix,
} from "./_common.ts";

/** Options of {@link PmlMultiSimilarityLoss}. */
export interface PmlMultiSimilarityLossOptions {
  /** Positive weight (default 2). */
  alpha?: number;
  /** Negative weight (default 50). */
  beta?: number;
  /** Similarity offset (default 0.5). */
  base?: number;
  /** Distance (default CosineSimilarity). */
  distance?: PmlDistance;
  /** Reduction of the per-element losses (default mean, pml's MeanReducer). */
  reducer?: Reducer;
}

/**
 * MultiSimilarityLoss of pml 2.8.1. Per anchor i:
 * (1/α) log(1 + Σ_p exp(-α (s_ip - base))) + (1/β) log(1 + Σ_n exp(β (s_in - base))), mean over anchors
 * (an anchor without positives or negatives contributes 0 for that term). Mined pairs restrict the sums.
 *
 * @example
 * ```ts
 * import { tf, useTfBackend } from "@likeness/tf";
 * import { PmlMultiSimilarityLoss } from "@likeness/losses";
 * await useTfBackend("wasm");
 * const loss = new PmlMultiSimilarityLoss();
 * console.log(loss.compute(tf.tensor2d([[1, 0], [1, 0.2], [0, 1]]), { labels: [0, 0, 1] }).dataSync()[0]);
 * ```
 */
export class PmlMultiSimilarityLoss extends BaseLoss {
  /** pml's class name. */
  readonly name = "MultiSimilarityLoss";
  /** Takes a reference set (`target.ref`), so {@link CrossBatchMemory} can wrap it. */
  override readonly acceptsReference = true;
  /** α. */
  readonly alpha: number;
  /** β. */
  readonly beta: number;
  /** base. */
  readonly base: number;
  /** The similarity. */
  readonly distance: PmlDistance;

  /** Reduction of the per-element losses. */
  override readonly reducer: Reducer;

  /**
   * @param options alpha, beta, base, distance
   * @throws {ValueError} INVALID_ARGUMENT
   */
  constructor(options: PmlMultiSimilarityLossOptions = {}) {
    super();
    this.alpha = checkFiniteNumber(options.alpha ?? 2, "alpha", this.name);
    this.beta = checkFiniteNumber(options.beta ?? 50, "beta", this.name);
    this.base = checkFiniteNumber(options.base ?? 0.5, "base", this.name);
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
    const r = partnerCount(target, b);
    const masks = pairMasks(pairs, b, r);
    return tf.tidy((): LossDict => {
      const mat = similarityMatrix(this.distance, embeddings, target.ref?.embeddings);
      const pos = tf.tensor2d(masks.pos, [b, r]);
      const neg = tf.tensor2d(masks.neg, [b, r]);
      const posExp = tf.mul(-this.alpha, tf.sub(mat, this.base)) as tf.Tensor2D;
      const negExp = tf.mul(this.beta, tf.sub(mat, this.base)) as tf.Tensor2D;
      const posLoss = tf.div(maskedLogSumExp(posExp, pos, true), this.alpha);
      const negLoss = tf.div(maskedLogSumExp(negExp, neg, true), this.beta);
      return { loss: { losses: tf.add(posLoss, negLoss), reductionType: "element" } };
    });
  }
}
