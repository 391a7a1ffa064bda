/**
 * pytorch-metric-learning's NCALoss.
 *
 * @module
 */
import { tf } from "@likeness/tf";
import { checkFiniteNumber } from "@likeness/core";
import type { LossTarget } from "../types.ts";
import { alreadyReduced, BaseLoss, type LossDict } from "../base_loss.ts";
import { labelledBatch, lpDistance, type PmlDistance, sameMatrix, similarityMatrix, zeroLoss } from "./_common.ts";

/** Options of {@link PmlNCALoss}. */
export interface PmlNCALossOptions {
  /** Multiplier of the (negated) distances inside the softmax (default 1). */
  softmaxScale?: number;
  /** Distance (default squared L2 between normalised rows, pml's LpDistance(power=2)). */
  distance?: PmlDistance;
}

/**
 * NCA core shared with ProxyNCA: -log Σ_{same label} softmax(scale · -d(q, r)) per query, mean over
 * queries whose sum is non-zero. `same` is Q×R (1 = same label); `excludeSelf` masks the diagonal.
 */
export function ncaLosses(
  distanceFn: PmlDistance,
  scale: number,
  query: tf.Tensor2D,
  reference: tf.Tensor2D | undefined,
  same: Float32Array,
  weights?: Float32Array,
): tf.Scalar {
  return tf.tidy(() => {
    const mat = similarityMatrix(distanceFn, query, reference);
    const [q, r] = mat.shape;
    let logits = tf.mul(scale, mat) as tf.Tensor2D;
    if (reference === undefined) {
      logits = tf.where(tf.cast(tf.eye(q), "bool"), tf.fill([q, r], -Infinity), logits) as tf.Tensor2D;
    }
    const probs = tf.softmax(logits, 1);
    const pSame = tf.sum(tf.mul(probs, tf.tensor2d(same, [q, r])), 1);
    const vals = pSame.dataSync();
    const keep: number[] = [];
    for (let i = 0; i < q; i++) if (vals[i] !== 0) keep.push(i);
    if (keep.length === 0) return zeroLoss(pSame);
    const keepMask = new Float32Array(q);
    for (const i of keep) keepMask[i] = weights ? weights[i] : 1;
    const k = tf.tensor1d(keepMask);
    const safe = tf.add(pSame, tf.sub(1, tf.step(tf.tensor1d(keepMask.map((_v, i) => (vals[i] !== 0 ? 1 : 0))))));
    return tf.div(tf.sum(tf.mul(tf.neg(tf.log(safe)), k)), keep.length) as tf.Scalar;
  });
}

/**
 * NCALoss of pml 2.8.1: per row, -log of the softmax probability (over the other rows, logits
 * -scale·d, d the squared L2 distance between normalised rows by default) of picking a row with the same label; mean over rows with a same-label row
 * (a batch with none gives 0).
 *
 * @example
 * ```ts
 * import { tf, useTfBackend } from "@likeness/tf";
 * import { PmlNCALoss } from "@likeness/losses";
 * await useTfBackend("wasm");
 * const loss = new PmlNCALoss();
 * console.log(loss.compute(tf.tensor2d([[1, 0], [1, 0.2], [0, 1]]), { labels: [0, 0, 1] }).dataSync()[0]);
 * ```
 */
export class PmlNCALoss extends BaseLoss {
  /** pml's class name. */
  readonly name = "NCALoss";
  /** Softmax scale. */
  readonly softmaxScale: number;
  /** The distance. */
  readonly distance: PmlDistance;

  /**
   * @param options softmaxScale, distance
   * @throws {ValueError} INVALID_ARGUMENT
   */
  constructor(options: PmlNCALossOptions = {}) {
    super();
    this.softmaxScale = checkFiniteNumber(options.softmaxScale ?? 1, "softmaxScale", this.name);
    this.distance = options.distance ?? lpDistance({ power: 2 });
  }

  /**
   * Loss of a batch.
   *
   * @param embeddings B×D
   * @param target labels (matcher)
   * @returns the named sub-losses (`compute` reduces them to the scalar loss)
   * @throws {ShapeError} LABEL_MISMATCH; {ValueError} NON_FINITE
   */
  computeLoss(embeddings: tf.Tensor2D, target: LossTarget): LossDict {
    const { b, labels } = labelledBatch(embeddings, target, this.name);
    if (b <= 1) return {};
    const same = Float32Array.from(sameMatrix(labels, target.match));
    return alreadyReduced(ncaLosses(this.distance, this.softmaxScale, embeddings, undefined, same));
  }
}
