/**
 * Quaterion's OnlineContrastiveLoss: contrastive loss over pairs mined on the fly from a group
 * batch (batch-all or batch-hard), with the anchor never counted as its own negative.
 *
 * @module
 */
import { tf } from "@likeness/tf";
import { checkFiniteNumber, checkOneOf } from "@likeness/core";
import type { LossTarget } from "../types.ts";
import { alreadyReduced, BaseLoss, type LossDict } from "../base_loss.ts";
import type { Distance, DistanceName } from "../distances.ts";
import { evaluateRowChunked, type RowChunkedTerm } from "../chunked.ts";
import { _labels, _maskedMax, _maskedMin, _maskRows, _pairMaskData, _rowAny, _rows } from "../_common.ts";
import { quaterionDefaultDistance } from "./_shared.ts";

/** Options of {@link OnlineContrastiveLoss}. */
export interface OnlineContrastiveLossOptions {
  /** Margin negatives are pushed beyond (default 0.5). */
  margin?: number;
  /** Distance (default Quaterion's cosine matrix form `(1 - cos) / 2`). */
  distance?: Distance | DistanceName;
  /** `all` or `hard` (default). */
  mining?: "all" | "hard";
  /** Rows per block for bounded-memory evaluation (default: all at once). */
  chunkRows?: number;
}

/**
 * Online contrastive loss (Hadsell et al. 2006) over mined pairs:
 * `0.5 * (mean positive distance + mean relu(margin - negative distance))`.
 *
 * - `all`: every positive pair (same label, i ≠ j) and every negative pair (different labels).
 * - `hard`: per anchor, the farthest positive and the nearest negative; each mean is over the
 *   anchors that have one.
 *
 * Quaterion counts each anchor as its own negative at distance 0 (so in `hard` mode negatives
 * never act); likeness uses only pairs with different labels. A batch without positives (or
 * negatives) contributes 0 for that half, never NaN.
 *
 * @example
 * ```ts
 * import { tf } from "@likeness/tf";
 * import { OnlineContrastiveLoss } from "@likeness/losses";
 * const loss = new OnlineContrastiveLoss({ mining: "all" });
 * const e = tf.tensor2d([[1, 0], [1, 0], [0, 1], [0, 1]]);
 * console.log(loss.compute(e, { labels: [0, 0, 1, 1] }).arraySync()); // 0
 * ```
 */
export class OnlineContrastiveLoss extends BaseLoss {
  /** Loss name. */
  readonly name = "OnlineContrastiveLoss";
  /** Margin. */
  readonly margin: number;
  /** Distance. */
  readonly distance: Distance;
  /** Mining strategy. */
  readonly mining: "all" | "hard";
  /** Rows per block, or undefined. */
  readonly chunkRows?: number;

  /**
   * @param options margin, distance, mining, chunkRows
   * @throws {ValueError} UNKNOWN_NAME for a bad mining name; INVALID_ARGUMENT for a bad margin
   */
  constructor(options: OnlineContrastiveLossOptions = {}) {
    super();
    this.margin = checkFiniteNumber(options.margin ?? 0.5, "margin", this.name);
    this.distance = quaterionDefaultDistance(options.distance);
    this.mining = checkOneOf(options.mining ?? "hard", ["all", "hard"] as const, "pair mining");
    this.chunkRows = options.chunkRows;
  }

  /**
   * Scalar loss of a group batch.
   *
   * @param embeddings B×D
   * @param target `labels` and optional `match`
   * @returns the named sub-losses (`compute` reduces them to the scalar loss)
   * @throws {ShapeError} LABEL_MISMATCH when labels and rows differ
   * @throws {ValueError} NON_FINITE for non-finite embeddings; INVALID_ARGUMENT without labels
   */
  computeLoss(embeddings: tf.Tensor2D, target: LossTarget): LossDict {
    const n = embeddings.shape[0];
    const { pos, neg } = _pairMaskData(_labels(target, n, this.name), target.match);
    const m = this.margin;
    const dist = this.distance;
    const finish = (t: tf.Tensor1D) => {
      const p = tf.div(tf.slice(t, [0], [1]), tf.maximum(tf.slice(t, [1], [1]), 1));
      const q = tf.div(tf.slice(t, [2], [1]), tf.maximum(tf.slice(t, [3], [1]), 1));
      return tf.reshape(tf.mul(0.5, tf.add(p, q)), []) as tf.Scalar;
    };
    let term: RowChunkedTerm;
    if (this.mining === "all") {
      term = {
        rows: n,
        partial: (x, s, e) => {
          const d = dist.matrix(_rows(x, s, e), x);
          const pm = _maskRows(pos, n, s, e);
          const nm = _maskRows(neg, n, s, e);
          return tf.stack([
            tf.sum(tf.mul(pm, d)),
            tf.sum(pm),
            tf.sum(tf.mul(nm, tf.relu(tf.sub(m, d)))),
            tf.sum(nm),
          ]) as tf.Tensor1D;
        },
        finish,
      };
    } else {
      const hasPos = _rowAny(pos, n);
      const hasNeg = _rowAny(neg, n);
      term = {
        rows: n,
        partial: (x, s, e) => {
          const d = dist.matrix(_rows(x, s, e), x);
          const hp = tf.tensor1d(hasPos.subarray(s, e));
          const hn = tf.tensor1d(hasNeg.subarray(s, e));
          const maxPos = tf.where(tf.cast(hp, "bool"), _maskedMax(d, _maskRows(pos, n, s, e), 1), tf.zeros([e - s]));
          const minNeg = tf.where(tf.cast(hn, "bool"), _maskedMin(d, _maskRows(neg, n, s, e), 1), tf.fill([e - s], m));
          return tf.stack([
            tf.sum(tf.mul(hp, maxPos)),
            tf.sum(hp),
            tf.sum(tf.mul(hn, tf.relu(tf.sub(m, minNeg)))),
            tf.sum(hn),
          ]) as tf.Tensor1D;
        },
        finish,
      };
    }
    return alreadyReduced(evaluateRowChunked(term, embeddings, { chunkRows: this.chunkRows }));
  }

  /** No learned parameters. */
  override trainableVariables(): tf.Variable[] {
    return [];
  }
}
