/**
 * Quaterion's FastAPLoss: a differentiable approximation of average precision by soft histograms
 * of squared distances between L2-normalised embeddings.
 *
 * @module
 */
import { tf } from "@likeness/tf";
import { checkPositiveInt } from "@likeness/core";
import type { LossTarget } from "../types.ts";
import { alreadyReduced, BaseLoss, type LossDict } from "../base_loss.ts";
import { distance } from "../distances.ts";
import { evaluateRowChunked } from "../chunked.ts";
import { _labels, _maskRows, _pairMaskData, _rowAny, _rows } from "../_common.ts";

/** Options of {@link FastAPLoss}. */
export interface FastAPLossOptions {
  /** Number of histogram bins over squared distances in [0, 4] (default 10). */
  numBins?: number;
  /** Rows per block for bounded-memory evaluation (default: all at once). */
  chunkRows?: number;
}

/**
 * FastAP (Cakir et al. 2019): per anchor, soft histograms (triangular kernels, `numBins + 1` centres
 * over [0, 4]) of squared L2 distances to positives and negatives give
 * `AP ≈ Σ_b h⁺_b H⁺_b / H_b / N⁺`; the loss is `1 - mean AP` over anchors with a positive.
 * A batch where no anchor has a positive gives 0 (Quaterion gives NaN).
 *
 * @example
 * ```ts
 * import { tf } from "@likeness/tf";
 * import { FastAPLoss } from "@likeness/losses";
 * const loss = new FastAPLoss();
 * const e = tf.tensor2d([[1, 0], [1, 0], [-1, 0], [-1, 0]]);
 * console.log(loss.compute(e, { labels: [0, 0, 1, 1] }).arraySync()); // 0
 * ```
 */
export class FastAPLoss extends BaseLoss {
  /** Loss name. */
  readonly name = "FastAPLoss";
  /** Number of bins. */
  readonly numBins: number;
  /** Rows per block, or undefined. */
  readonly chunkRows?: number;

  /**
   * @param options numBins, chunkRows
   * @throws {ValueError} INVALID_ARGUMENT when numBins is not a positive integer
   */
  constructor(options: FastAPLossOptions = {}) {
    super();
    this.numBins = checkPositiveInt(options.numBins ?? 10, `${this.name} numBins`);
    this.chunkRows = options.chunkRows;
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
    const hasPos = _rowAny(pos, n);
    const nb = this.numBins;
    const delta = 4 / nb;
    const mids = Array.from({ length: nb + 1 }, (_, i) => (4 * i) / nb);
    const sq = distance("squared_euclidean", { normalize: true });
    return alreadyReduced(evaluateRowChunked(
      {
        rows: n,
        partial: (x, s, e) => {
          const d = sq.matrix(_rows(x, s, e), x); // b×B
          const pm = _maskRows(pos, n, s, e);
          const nm = _maskRows(neg, n, s, e);
          const centres = tf.reshape(tf.tensor1d(mids), [1, 1, nb + 1]);
          const pulse = tf.relu(tf.sub(1, tf.div(tf.abs(tf.sub(tf.expandDims(d, 2), centres)), delta))); // b×B×bins
          const posHist = tf.sum(tf.mul(pulse, tf.expandDims(pm, 2)), 1); // b×bins
          const negHist = tf.sum(tf.mul(pulse, tf.expandDims(nm, 2)), 1);
          const cumPos = tf.cumsum(posHist, 1);
          const cumAll = tf.cumsum(tf.add(posHist, negHist), 1);
          const num = tf.mul(posHist, cumPos);
          const ap = tf.div(tf.sum(tf.div(num, tf.maximum(cumAll, 1e-12)), 1), tf.maximum(tf.sum(pm, 1), 1)); // b
          const valid = tf.tensor1d(hasPos.subarray(s, e));
          return tf.stack([tf.sum(tf.mul(valid, ap)), tf.sum(valid)]) as tf.Tensor1D;
        },
        finish: (t) => {
          const count = tf.slice(t, [1], [1]);
          const meanAp = tf.div(tf.slice(t, [0], [1]), tf.maximum(count, 1));
          // no anchor with a positive: 0
          return tf.reshape(tf.mul(tf.sub(1, meanAp), tf.minimum(count, 1)), []) as tf.Scalar;
        },
      },
      embeddings,
      { chunkRows: this.chunkRows },
    ));
  }

  /** No learned parameters. */
  override trainableVariables(): tf.Variable[] {
    return [];
  }
}
