/**
 * Quaterion's ArcFaceLoss: additive angular margin on a learned, normalised class kernel.
 *
 * @module
 */
import { tf } from "@likeness/tf";
import type { Loss, LossTarget } from "../types.ts";
import { _crossEntropy } from "../_common.ts";
import { safeSqrt } from "../distances.ts";
import { _checkNumber } from "./_shared.ts";
import { _classBatch, _cosines, _initKernel, type ClassWeightOptions } from "./_class_weights.ts";

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
export class ArcFaceLoss implements Loss {
  /** Loss name. */
  readonly name = "ArcFaceLoss";
  /** Scale s. */
  readonly scale: number;
  /** Margin m. */
  readonly margin: number;
  /** Learned kernel, D×C. */
  readonly kernel: tf.Variable;
  private readonly d: number;
  private readonly c: number;

  /**
   * @param options embeddingSize, numGroups, scale, margin, kernel, seed
   * @throws {ValueError} INVALID_ARGUMENT for bad sizes, scale or margin
   */
  constructor(options: ArcFaceLossOptions) {
    this.scale = _checkNumber(options.scale ?? 64, "scale", this.name);
    this.margin = _checkNumber(options.margin ?? 0.5, "margin", this.name);
    const { d, c, kernel } = _initKernel(options, this.name);
    this.d = d;
    this.c = c;
    this.kernel = kernel;
  }

  /**
   * Scalar loss.
   *
   * @param embeddings B×D
   * @param target `labels`: integer class ids in [0, numGroups)
   * @returns mean cross-entropy
   * @throws {ValueError} OUT_OF_RANGE for class ids outside [0, numGroups); NON_FINITE
   * @throws {ShapeError} LABEL_MISMATCH; SHAPE_MISMATCH when D differs from embeddingSize
   */
  compute(embeddings: tf.Tensor2D, target: LossTarget): tf.Scalar {
    const ids = _classBatch(embeddings, target, this.d, this.c, this.name);
    return tf.tidy(() => {
      const cos = _cosines(embeddings, this.kernel as tf.Tensor2D);
      const sin = safeSqrt(tf.sub(1, tf.square(cos)));
      const shifted = tf.sub(tf.mul(cos, Math.cos(this.margin)), tf.mul(sin, Math.sin(this.margin)));
      const onehot = tf.cast(tf.oneHot(tf.tensor1d(ids, "int32"), this.c), "bool");
      const logits = tf.mul(this.scale, tf.where(onehot, shifted, cos)) as tf.Tensor2D;
      return _crossEntropy(logits, ids);
    });
  }

  /** The kernel. */
  trainableVariables(): tf.Variable[] {
    return [this.kernel];
  }
}
