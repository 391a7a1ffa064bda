/**
 * pytorch-metric-learning's FastAPLoss.
 *
 * @module
 */
import { tf } from "@likeness/tf";
import { checkFiniteNumber, checkPositiveInt } from "@likeness/core";
import type { LossTarget } from "../types.ts";
import { BaseLoss, type LossDict } from "../base_loss.ts";
import { meanReducer, type Reducer } from "../reducers.ts";
import { labelledBatch, lpDistance, minerWeights, pairMasks, pairsOf, type PmlDistance } from "./_common.ts";

/** Options of {@link PmlFastAPLoss}. */
export interface PmlFastAPLossOptions {
  /** Histogram bins (default 10). */
  numBins?: number;
  /** Distance (default squared L2 between normalised rows); its values must lie in [0, histogramMax]. */
  distance?: PmlDistance;
  /** Upper end of the histogram (default 4 = 2^power for the default distance). */
  histogramMax?: number;
  /** Reduction of the per-element losses (default mean, pml's MeanReducer). */
  reducer?: Reducer;
}

/**
 * FastAPLoss of pml 2.8.1 (Cakir et al. 2019): average precision approximated with a triangular-kernel
 * histogram of the distances, `1 - FastAP` per anchor with a positive, mean over those anchors
 * (weighted by how often each anchor appears in `target.indices` when given). No positives → 0.
 *
 * @example
 * ```ts
 * import { tf, useTfBackend } from "@likeness/tf";
 * import { PmlFastAPLoss } from "@likeness/losses";
 * await useTfBackend("wasm");
 * const loss = new PmlFastAPLoss({ numBins: 10 });
 * console.log(loss.compute(tf.tensor2d([[1, 0], [1, 0.2], [0, 1]]), { labels: [0, 0, 1] }).dataSync()[0]);
 * ```
 */
export class PmlFastAPLoss extends BaseLoss {
  /** pml's class name. */
  readonly name = "FastAPLoss";
  /** Number of bins. */
  readonly numBins: number;
  /** The distance. */
  readonly distance: PmlDistance;
  /** Histogram upper end. */
  readonly histogramMax: number;

  /** Reduction of the per-element losses. */
  override readonly reducer: Reducer;

  /**
   * @param options numBins, distance, histogramMax
   * @throws {ValueError} INVALID_ARGUMENT for numBins < 1 or histogramMax <= 0
   */
  constructor(options: PmlFastAPLossOptions = {}) {
    super();
    this.numBins = checkPositiveInt(options.numBins ?? 10, "numBins", "FastAPLoss");
    this.distance = options.distance ?? lpDistance({ power: 2 });
    this.histogramMax = checkFiniteNumber(options.histogramMax ?? 4, "histogramMax", "FastAPLoss", {
      min: 0,
      minExclusive: true,
    });
    this.reducer = options.reducer ?? meanReducer();
  }

  /**
   * Loss of a batch.
   *
   * @param embeddings B×D
   * @param target labels (optional mined tuples as anchor weights, matcher)
   * @returns the named sub-losses (`compute` reduces them to the scalar loss)
   * @throws {ShapeError} LABEL_MISMATCH; {ValueError} NON_FINITE
   */
  computeLoss(embeddings: tf.Tensor2D, target: LossTarget): LossDict {
    const { b, labels } = labelledBatch(embeddings, target, this.name);
    const weights = minerWeights(target, b);
    const masks = pairMasks(pairsOf({ labels, match: target.match }, labels, this.name), b);
    const nPos = new Float32Array(b);
    const keep: number[] = [];
    for (let i = 0; i < b; i++) {
      for (let j = 0; j < b; j++) nPos[i] += masks.pos[i * b + j];
      if (nPos[i] > 0) keep.push(i);
    }
    if (keep.length === 0) return {};
    return tf.tidy((): LossDict => {
      const dist = this.distance.matrix(embeddings);
      const delta = this.histogramMax / this.numBins;
      const mids = tf.reshape(tf.linspace(0, this.histogramMax, this.numBins + 1), [-1, 1, 1]);
      const pulse = tf.relu(tf.sub(1, tf.div(tf.abs(tf.sub(tf.expandDims(dist, 0), mids)), delta))); // E×B×B
      const posHist = tf.transpose(tf.sum(tf.mul(pulse, tf.tensor2d(masks.pos, [b, b])), 2)); // B×E
      const negHist = tf.transpose(tf.sum(tf.mul(pulse, tf.tensor2d(masks.neg, [b, b])), 2));
      const totalPos = tf.cumsum(posHist, 1);
      const total = tf.cumsum(tf.add(posHist, negHist), 1);
      const prod = tf.mul(posHist, totalPos);
      const safeH = tf.mul(tf.step(prod), tf.step(total));
      const anySafe = tf.tidy(() => tf.sum(safeH).dataSync()[0]);
      if (anySafe === 0) return {};
      const safeTotal = tf.add(tf.mul(total, safeH), tf.sub(1, safeH));
      const fastAp = tf.sum(tf.div(tf.mul(prod, safeH), safeTotal), 1); // B
      const keepIdx = tf.tensor1d(Int32Array.from(keep), "int32");
      const np = tf.gather(tf.tensor1d(nPos), keepIdx);
      const w = tf.gather(tf.tensor1d(weights), keepIdx);
      const sel = tf.oneHot(keepIdx, b);
      const perAnchor = tf.squeeze(tf.matMul(tf.cast(sel, "float32"), tf.reshape(fastAp, [b, 1])), [1]);
      return { loss: { losses: tf.mul(tf.sub(1, tf.div(perAnchor, np)), w), reductionType: "element" } };
    });
  }
}
