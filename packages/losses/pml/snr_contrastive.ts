/**
 * pytorch-metric-learning's SignalToNoiseRatioContrastiveLoss.
 *
 * @module
 */
import type { tf } from "@likeness/tf";
import { checkFiniteNumber } from "@likeness/core";
import type { LossTarget } from "../types.ts";
import { BaseLoss, type LossDict } from "../base_loss.ts";
import { avgNonZeroReducer, type Reducer } from "../reducers.ts";
import type { PmlDistance } from "./_common.ts";
import { snrDistance } from "./pml_distance.ts";
import { contrastiveLosses } from "./contrastive.ts";

/** Options of {@link PmlSignalToNoiseRatioContrastiveLoss}. */
export interface PmlSignalToNoiseRatioContrastiveLossOptions {
  /** Default 0. */
  posMargin?: number;
  /** Default 1. */
  negMargin?: number;
  /** Distance (default SNRDistance: var(a - b) / var(a) on normalised rows). */
  distance?: PmlDistance;
  /** Reduction of the per-element losses (default average over non-zero terms, pml's AvgNonZeroReducer). */
  reducer?: Reducer;
}

/**
 * SignalToNoiseRatioContrastiveLoss of pml 2.8.1: ContrastiveLoss with the SNR distance.
 *
 * @example
 * ```ts
 * import { tf, useTfBackend } from "@likeness/tf";
 * import { PmlSignalToNoiseRatioContrastiveLoss } from "@likeness/losses";
 * await useTfBackend("wasm");
 * const loss = new PmlSignalToNoiseRatioContrastiveLoss();
 * console.log(loss.compute(tf.tensor2d([[1, 0, 2], [1, 0.2, 2], [0, 1, 0]]), { labels: [0, 0, 1] }).dataSync()[0]);
 * ```
 */
export class PmlSignalToNoiseRatioContrastiveLoss extends BaseLoss {
  /** pml's class name. */
  readonly name = "SignalToNoiseRatioContrastiveLoss";
  /** Positive margin. */
  readonly posMargin: number;
  /** Negative margin. */
  readonly negMargin: number;
  /** The distance. */
  readonly distance: PmlDistance;

  /** Reduction of the per-element losses. */
  override readonly reducer: Reducer;

  /**
   * @param options posMargin, negMargin, distance
   * @throws {ValueError} INVALID_ARGUMENT
   */
  constructor(options: PmlSignalToNoiseRatioContrastiveLossOptions = {}) {
    super();
    this.posMargin = checkFiniteNumber(options.posMargin ?? 0, "posMargin", this.name);
    this.negMargin = checkFiniteNumber(options.negMargin ?? 1, "negMargin", this.name);
    this.distance = options.distance ?? snrDistance();
    this.reducer = options.reducer ?? avgNonZeroReducer();
  }

  /**
   * Loss of a batch.
   *
   * @param embeddings B×D (D ≥ 2)
   * @param target labels (optional mined pairs, matcher)
   * @returns the named sub-losses (`compute` reduces them to the scalar loss)
   * @throws {ShapeError} LABEL_MISMATCH; {ValueError} NON_FINITE
   */
  computeLoss(embeddings: tf.Tensor2D, target: LossTarget): LossDict {
    return contrastiveLosses(this, embeddings, target);
  }
}
