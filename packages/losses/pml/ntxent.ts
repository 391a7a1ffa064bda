/**
 * pytorch-metric-learning's NTXentLoss (InfoNCE).
 *
 * @module
 */
import { gatherEntries, gatherValues, tf } from "@likeness/tf";
import { checkFiniteNumber } from "@likeness/core";
import type { LossTarget } from "../types.ts";
import { BaseLoss, type LossDict } from "../base_loss.ts";
import { meanReducer, type Reducer } from "../reducers.ts";
import { noGrad } from "../grad_utils.ts";
import {
  cosineSimilarity,
  lacksPairs,
  pairBatch,
  pairMasks,
  type PmlDistance,
  rowsWithNegatives,
  similarityMatrix,
  stopGradient,
} from "./_common.ts";

/** Options of {@link PmlNTXentLoss}. */
export interface PmlNTXentLossOptions {
  /** Temperature (default 0.07). */
  temperature?: number;
  /** Distance (default CosineSimilarity). */
  distance?: PmlDistance;
  /** Reduction of the per-element losses (default mean, pml's MeanReducer). */
  reducer?: Reducer;
}

/**
 * NTXentLoss of pml 2.8.1: for every positive pair (a, p),
 * -log(exp(s_ap/τ) / (exp(s_ap/τ) + Σ_{n neg of a} exp(s_an/τ))), mean over positive pairs.
 * A batch without positive or negative pairs gives 0.
 *
 * @example
 * ```ts
 * import { tf, useTfBackend } from "@likeness/tf";
 * import { PmlNTXentLoss } from "@likeness/losses";
 * await useTfBackend("wasm");
 * const loss = new PmlNTXentLoss({ temperature: 0.1 });
 * console.log(loss.compute(tf.tensor2d([[1, 0], [1, 0.2], [0, 1]]), { labels: [0, 0, 1] }).dataSync()[0]);
 * ```
 */
export class PmlNTXentLoss extends BaseLoss {
  /** pml's class name. */
  readonly name = "NTXentLoss";
  /** τ. */
  readonly temperature: number;
  /** The similarity. */
  readonly distance: PmlDistance;

  /** Reduction of the per-element losses. */
  override readonly reducer: Reducer;

  /**
   * @param options temperature, distance
   * @throws {ValueError} INVALID_ARGUMENT for a temperature <= 0
   */
  constructor(options: PmlNTXentLossOptions = {}) {
    super();
    this.temperature = checkFiniteNumber(options.temperature ?? 0.07, "temperature", this.name, {
      min: 0,
      minExclusive: true,
    });
    this.distance = options.distance ?? cosineSimilarity();
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
      let mat = similarityMatrix(this.distance, embeddings);
      mat = tf.div(mat, this.temperature);
      // per anchor row: max over its negatives and Σ exp(s_an - max), then per positive pair
      // -log(e^{s_ap} / (e^{s_ap} + Σ_n e^{s_an})) in log space (O(B²) memory, no per-pair rows)
      const negMask = tf.tensor2d(neg, [b, b]);
      const isNeg = tf.greater(negMask, 0);
      const has = tf.tensor1d(hasNeg);
      // (computed off the tape: a constant shift needs no Max/Select gradient)
      const rowMax = tf.mul(noGrad((v) => tf.max(tf.where(isNeg, v, tf.fill([b, b], -3e38)), 1), mat), has);
      const rowSum = tf.sum(
        tf.mul(tf.exp(tf.where(isNeg, tf.sub(mat, tf.reshape(rowMax, [b, 1])), tf.zerosLike(mat))), negMask),
        1,
      );
      const sap = gatherEntries(mat, pairs.a1, pairs.p);
      const mn = gatherValues(rowMax, pairs.a1);
      const sn = gatherValues(rowSum, pairs.a1);
      const hn = tf.greater(gatherValues(has, pairs.a1), 0);
      const m = stopGradient(tf.where(hn, tf.maximum(sap, mn), sap));
      const negTerm = tf.mul(sn, tf.exp(tf.where(hn, tf.sub(mn, m), tf.zerosLike(m))));
      const den = tf.add(tf.exp(tf.sub(sap, m)), negTerm);
      // pml adds the smallest float inside the log, which caps the loss near 87 in float32; the
      // log-space form here is exact and never overflows.
      return { loss: { losses: tf.sub(tf.log(den), tf.sub(sap, m)), reductionType: "pos_pair" } };
    });
  }
}
