/**
 * pytorch-metric-learning's LiftedStructureLoss.
 *
 * @module
 */
import { gatherEntries, gatherValues, tf } from "@likeness/tf";
import { checkFiniteNumber } from "@likeness/core";
import type { LossTarget } from "../types.ts";
import { BaseLoss, type LossDict } from "../base_loss.ts";
import { meanReducer, type Reducer } from "../reducers.ts";
import {
  lacksPairs,
  lpDistance,
  margin as distMargin,
  maskedLogSumExp,
  pairBatch,
  pairMasks,
  type PmlDistance,
  rowsWithNegatives,
  stopGradient,
} from "./_common.ts";

/** Options of {@link PmlLiftedStructureLoss}. */
export interface PmlLiftedStructureLossOptions {
  /** Default 1. */
  negMargin?: number;
  /** Default 0. */
  posMargin?: number;
  /** Distance (default LpDistance between normalised rows). */
  distance?: PmlDistance;
  /** Reduction of the per-element losses (default mean, pml's MeanReducer). */
  reducer?: Reducer;
}

/**
 * LiftedStructureLoss of pml 2.8.1: for every positive pair (a, p),
 * relu(d_ap - posMargin + log Σ_{k neg of a or of p} exp(negMargin - d_k))² / 2, mean over positive pairs.
 * A batch without positive or negative pairs gives 0.
 *
 * @example
 * ```ts
 * import { tf, useTfBackend } from "@likeness/tf";
 * import { PmlLiftedStructureLoss } from "@likeness/losses";
 * await useTfBackend("wasm");
 * const loss = new PmlLiftedStructureLoss();
 * console.log(loss.compute(tf.tensor2d([[1, 0], [1, 0.2], [0, 1]]), { labels: [0, 0, 1] }).dataSync()[0]);
 * ```
 */
export class PmlLiftedStructureLoss extends BaseLoss {
  /** pml's class name. */
  readonly name = "LiftedStructureLoss";
  /** Negative margin. */
  readonly negMargin: number;
  /** Positive margin. */
  readonly posMargin: number;
  /** The distance. */
  readonly distance: PmlDistance;

  /** Reduction of the per-element losses. */
  override readonly reducer: Reducer;

  /**
   * @param options negMargin, posMargin, distance
   * @throws {ValueError} INVALID_ARGUMENT
   */
  constructor(options: PmlLiftedStructureLossOptions = {}) {
    super();
    this.negMargin = checkFiniteNumber(options.negMargin ?? 1, "negMargin", this.name);
    this.posMargin = checkFiniteNumber(options.posMargin ?? 0, "posMargin", this.name);
    this.distance = options.distance ?? lpDistance();
    this.reducer = options.reducer ?? meanReducer();
  }

  /**
   * Loss of a batch.
   *
   * @param embeddings B×D
   * @param target labels (optional mined pairs, matcher)
   * @returns the named sub-losses (`compute` reduces them to the scalar loss)
   * @throws {ShapeError} LABEL_MISMATCH; {ValueError} NON_FINITE
   */
  computeLoss(embeddings: tf.Tensor2D, target: LossTarget): LossDict {
    const { b, pairs } = pairBatch(embeddings, target, this.name);
    if (lacksPairs(pairs)) return {};
    const { neg } = pairMasks(pairs, b);
    const hasNeg = rowsWithNegatives(pairs, b);
    return tf.tidy((): LossDict => {
      const mat = this.distance.matrix(embeddings);
      const negMask = tf.tensor2d(neg, [b, b]);
      // per-row log-sum-exp over that row's negatives, then log-add-exp of the anchor's and positive's rows
      const rowLse = tf.reshape(
        maskedLogSumExp(distMargin(this.distance, this.negMargin, mat) as tf.Tensor2D, negMask, false),
        [b],
      );
      const has = tf.tensor1d(hasNeg);
      const la = gatherValues(rowLse, pairs.a1);
      const lp = gatherValues(rowLse, pairs.p);
      const ha = gatherValues(has, pairs.a1);
      const hp = gatherValues(has, pairs.p);
      const anyNeg = tf.minimum(tf.add(ha, hp), 1); // neither row has a negative: pml's empty log-sum-exp is 0
      const m = tf.mul(
        stopGradient(tf.maximum(tf.add(la, tf.mul(tf.sub(ha, 1), 1e30)), tf.add(lp, tf.mul(tf.sub(hp, 1), 1e30)))),
        anyNeg,
      );
      const s0 = tf.add(
        tf.mul(ha, tf.exp(tf.sub(tf.mul(la, ha), tf.mul(m, ha)))),
        tf.mul(hp, tf.exp(tf.sub(tf.mul(lp, hp), tf.mul(m, hp)))),
      );
      const s = tf.add(s0, tf.sub(1, anyNeg));
      const negLoss = tf.add(tf.log(s), m);
      const d = gatherEntries(mat, pairs.a1, pairs.p);
      const perPair = tf.div(tf.square(tf.relu(tf.add(negLoss, distMargin(this.distance, d, this.posMargin)))), 2);
      return { loss: { losses: perPair, reductionType: "pos_pair" } };
    });
  }
}
