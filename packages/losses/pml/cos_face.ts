/**
 * pytorch-metric-learning's CosFaceLoss.
 *
 * @module
 */
import { tf } from "@likeness/tf";
import { checkFiniteNumber } from "@likeness/core";
import { LargeMarginSoftmaxBase, type PmlClassifierOptions } from "./_large_margin.ts";

/** Options of {@link PmlCosFaceLoss}. */
export interface PmlCosFaceLossOptions extends PmlClassifierOptions {
  /** Additive cosine margin (default 0.35). */
  margin?: number;
  /** Logit scale (default 64). */
  scale?: number;
}

/**
 * CosFaceLoss of pml 2.8.1: softmax cross-entropy over scale·cos θ_c with the target class's cosine
 * reduced by `margin` (the cosine is taken once; Quaterion's defect of applying cos twice is not
 * reproduced). W (D×C) is a trainable variable.
 *
 * @example
 * ```ts
 * import { tf, useTfBackend } from "@likeness/tf";
 * import { PmlCosFaceLoss } from "@likeness/losses";
 * await useTfBackend("wasm");
 * const loss = new PmlCosFaceLoss({ numClasses: 2, embeddingSize: 2 });
 * console.log(loss.compute(tf.tensor2d([[1, 0], [0, 1]]), { labels: [0, 1] }).dataSync()[0]);
 * ```
 */
export class PmlCosFaceLoss extends LargeMarginSoftmaxBase {
  /** pml's class name. */
  readonly name = "CosFaceLoss";
  /** Cosine margin. */
  readonly margin: number;

  /**
   * @param options numClasses, embeddingSize, margin, scale, W, seed
   * @throws {ValueError} INVALID_ARGUMENT; {ShapeError} when W has the wrong shape
   */
  constructor(options: PmlCosFaceLossOptions) {
    super(options, checkFiniteNumber(options.scale ?? 64, "scale", "CosFaceLoss"), "CosFaceLoss");
    this.margin = checkFiniteNumber(options.margin ?? 0.35, "margin", "CosFaceLoss");
  }

  /** c - m. */
  protected modify(cosTarget: tf.Tensor1D): tf.Tensor1D {
    return tf.sub(cosTarget, this.margin) as tf.Tensor1D;
  }
}
