/**
 * pytorch-metric-learning's SubCenterArcFaceLoss.
 *
 * @module
 */
import type { tf } from "@likeness/tf";
import { checkFiniteNumber, checkPositiveInt } from "@likeness/core";
import { arcFaceModify, LargeMarginSoftmaxBase, type PmlClassifierOptions } from "./_large_margin.ts";

/** Options of {@link PmlSubCenterArcFaceLoss}. */
export interface PmlSubCenterArcFaceLossOptions extends PmlClassifierOptions {
  /** Additive angular margin in degrees (default 28.6). */
  margin?: number;
  /** Logit scale (default 64). */
  scale?: number;
  /** Centres per class (default 3). W is D×(numClasses·subCenters), class-major columns. */
  subCenters?: number;
}

/**
 * SubCenterArcFaceLoss of pml 2.8.1: ArcFace where each class has `subCenters` weight columns and
 * the class cosine is the largest of its centres' cosines. W is a trainable variable.
 *
 * @example
 * ```ts
 * import { tf, useTfBackend } from "@likeness/tf";
 * import { PmlSubCenterArcFaceLoss } from "@likeness/losses";
 * await useTfBackend("wasm");
 * const loss = new PmlSubCenterArcFaceLoss({ numClasses: 2, embeddingSize: 2, subCenters: 2 });
 * console.log(loss.compute(tf.tensor2d([[1, 0], [0, 1]]), { labels: [0, 1] }).dataSync()[0]);
 * ```
 */
export class PmlSubCenterArcFaceLoss extends LargeMarginSoftmaxBase {
  /** pml's class name. */
  readonly name = "SubCenterArcFaceLoss";
  /** Margin in degrees. */
  readonly margin: number;

  /**
   * @param options numClasses, embeddingSize, margin (degrees), scale, subCenters, W, seed
   * @throws {ValueError} INVALID_ARGUMENT; {ShapeError} when W has the wrong shape
   */
  constructor(options: PmlSubCenterArcFaceLossOptions) {
    const k = checkPositiveInt(options.subCenters ?? 3, "subCenters", "SubCenterArcFaceLoss");
    super(options, checkFiniteNumber(options.scale ?? 64, "scale", "SubCenterArcFaceLoss"), "SubCenterArcFaceLoss", k);
    this.margin = checkFiniteNumber(options.margin ?? 28.6, "margin", "SubCenterArcFaceLoss");
  }

  /** cos(θ + m) while θ ≤ π − m, else cos θ − m·sin m (pml's monotonic continuation). */
  protected modify(cosTarget: tf.Tensor1D): tf.Tensor1D {
    return arcFaceModify(cosTarget, (this.margin * Math.PI) / 180);
  }
}
