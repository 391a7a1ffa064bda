/**
 * pytorch-metric-learning's GeneralizedLiftedStructureLoss.
 *
 * @module
 */
import { tf } from "@likeness/tf";
import { checkFiniteNumber } from "@likeness/core";
import type { LossTarget } from "../types.ts";
import { BaseLoss, type LossDict } from "../base_loss.ts";
import { meanReducer, type Reducer } from "../reducers.ts";
import {
  lpDistance,
  margin as distMargin,
  maskedLogSumExp,
  pairBatch,
  pairMasks,
  type PmlDistance,
} from "./_common.ts";

/** Options of {@link PmlGeneralizedLiftedStructureLoss}. */
export interface PmlGeneralizedLiftedStructureLossOptions {
  /** Default 1. */
  negMargin?: number;
  /** Default 0. */
  posMargin?: number;
  /** Distance (default LpDistance between normalised rows). */
  distance?: PmlDistance;
  /** Reduction of the per-element losses (default mean, pml's MeanReducer). */
  reducer?: Reducer;
}

/**
 * GeneralizedLiftedStructureLoss of pml 2.8.1: per anchor
 * relu(log Σ_p exp(d_ap - posMargin) + log Σ_n exp(negMargin - d_an)), mean over anchors
 * (empty sums count 0).
 *
 * @example
 * ```ts
 * import { tf, useTfBackend } from "@likeness/tf";
 * import { PmlGeneralizedLiftedStructureLoss } from "@likeness/losses";
 * await useTfBackend("wasm");
 * const loss = new PmlGeneralizedLiftedStructureLoss();
 * console.log(loss.compute(tf.tensor2d([[1, 0], [1, 0.2], [0, 1]]), { labels: [0, 0, 1] }).dataSync()[0]);
 * ```
 */
export class PmlGeneralizedLiftedStructureLoss extends BaseLoss {
  /** pml's class name. */
  readonly name = "GeneralizedLiftedStructureLoss";
  /** Negative margin. */
  readonly negMargin: number;
  /** Positive margin. */
  readonly posMargin: number;
  /** The distance. */
  readonly distance: PmlDistance;

  /** Reduction of the per-element losses. */
  override readonly reducer: Reducer;

  /**
   * @param options negMargin, posMargin, distance
   * @throws {ValueError} INVALID_ARGUMENT
   */
  constructor(options: PmlGeneralizedLiftedStructureLossOptions = {}) {
    super();
    this.negMargin = checkFiniteNumber(options.negMargin ?? 1, "negMargin", this.name);
    this.posMargin = checkFiniteNumber(options.posMargin ?? 0, "posMargin", this.name);
    this.distance = options.distance ?? lpDistance();
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
    const masks = pairMasks(pairs, b);
    return tf.tidy((): LossDict => {
      const mat = this.distance.matrix(embeddings);
      const pos = maskedLogSumExp(
        distMargin(this.distance, mat, this.posMargin) as tf.Tensor2D,
        tf.tensor2d(masks.pos, [b, b]),
        false,
      );
      const neg = maskedLogSumExp(
        distMargin(this.distance, this.negMargin, mat) as tf.Tensor2D,
        tf.tensor2d(masks.neg, [b, b]),
        false,
      );
      return { loss: { losses: tf.relu(tf.add(pos, neg)), reductionType: "element" } };
    });
  }
}
