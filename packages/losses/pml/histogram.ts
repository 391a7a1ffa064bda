/**
 * pytorch-metric-learning's HistogramLoss.
 *
 * @module
 */
import { gatherEntries, tf } from "@likeness/tf";
import { checkPositiveInt, ValueError } from "@likeness/core";
import type { LossTarget } from "../types.ts";
import { alreadyReduced, BaseLoss, type LossDict } from "../base_loss.ts";
import { cosineSimilarity, type PmlDistance, tripletBatch } from "./_common.ts";

/** Distinct unordered pairs {min, max} of (x[k], y[k]), sorted. */
function uniquePairs(x: Int32Array, y: Int32Array, b: number): { i: Int32Array; j: Int32Array } {
  const seen = new Uint8Array(b * b);
  for (let k = 0; k < x.length; k++) {
    const lo = Math.min(x[k], y[k]);
    const hi = Math.max(x[k], y[k]);
    seen[lo * b + hi] = 1;
  }
  const i: number[] = [];
  const j: number[] = [];
  for (let u = 0; u < b * b; u++) {
    if (seen[u]) {
      i.push(Math.floor(u / b));
      j.push(u % b);
    }
  }
  return { i: Int32Array.from(i), j: Int32Array.from(j) };
}

/** Options of {@link PmlHistogramLoss}. */
export interface PmlHistogramLossOptions {
  /** Number of bins over [-1, 1] (default 100; give this or `delta`). */
  nBins?: number;
  /** Bin width (alternative to nBins: nBins = 2 / delta). */
  delta?: number;
  /** Similarity in [-1, 1] (default CosineSimilarity). */
  distance?: PmlDistance;
}

/**
 * HistogramLoss of pml 2.8.1 (Ustinova & Lempitsky 2016): linear-interpolation histograms of the
 * similarities of the distinct (unordered) positive and negative pairs that occur in the triplets
 * (every triplet, or the mined ones), and
 * loss = Σ_r h⁻_r · Φ⁺_r, the probability that a negative pair is more similar than a positive one.
 * A batch without triplets gives 0.
 *
 * @example
 * ```ts
 * import { tf, useTfBackend } from "@likeness/tf";
 * import { PmlHistogramLoss } from "@likeness/losses";
 * await useTfBackend("wasm");
 * const loss = new PmlHistogramLoss({ nBins: 10 });
 * console.log(loss.compute(tf.tensor2d([[1, 0], [1, 0.2], [0, 1]]), { labels: [0, 0, 1] }).dataSync()[0]);
 * ```
 */
export class PmlHistogramLoss extends BaseLoss {
  /** pml's class name. */
  readonly name = "HistogramLoss";
  /** Number of bins. */
  readonly nBins: number;
  /** Bin width. */
  readonly delta: number;
  /** The similarity. */
  readonly distance: PmlDistance;

  /**
   * @param options nBins or delta, distance
   * @throws {ValueError} INVALID_ARGUMENT for both nBins and delta, or bad values
   */
  constructor(options: PmlHistogramLossOptions = {}) {
    super();
    if (options.nBins !== undefined && options.delta !== undefined) {
      throw new ValueError("INVALID_ARGUMENT", "Invalid HistogramLoss options: give nBins or delta, not both");
    }
    if (options.delta !== undefined) {
      if (!(options.delta > 0 && options.delta <= 2)) {
        throw new ValueError(
          "INVALID_ARGUMENT",
          `Invalid delta for HistogramLoss: expected a number in (0, 2], got ${options.delta}`,
        );
      }
      this.nBins = Math.round(2 / options.delta);
    } else {
      this.nBins = options.nBins ?? 100;
    }
    checkPositiveInt(this.nBins, "nBins", "HistogramLoss");
    this.delta = 2 / this.nBins;
    this.distance = options.distance ?? cosineSimilarity();
  }

  /**
   * Loss of a batch.
   *
   * @param embeddings B×D
   * @param target labels (optional mined triplets, matcher)
   * @returns the named sub-losses (`compute` reduces them to the scalar loss)
   * @throws {ShapeError} LABEL_MISMATCH; {ValueError} NON_FINITE
   */
  computeLoss(embeddings: tf.Tensor2D, target: LossTarget): LossDict {
    const { b, triplets: t } = tripletBatch(embeddings, target, this.name);
    if (t.a.length === 0) return {};
    return alreadyReduced(tf.tidy(() => {
      const mat = this.distance.matrix(embeddings);
      // pml histograms each distinct unordered pair once (its filter_pairs), not once per triplet
      const ap = uniquePairs(t.a, t.p, b);
      const an = uniquePairs(t.a, t.n, b);
      const sap = gatherEntries(mat, ap.i, ap.j);
      const san = gatherEntries(mat, an.i, an.j);
      const bins = tf.reshape(tf.linspace(-1, 1, this.nBins + 1), [-1, 1]);
      const density = (s: tf.Tensor) =>
        tf.div(tf.sum(tf.relu(tf.sub(1, tf.div(tf.abs(tf.sub(tf.reshape(s, [1, -1]), bins)), this.delta))), 1), s.size);
      const pos = density(sap);
      const neg = density(san);
      return tf.sum(tf.mul(neg, tf.cumsum(pos, 0))) as tf.Scalar;
    }));
  }
}
