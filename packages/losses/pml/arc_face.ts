/**
 * pytorch-metric-learning's ArcFaceLoss.
 *
 * @module
 */
import type { tf } from "@likeness/tf";
import { checkFiniteNumber } from "@likeness/core";
import { arcFaceModify, LargeMarginSoftmaxBase, type PmlClassifierOptions } from "./_large_margin.ts";

/** Options of {@link PmlArcFaceLoss}. */
export interface PmlArcFaceLossOptions extends PmlClassifierOptions {
  /** Additive angular margin in degrees (default 28.6). */
  margin?: number;
  /** Logit scale (default 64). */
  scale?: number;
}

/**
 * ArcFaceLoss of pml 2.8.1: softmax cross-entropy over scale·cos θ_c, the target class's angle
 * increased by `margin` degrees (cos(θ_y + m), continued as cos θ_y − m·sin m beyond θ_y = π − m so
 * the logit keeps decreasing); W (D×C) is a trainable variable.
 *
 * @example
 * ```ts
 * import { tf, useTfBackend } from "@likeness/tf";
 * import { PmlArcFaceLoss } from "@likeness/losses";
 * await useTfBackend("wasm");
 * const loss = new PmlArcFaceLoss({ numClasses: 2, embeddingSize: 2 });
 * console.log(loss.compute(tf.tensor2d([[1, 0], [0, 1]]), { labels: [0, 1] }).dataSync()[0]);
 * ```
 */
export class PmlArcFaceLoss extends LargeMarginSoftmaxBase {
  /** pml's class name. */
  readonly name = "ArcFaceLoss";
  /** Margin in degrees. */
  readonly margin: number;

  /**
   * @param options numClasses, embeddingSize, margin (degrees), scale, W, seed
   * @throws {ValueError} INVALID_ARGUMENT; {ShapeError} when W has the wrong shape
   */
  constructor(options: PmlArcFaceLossOptions) {
    super(options, checkFiniteNumber(options.scale ?? 64, "scale", "ArcFaceLoss"), "ArcFaceLoss");
    this.margin = checkFiniteNumber(options.margin ?? 28.6, "margin", "ArcFaceLoss");
  }

  /** cos(θ + m) while θ ≤ π − m, else cos θ − m·sin m (pml's monotonic continuation). */
  protected modify(cosTarget: tf.Tensor1D): tf.Tensor1D {
    return arcFaceModify(cosTarget, (this.margin * Math.PI) / 180);
  }
}
