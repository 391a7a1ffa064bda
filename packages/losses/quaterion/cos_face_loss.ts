/**
 * Quaterion's CosFaceLoss: additive cosine margin on a learned, normalised class kernel.
 *
 * @module
 */
import { tf } from "@likeness/tf";
import { checkFiniteNumber } from "@likeness/core";
import type { ClassWeightOptions } from "./_class_weights.ts";
import { _MarginClassLoss } from "./_margin_class_loss.ts";

/** Options of {@link CosFaceLoss}. */
export interface CosFaceLossOptions extends ClassWeightOptions {
  /** Cosine margin m (default 0.35). */
  margin?: number;
  /** Logit scale s (default 64). */
  scale?: number;
}

/**
 * CosFace / large margin cosine loss (Wang et al. 2018): cross-entropy of `s * (cos θ_y - m)` for the
 * true class and `s * cos θ_j` for the others. Quaterion applies `cos` a second time
 * (`s * cos(cos θ - m)`); likeness implements the paper's definition.
 *
 * @example
 * ```ts
 * import { tf } from "@likeness/tf";
 * import { CosFaceLoss } from "@likeness/losses";
 * const loss = new CosFaceLoss({ embeddingSize: 2, numGroups: 2, kernel: [[1, 0], [0, 1]] });
 * console.log(loss.compute(tf.tensor2d([[1, 0], [0, 1]]), { labels: [0, 1] }).arraySync() < 1e-6); // true
 * ```
 */
export class CosFaceLoss extends _MarginClassLoss {
  /** Loss name. */
  readonly name = "CosFaceLoss";

  /**
   * @param options embeddingSize, numGroups, margin, scale, kernel, seed
   * @throws {ValueError} INVALID_ARGUMENT for bad sizes, scale or margin
   */
  constructor(options: CosFaceLossOptions) {
    const margin = checkFiniteNumber(options.margin ?? 0.35, "margin", "CosFaceLoss");
    super(options, "CosFaceLoss", checkFiniteNumber(options.scale ?? 64, "scale", "CosFaceLoss"), margin);
  }

  protected _logits(cos: tf.Tensor2D, ids: Int32Array): tf.Tensor2D {
    const onehot = tf.oneHot(tf.tensor1d(ids, "int32"), this.c);
    return tf.mul(this.scale, tf.sub(cos, tf.mul(this.margin, onehot))) as tf.Tensor2D;
  }
}
