/**
 * Quaterion's SoftmaxLoss: cross-entropy over a learned linear classifier.
 *
 * @module
 */
import { tf } from "@likeness/tf";
import { checkFiniteNumber } from "@likeness/core";
import { _matMul } from "../_matmul.ts";
import type { LossTarget } from "../types.ts";
import { alreadyReduced, BaseLoss, type LossDict } from "../base_loss.ts";
import { _crossEntropy } from "../_common.ts";
import { _classBatch, _initKernel, type ClassWeightOptions } from "./_class_weights.ts";

/** Options of {@link SoftmaxLoss}. */
export interface SoftmaxLossOptions extends ClassWeightOptions {
  /** Logits are divided by this (default 0.05). */
  temperature?: number;
}

/**
 * Softmax cross-entropy with logits `embeddings · kernel / temperature` (kernel D×C, learned).
 *
 * @example
 * ```ts
 * import { tf } from "@likeness/tf";
 * import { SoftmaxLoss } from "@likeness/losses";
 * const loss = new SoftmaxLoss({ embeddingSize: 2, numGroups: 2, kernel: [[1, 0], [0, 1]] });
 * console.log(loss.compute(tf.tensor2d([[1, 0], [0, 1]]), { labels: [0, 1] }).arraySync() < 1e-6); // true
 * ```
 */
export class SoftmaxLoss extends BaseLoss {
  /** Loss name. */
  readonly name = "SoftmaxLoss";
  /** Temperature. */
  readonly temperature: number;
  /** Learned kernel, D×C. */
  readonly kernel: tf.Variable;
  private readonly d: number;
  private readonly c: number;

  /**
   * @param options embeddingSize, numGroups, temperature, kernel, seed
   * @throws {ValueError} INVALID_ARGUMENT for bad sizes or temperature
   * @throws {ShapeError} when `kernel` is not D×C
   */
  constructor(options: SoftmaxLossOptions) {
    super();
    this.temperature = checkFiniteNumber(options.temperature ?? 0.05, "temperature", this.name, {
      min: 0,
      minExclusive: true,
    });
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
   * @returns the named sub-losses (`compute` reduces them to the scalar loss)
   * @throws {ValueError} OUT_OF_RANGE for class ids outside [0, numGroups); NON_FINITE
   * @throws {ShapeError} LABEL_MISMATCH; SHAPE_MISMATCH when D differs from embeddingSize
   */
  computeLoss(embeddings: tf.Tensor2D, target: LossTarget): LossDict {
    const ids = _classBatch(embeddings, target, this.d, this.c, this.name);
    return alreadyReduced(
      tf.tidy(() => _crossEntropy(tf.div(_matMul(embeddings, this.kernel), this.temperature) as tf.Tensor2D, ids)),
    );
  }

  /** The kernel. */
  override trainableVariables(): tf.Variable[] {
    return [this.kernel];
  }
}
