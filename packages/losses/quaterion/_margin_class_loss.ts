/**
 * Private base of Quaterion's margin class-weight losses (ArcFaceLoss, CosFaceLoss): a learned,
 * normalised class kernel, a logit scale s and a margin m; the subclass turns the cosines into
 * logits, the base does validation, the kernel and the cross-entropy.
 *
 * @module
 */
import { tf } from "@likeness/tf";
import type { LossTarget } from "../types.ts";
import { alreadyReduced, BaseLoss, type LossDict } from "../base_loss.ts";
import { _crossEntropy } from "../_common.ts";
import { _classBatch, _cosines, _initKernel, type ClassWeightOptions } from "./_class_weights.ts";

/**
 * Cross-entropy over `_logits(cos θ)`, θ the angle between the normalised embedding and kernel column.
 *
 * @example
 * ```ts
 * import { tf } from "@likeness/tf";
 * import { ArcFaceLoss } from "@likeness/losses";
 * const loss = new ArcFaceLoss({ embeddingSize: 2, numGroups: 2, kernel: [[1, 0], [0, 1]] });
 * console.log(loss.compute(tf.tensor2d([[1, 0], [0, 1]]), { labels: [0, 1] }).arraySync() < 1e-6); // true
 * ```
 */
export abstract class _MarginClassLoss extends BaseLoss {
  /** Loss name. */
  abstract override readonly name: string;
  /** Scale s. */
  readonly scale: number;
  /** Margin m. */
  readonly margin: number;
  /** Learned kernel, D×C. */
  readonly kernel: tf.Variable;
  protected readonly d: number;
  protected readonly c: number;

  /**
   * @param options embeddingSize, numGroups, kernel, seed
   * @param loss the loss name, for error messages
   * @param scale checked scale s
   * @param margin checked margin m
   * @throws {ValueError} INVALID_ARGUMENT for bad sizes
   */
  constructor(options: ClassWeightOptions, loss: string, scale: number, margin: number) {
    super();
    this.scale = scale;
    this.margin = margin;
    const { d, c, kernel } = _initKernel(options, loss);
    this.d = d;
    this.c = c;
    this.kernel = kernel;
  }

  /**
   * Scalar loss.
   *
   * @param embeddings B×D
   * @param target `labels`: integer class ids in [0, numGroups)
   * @returns the named sub-losses (`compute` reduces them to the scalar loss)
   * @throws {ValueError} OUT_OF_RANGE for class ids outside [0, numGroups); NON_FINITE
   * @throws {ShapeError} LABEL_MISMATCH; SHAPE_MISMATCH when D differs from embeddingSize
   */
  computeLoss(embeddings: tf.Tensor2D, target: LossTarget): LossDict {
    const ids = _classBatch(embeddings, target, this.d, this.c, this.name);
    return alreadyReduced(
      tf.tidy(() => _crossEntropy(this._logits(_cosines(embeddings, this.kernel as tf.Tensor2D), ids), ids)),
    );
  }

  /** The kernel. */
  override trainableVariables(): tf.Variable[] {
    return [this.kernel];
  }

  /** B×C logits from the B×C cosines and the class id of each row (called inside `tf.tidy`). */
  protected abstract _logits(cos: tf.Tensor2D, ids: Int32Array): tf.Tensor2D;
}
