/**
 * Quaterion's ArcFaceLoss: additive angular margin on a learned, normalised class kernel.
 *
 * @module
 */
import { tf } from "@likeness/tf";
import { checkFiniteNumber } from "@likeness/core";
import { safeSqrt } from "../distances.ts";
import type { ClassWeightOptions } from "./_class_weights.ts";
import { _MarginClassLoss } from "./_margin_class_loss.ts";

/** Options of {@link ArcFaceLoss}. */
export interface ArcFaceLossOptions extends ClassWeightOptions {
  /** Logit scale s (default 64). */
  scale?: number;
  /** Additive angular margin m in radians (default 0.5). */
  margin?: number;
}

/**
 * ArcFace (Deng et al. 2019): cross-entropy of `s * cos(θ_y + m)` for the true class and
 * `s * cos(θ_j)` for the others, θ the angle between the normalised embedding and kernel column.
 * `cos(θ + m)` is computed as `cos θ cos m - sin θ sin m` so the gradient stays finite at θ = 0.
 *
 * @example
 * ```ts
 * import { tf } from "@likeness/tf";
 * import { ArcFaceLoss } from "@likeness/losses";
 * const loss = new ArcFaceLoss({ embeddingSize: 2, numGroups: 2, kernel: [[1, 0], [0, 1]] });
 * console.log(loss.compute(tf.tensor2d([[1, 0], [0, 1]]), { labels: [0, 1] }).arraySync() < 1e-6); // true
 * ```
 */
export class ArcFaceLoss extends _MarginClassLoss {
  /** Loss name. */
  readonly name = "ArcFaceLoss";

  /**
   * @param options embeddingSize, numGroups, scale, margin, kernel, seed
   * @throws {ValueError} INVALID_ARGUMENT for bad sizes, scale or margin
   */
  constructor(options: ArcFaceLossOptions) {
    super(
      options,
      "ArcFaceLoss",
      checkFiniteNumber(options.scale ?? 64, "scale", "ArcFaceLoss"),
      checkFiniteNumber(options.margin ?? 0.5, "margin", "ArcFaceLoss"),
    );
  }

  protected _logits(cos: tf.Tensor2D, ids: Int32Array): tf.Tensor2D {
    const sin = safeSqrt(tf.sub(1, tf.square(cos)));
    const shifted = tf.sub(tf.mul(cos, Math.cos(this.margin)), tf.mul(sin, Math.sin(this.margin)));
    const onehot = tf.cast(tf.oneHot(tf.tensor1d(ids, "int32"), this.c), "bool");
    return tf.mul(this.scale, tf.where(onehot, shifted, cos)) as tf.Tensor2D;
  }
}
