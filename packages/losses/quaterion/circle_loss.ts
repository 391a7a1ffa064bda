/**
 * Quaterion's CircleLoss over all positive and negative pairs of a group batch.
 *
 * @module
 */
import { tf } from "@likeness/tf";
import { checkFiniteNumber, checkOneOf } from "@likeness/core";
import type { LossTarget } from "../types.ts";
import { alreadyReduced, BaseLoss, type LossDict } from "../base_loss.ts";
import type { Distance, DistanceName } from "../distances.ts";
import { noGrad } from "../grad_utils.ts";
import { _BIG, _labels, _pairMaskData } from "../_common.ts";
import { quaterionDefaultDistance } from "./_shared.ts";

/** Options of {@link CircleLoss}. */
export interface CircleLossOptions {
  /** Relaxation margin m (default 0.25). */
  margin?: number;
  /** Scale γ (default 256). */
  scaleFactor?: number;
  /** Similarity source (`similarityMatrix`; default Quaterion's cosine `(1 + cos) / 2`). */
  distance?: Distance | DistanceName;
  /**
   * Pair weights: `"quaterion"` (default) uses `a_p = relu(1 + m + s_p)`, `a_n = relu(s_n - m)` as
   * Quaterion does; `"paper"` uses the paper's `a_p = relu(1 + m - s_p)`, `a_n = relu(s_n + m)`.
   */
  weighting?: "quaterion" | "paper";
}

/**
 * Circle loss (Sun et al. 2020) over the pairs i < j of a batch:
 * `softplus(logsumexp(γ a_n (s_n - m)) + logsumexp(-γ a_p (s_p - (1 - m))))`, with the weights
 * `a_p`, `a_n` treated as constants. A batch without a positive or a negative pair gives 0.
 *
 * @example
 * ```ts
 * import { tf } from "@likeness/tf";
 * import { CircleLoss } from "@likeness/losses";
 * const loss = new CircleLoss();
 * const e = tf.tensor2d([[1, 0], [0.9, 0.1], [0, 1], [0.1, 0.9]]);
 * console.log(loss.compute(e, { labels: [0, 0, 1, 1] }).arraySync() > 0); // true
 * ```
 */
export class CircleLoss extends BaseLoss {
  /** Loss name. */
  readonly name = "CircleLoss";
  /** Margin m. */
  readonly margin: number;
  /** Scale γ. */
  readonly scaleFactor: number;
  /** Similarity source. */
  readonly distance: Distance;
  /** Pair weighting. */
  readonly weighting: "quaterion" | "paper";

  /**
   * @param options margin, scaleFactor, distance, weighting
   * @throws {ValueError} INVALID_ARGUMENT for bad numbers; UNKNOWN_NAME for a bad weighting
   */
  constructor(options: CircleLossOptions = {}) {
    super();
    this.margin = checkFiniteNumber(options.margin ?? 0.25, "margin", this.name);
    this.scaleFactor = checkFiniteNumber(options.scaleFactor ?? 256, "scaleFactor", this.name);
    this.distance = quaterionDefaultDistance(options.distance);
    this.weighting = checkOneOf(options.weighting ?? "quaterion", ["quaterion", "paper"] as const, "circle weighting");
  }

  /**
   * Scalar loss of a group batch.
   *
   * @param embeddings B×D
   * @param target `labels` and optional `match`
   * @returns the named sub-losses (`compute` reduces them to the scalar loss)
   * @throws {ShapeError} LABEL_MISMATCH
   * @throws {ValueError} NON_FINITE; INVALID_ARGUMENT without labels
   */
  computeLoss(embeddings: tf.Tensor2D, target: LossTarget): LossDict {
    const n = embeddings.shape[0];
    const { pos, neg } = _pairMaskData(_labels(target, n, this.name), target.match);
    // pairs i < j only (upper triangle)
    const pu = new Float32Array(n * n);
    const nu = new Float32Array(n * n);
    let np = 0;
    let nn = 0;
    for (let i = 0; i < n; i++) {
      for (let j = i + 1; j < n; j++) {
        if (pos[i * n + j]) (pu[i * n + j] = 1), np++;
        else if (neg[i * n + j]) (nu[i * n + j] = 1), nn++;
      }
    }
    if (np === 0 || nn === 0) return alreadyReduced(tf.scalar(0));
    const m = this.margin;
    const g = this.scaleFactor;
    const paper = this.weighting === "paper";
    return alreadyReduced(tf.tidy(() => {
      const sim = this.distance.similarityMatrix(embeddings);
      const ap = noGrad((s) => tf.relu(paper ? tf.sub(1 + m, s) : tf.add(1 + m, s)), sim);
      const an = noGrad((s) => tf.relu(paper ? tf.add(s, m) : tf.sub(s, m)), sim);
      const expP = tf.mul(tf.mul(tf.neg(ap), g), tf.sub(sim, 1 - m));
      const expN = tf.mul(tf.mul(an, g), tf.sub(sim, m));
      const lse = (x: tf.Tensor, mask: Float32Array) =>
        tf.logSumExp(tf.where(tf.cast(tf.tensor2d(mask, [n, n]), "bool"), x, tf.fill([n, n], -_BIG)));
      return tf.softplus(tf.add(lse(expN, nu), lse(expP, pu))) as tf.Scalar;
    }));
  }

  /** No learned parameters. */
  override trainableVariables(): tf.Variable[] {
    return [];
  }
}
