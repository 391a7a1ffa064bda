/**
 * pytorch-metric-learning's NTXentLoss (InfoNCE).
 *
 * @module
 */
import { tf } from "@likeness/tf";
import type { Loss, LossTarget } from "../types.ts";
import {
  checkEmbeddings,
  checkNumber,
  cosineSimilarity,
  pairMasks,
  pairsOf,
  type PmlDistance,
  requireLabels,
  stopGradient,
  zeroLoss,
} from "./_common.ts";

/** Options of {@link PmlNTXentLoss}. */
export interface PmlNTXentLossOptions {
  /** Temperature (default 0.07). */
  temperature?: number;
  /** Distance (default CosineSimilarity). */
  distance?: PmlDistance;
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
export class PmlNTXentLoss implements Loss {
  /** pml's class name. */
  readonly name = "NTXentLoss";
  /** τ. */
  readonly temperature: number;
  /** The similarity. */
  readonly distance: PmlDistance;

  /**
   * @param options temperature, distance
   * @throws {ValueError} INVALID_ARGUMENT for a temperature <= 0
   */
  constructor(options: PmlNTXentLossOptions = {}) {
    this.temperature = checkNumber(options.temperature ?? 0.07, "temperature", this.name, Number.MIN_VALUE);
    this.distance = options.distance ?? cosineSimilarity();
  }

  /**
   * Loss of a batch.
   *
   * @param embeddings B×D
   * @param target labels (optional mined pairs, matcher)
   * @returns scalar loss
   * @throws {ShapeError} LABEL_MISMATCH; {ValueError} NON_FINITE
   */
  compute(embeddings: tf.Tensor2D, target: LossTarget): tf.Scalar {
    checkEmbeddings(embeddings, this.name);
    const b = embeddings.shape[0];
    const labels = requireLabels(target, b, this.name);
    const pairs = pairsOf(target, labels, this.name);
    if (pairs.a1.length === 0 || pairs.a2.length === 0) return zeroLoss(embeddings);
    const { neg } = pairMasks(pairs, b);
    // one-hot rows selecting anchor a and positive p of each positive pair
    const k = pairs.a1.length;
    const selA = new Float32Array(k * b);
    const selP = new Float32Array(k * b);
    for (let i = 0; i < k; i++) {
      selA[i * b + pairs.a1[i]] = 1;
      selP[i * b + pairs.p[i]] = 1;
    }
    return tf.tidy(() => {
      let mat: tf.Tensor2D = this.distance.matrix(embeddings);
      if (this.distance.smallerIsCloser) mat = tf.neg(mat);
      mat = tf.div(mat, this.temperature);
      const sa = tf.tensor2d(selA, [k, b]);
      const rows = tf.matMul(sa, mat); // k×b: the anchor's row
      const pos = tf.sum(tf.mul(rows, tf.tensor2d(selP, [k, b])), 1, true); // k×1
      const negMask = tf.matMul(sa, tf.tensor2d(neg, [b, b])); // k×b
      const isNeg = tf.greater(negMask, 0);
      const negVals = tf.where(isNeg, rows, tf.fill(rows.shape, -3e38));
      const m = stopGradient(tf.maximum(pos, tf.max(negVals, 1, true)));
      const numer = tf.exp(tf.sub(pos, m));
      const shifted = tf.where(isNeg, tf.sub(rows, m), tf.zerosLike(rows));
      const denom = tf.add(tf.sum(tf.mul(tf.exp(shifted), negMask), 1, true), numer);
      // -log(numer / denom) in log space: pml adds a tiny constant inside the log, which caps the loss
      // at -log(float tiny); the log-space form is exact and never overflows.
      const losses = tf.sub(tf.log(denom), tf.sub(pos, m));
      return tf.mean(losses) as tf.Scalar;
    });
  }

  /** @returns no learned parameters */
  trainableVariables(): tf.Variable[] {
    return [];
  }
}
