/**
 * Quaterion's CosFaceLoss: additive cosine margin on a learned, normalised class kernel.
 *
 * @module
 */
import { tf } from "@likeness/tf";
import type { Loss, LossTarget } from "../types.ts";
import { _crossEntropy } from "../_common.ts";
import { _checkNumber } from "./_shared.ts";
import { _classBatch, _cosines, _initKernel, type ClassWeightOptions } from "./_class_weights.ts";

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
export class CosFaceLoss implements Loss {
  /** Loss name. */
  readonly name = "CosFaceLoss";
  /** Margin m. */
  readonly margin: number;
  /** Scale s. */
  readonly scale: number;
  /** Learned kernel, D×C. */
  readonly kernel: tf.Variable;
  private readonly d: number;
  private readonly c: number;

  /**
   * @param options embeddingSize, numGroups, margin, scale, kernel, seed
   * @throws {ValueError} INVALID_ARGUMENT for bad sizes, scale or margin
   */
  constructor(options: CosFaceLossOptions) {
    this.margin = _checkNumber(options.margin ?? 0.35, "margin", this.name);
    this.scale = _checkNumber(options.scale ?? 64, "scale", this.name);
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
      const onehot = tf.oneHot(tf.tensor1d(ids, "int32"), this.c);
      const logits = tf.mul(this.scale, tf.sub(cos, tf.mul(this.margin, onehot))) as tf.Tensor2D;
      return _crossEntropy(logits, ids);
    });
  }

  /** The kernel. */
  trainableVariables(): tf.Variable[] {
    return [this.kernel];
  }
}
