/**
 * pytorch-metric-learning's MarginLoss (with learnable β).
 *
 * @module
 */
import { gatherEntries, gatherValues, tf } from "@likeness/tf";
import { checkFiniteNumber, checkPositiveInt } from "@likeness/core";
import type { LossTarget } from "../types.ts";
import { alreadyReduced, BaseLoss, type LossDict } from "../base_loss.ts";
import {
  labelledBatch,
  lpDistance,
  margin as distMargin,
  type PmlDistance,
  positiveMask,
  requireClassIds,
  tripletsOf,
  zeroLoss,
} from "./_common.ts";

/** Options of {@link PmlMarginLoss}. */
export interface PmlMarginLossOptions {
  /** Margin around β (default 0.2). */
  margin?: number;
  /** Weight of the β regulariser ν·β (default 0; only used with `learnBeta`). */
  nu?: number;
  /** Initial boundary β (default 1.2). */
  beta?: number;
  /** Make β a trainable variable (default false). */
  learnBeta?: boolean;
  /** One β per class (labels must be class ids in [0, numClasses)); default: a single β. */
  numClasses?: number;
  /** Distance (default LpDistance between normalised rows). */
  distance?: PmlDistance;
}

/**
 * MarginLoss of pml 2.8.1 (Wu et al. 2017): over every triplet (or the mined ones),
 * relu(d_ap - β + margin) + relu(β - d_an + margin), summed and divided by the number of non-zero
 * positive and negative terms (DivisorReducer); with `learnBeta`, plus ν·β (ν·Σ_triplets β_y / the same
 * divisor for per-class β). β is a tf.Variable exposed by `trainableVariables()` when learned.
 * A batch without triplets gives 0.
 *
 * @example
 * ```ts
 * import { tf, useTfBackend } from "@likeness/tf";
 * import { PmlMarginLoss } from "@likeness/losses";
 * await useTfBackend("wasm");
 * const loss = new PmlMarginLoss({ learnBeta: true });
 * console.log(loss.compute(tf.tensor2d([[1, 0], [1, 0.2], [0, 1]]), { labels: [0, 0, 1] }).dataSync()[0]);
 * console.log(loss.trainableVariables().length); // 1
 * ```
 */
export class PmlMarginLoss extends BaseLoss {
  /** pml's class name. */
  readonly name = "MarginLoss";
  /** Margin. */
  readonly margin: number;
  /** ν. */
  readonly nu: number;
  /** Whether β is learned. */
  readonly learnBeta: boolean;
  /** Number of per-class β (undefined: one β). */
  readonly numClasses?: number;
  /** β: shape [1] or [numClasses]; a trainable variable when `learnBeta`. */
  readonly beta: tf.Variable;
  /** The distance. */
  readonly distance: PmlDistance;

  /**
   * @param options margin, nu, beta, learnBeta, numClasses, distance
   * @throws {ValueError} INVALID_ARGUMENT for non-finite numbers or a bad numClasses
   */
  constructor(options: PmlMarginLossOptions = {}) {
    super();
    this.margin = checkFiniteNumber(options.margin ?? 0.2, "margin", this.name);
    this.nu = checkFiniteNumber(options.nu ?? 0, "nu", this.name);
    const beta = checkFiniteNumber(options.beta ?? 1.2, "beta", this.name);
    this.learnBeta = options.learnBeta ?? false;
    if (options.numClasses !== undefined) checkPositiveInt(options.numClasses, "numClasses", "MarginLoss");
    this.numClasses = options.numClasses;
    this.beta = tf.variable(tf.fill([this.numClasses ?? 1], beta), this.learnBeta);
    this.distance = options.distance ?? lpDistance();
  }

  /**
   * Loss of a batch.
   *
   * @param embeddings B×D
   * @param target labels (class ids with numClasses), optional mined triplets, matcher
   * @returns the named sub-losses (`compute` reduces them to the scalar loss)
   * @throws {ShapeError} LABEL_MISMATCH; {ValueError} NON_FINITE, OUT_OF_RANGE
   */
  computeLoss(embeddings: tf.Tensor2D, target: LossTarget): LossDict {
    const { b, labels } = labelledBatch(embeddings, target, this.name);
    const ids = this.numClasses === undefined ? undefined : requireClassIds(target, b, this.numClasses, this.name);
    const t = tripletsOf(target, labels, this.name);
    if (t.a.length === 0) return {};
    return alreadyReduced(tf.tidy(() => {
      const a = t.a;
      const beta = ids ? gatherValues(this.beta, Int32Array.from(a, (i) => ids[i])) : this.beta;
      const mat = this.distance.matrix(embeddings);
      const dap = gatherEntries(mat, a, t.p);
      const dan = gatherEntries(mat, a, t.n);
      const posLoss = tf.relu(tf.add(distMargin(this.distance, dap, beta), this.margin));
      const negLoss = tf.relu(tf.add(distMargin(this.distance, beta, dan), this.margin));
      const posMask = positiveMask(posLoss);
      const [numPos, numNeg] = tf.tidy(
        () => [tf.sum(posMask).dataSync()[0], tf.sum(positiveMask(negLoss)).dataSync()[0]],
      );
      const divisor = numPos + numNeg;
      let loss: tf.Tensor = divisor > 0 ? tf.div(tf.sum(tf.add(posLoss, negLoss)), divisor) : zeroLoss(posLoss);
      if (this.learnBeta && this.nu !== 0) {
        if (ids) {
          if (divisor > 0) loss = tf.add(loss, tf.div(tf.sum(tf.mul(beta, this.nu)), divisor));
        } else loss = tf.add(loss, tf.sum(tf.mul(beta, this.nu)));
      }
      return loss as tf.Scalar;
    }));
  }

  /** @returns `[beta]` when β is learned, else none */
  override trainableVariables(): tf.Variable[] {
    return this.learnBeta ? [this.beta] : [];
  }
}
