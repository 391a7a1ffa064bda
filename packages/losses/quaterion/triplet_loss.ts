/**
 * Quaterion's TripletLoss: batch-all, batch-hard (with soft-margin variant) and per-anchor
 * semi-hard online triplet mining over a group batch.
 *
 * @module
 */
import { tf } from "@likeness/tf";
import { checkFiniteNumber, checkName, SEMIHARD_ALIASES } from "@likeness/core";
import type { LossTarget } from "../types.ts";
import { alreadyReduced, BaseLoss, type LossDict } from "../base_loss.ts";
import type { Distance, DistanceName } from "../distances.ts";
import { quaterionDefaultDistance } from "./_shared.ts";
import { evaluateRowChunked, type RowChunkedTerm } from "../chunked.ts";
import { _labels, _maskedMax, _maskedMin, _maskRows, _pairMaskData, _ratio, _rowAny, _rows } from "../_common.ts";

/** Triplet mining strategies. */
export type TripletMining = "all" | "hard" | "semi_hard";

/** Options of {@link TripletLoss}. */
export interface TripletLossOptions {
  /** Margin (default 0.5). */
  margin?: number;
  /** Distance (default Quaterion's cosine matrix form `(1 - cos) / 2`, i.e. `distance("cosine", { scale: "half" })`). */
  distance?: Distance | DistanceName;
  /** `all`, `hard` (default) or `semi_hard` (pml's spelling `semihard` is accepted too). */
  mining?: TripletMining;
  /** Soft-margin variant `softplus(d_ap - d_an)` of batch-hard (default false; ignored otherwise). */
  soft?: boolean;
  /** Rows per block for bounded-memory evaluation (default: all at once). See {@link evaluateRowChunked}. */
  chunkRows?: number;
}

/**
 * Triplet loss (Schroff et al. 2015) with online mining, as Quaterion defines it:
 *
 * - `all`: mean of `relu(d(a,p) - d(a,n) + margin)` over the triplets whose loss is positive
 *   (Quaterion divides by the count of triplets with loss > 1e-16).
 * - `hard`: per anchor the farthest positive and the nearest negative;
 *   `relu((d_ap - d_an) / mean(d_an) + margin)`, or `softplus(d_ap - d_an)` when `soft`; mean over anchors.
 * - `semi_hard`: per anchor and positive, the nearest negative farther than the positive
 *   (or, if none, the farthest negative); mean of `relu(d_ap - d_an + margin)` over (anchor, positive) pairs.
 *   Quaterion's own semi_hard compares every positive pair of the batch with every negative pair
 *   (not per anchor); likeness implements the per-anchor definition.
 *
 * Anchors with no positive or no negative are left out (Quaterion lets them contribute with
 * placeholder distances); a batch with no valid triplet gives 0.
 *
 * @example
 * ```ts
 * import { tf } from "@likeness/tf";
 * import { TripletLoss } from "@likeness/losses";
 * const loss = new TripletLoss({ mining: "all", margin: 0.2 });
 * const e = tf.tensor2d([[1, 0], [0.9, 0.1], [0, 1], [0.1, 0.9]]);
 * console.log(loss.compute(e, { labels: [0, 0, 1, 1] }).arraySync()); // 0 (every margin holds)
 * ```
 */
export class TripletLoss extends BaseLoss {
  /** Loss name. */
  readonly name = "TripletLoss";
  /** Margin. */
  readonly margin: number;
  /** Distance. */
  readonly distance: Distance;
  /** Mining strategy. */
  readonly mining: TripletMining;
  /** Soft-margin variant of batch-hard. */
  readonly soft: boolean;
  /** Rows per block, or undefined. */
  readonly chunkRows?: number;

  /**
   * @param options margin, distance, mining, soft, chunkRows
   * @throws {ValueError} UNKNOWN_NAME for a bad mining name; INVALID_ARGUMENT for a bad margin
   */
  constructor(options: TripletLossOptions = {}) {
    super();
    this.margin = checkFiniteNumber(options.margin ?? 0.5, "margin", this.name);
    this.distance = quaterionDefaultDistance(options.distance);
    this.mining = checkName(
      options.mining ?? "hard",
      ["all", "hard", "semi_hard"] as const,
      "triplet mining",
      SEMIHARD_ALIASES,
    );
    this.soft = options.soft ?? false;
    this.chunkRows = options.chunkRows;
  }

  /**
   * Scalar loss of a group batch.
   *
   * @param embeddings B×D
   * @param target `labels` (one per row) and optional `match`
   * @returns the named sub-losses (`compute` reduces them to the scalar loss)
   * @throws {ShapeError} LABEL_MISMATCH when labels and rows differ
   * @throws {ValueError} NON_FINITE for non-finite embeddings; INVALID_ARGUMENT without labels
   */
  computeLoss(embeddings: tf.Tensor2D, target: LossTarget): LossDict {
    const n = embeddings.shape[0];
    const labels = _labels(target, n, this.name);
    const { pos, neg } = _pairMaskData(labels, target.match);
    const term = this.mining === "all"
      ? this.allTerm(n, pos, neg)
      : this.mining === "hard"
      ? this.hardTerm(n, pos, neg)
      : this.semiHardTerm(n, pos, neg);
    return alreadyReduced(evaluateRowChunked(term, embeddings, { chunkRows: this.chunkRows }));
  }

  /** No learned parameters. */
  override trainableVariables(): tf.Variable[] {
    return [];
  }

  private allTerm(n: number, pos: Float32Array, neg: Float32Array): RowChunkedTerm {
    const m = this.margin;
    const dist = this.distance;
    return {
      rows: n,
      partial: (x, s, e) => {
        const d = dist.matrix(_rows(x, s, e), x); // b×B
        // Which triplets are active is not differentiable, so it is decided in JS on the values; the
        // loss is linear in d over the active set: Σ (d_ap - d_an + m) = Σ W ⊙ d + m · #active.
        // O(b×B) memory and O(b×B log B) work instead of a b×B×B cube.
        const { weights, active } = _batchAllWeights(d.dataSync() as Float32Array, e - s, n, s, pos, neg, m);
        const w = tf.tensor2d(weights, [e - s, n]);
        return tf.stack([tf.add(tf.sum(tf.mul(w, d)), m * active), tf.scalar(active)]) as tf.Tensor1D;
      },
      finish: (t) => tf.reshape(tf.div(tf.slice(t, [0], [1]), tf.add(tf.slice(t, [1], [1]), 1e-16)), []) as tf.Scalar,
    };
  }

  private hardTerm(n: number, pos: Float32Array, neg: Float32Array): RowChunkedTerm {
    const m = this.margin;
    const dist = this.distance;
    const hasPos = _rowAny(pos, n);
    const hasNeg = _rowAny(neg, n);
    const valid = hasPos.map((v, i) => v * hasNeg[i]);
    const hardest = (x: tf.Tensor2D, s: number, e: number) => {
      const d = dist.matrix(_rows(x, s, e), x);
      const hp = _maskedMax(d, _maskRows(pos, n, s, e), 1);
      const hn = _maskedMin(d, _maskRows(neg, n, s, e), 1);
      const v = tf.tensor1d(valid.subarray(s, e));
      // invalid rows: replace by 0 so the huge placeholders never enter a sum
      const ok = tf.cast(v, "bool");
      return { hp: tf.where(ok, hp, tf.zerosLike(hp)), hn: tf.where(ok, hn, tf.zerosLike(hn)), v };
    };
    if (this.soft) {
      return {
        rows: n,
        partial: (x, s, e) => {
          const { hp, hn, v } = hardest(x, s, e);
          return tf.stack([tf.sum(tf.mul(v, tf.softplus(tf.sub(hp, hn)))), tf.sum(v)]) as tf.Tensor1D;
        },
        finish: (t) => _ratio(t),
      };
    }
    return {
      rows: n,
      stats: (x, s, e) => {
        const { hn, v } = hardest(x, s, e);
        return tf.stack([tf.sum(tf.mul(v, hn)), tf.sum(v)]) as tf.Tensor1D;
      },
      partial: (x, s, e, stats) => {
        const { hp, hn, v } = hardest(x, s, e);
        // mean hardest-negative distance over valid anchors (1 when there are none; floored so a
        // batch whose negatives all sit at distance 0 cannot divide by 0)
        const count = tf.slice(stats!, [1], [1]);
        const meanHn = tf.maximum(
          tf.add(tf.div(tf.slice(stats!, [0], [1]), tf.maximum(count, 1)), tf.sub(1, tf.minimum(count, 1))),
          1e-12,
        );
        const l = tf.relu(tf.add(tf.div(tf.sub(hp, hn), meanHn), m));
        return tf.stack([tf.sum(tf.mul(v, l)), tf.sum(v)]) as tf.Tensor1D;
      },
      finish: (t) => _ratio(t),
    };
  }

  private semiHardTerm(n: number, pos: Float32Array, neg: Float32Array): RowChunkedTerm {
    const m = this.margin;
    const dist = this.distance;
    return {
      rows: n,
      partial: (x, s, e) => {
        const d = dist.matrix(_rows(x, s, e), x); // b×B
        // The choice of negative is not differentiable, so it is made in JS on the values; the loss
        // is then linear in d: Σ_active (d_ap - d_an + m) = Σ W ⊙ d + m · #active, W = +1 at each
        // active (a, p) and -1 at its chosen (a, n). Memory O(b×B) instead of a b×B×B cube.
        const { weights, active, pairs } = _semiHardWeights(d.dataSync() as Float32Array, e - s, n, s, pos, neg, m);
        const w = tf.tensor2d(weights, [e - s, n]);
        return tf.stack([tf.add(tf.sum(tf.mul(w, d)), m * active), tf.scalar(pairs)]) as tf.Tensor1D;
      },
      finish: (t) => _ratio(t),
    };
  }
}

/**
 * Semi-hard selection for rows [s, s + b) of the distance matrix (row-major b×n values): for each
 * anchor and positive, the nearest negative farther than the positive, else the farthest negative.
 * Returns the linear weights of the active terms, the active count and the (anchor, positive) count.
 */
function _semiHardWeights(
  d: Float32Array,
  b: number,
  n: number,
  s: number,
  pos: Float32Array,
  neg: Float32Array,
  margin: number,
): { weights: Float32Array; active: number; pairs: number } {
  const weights = new Float32Array(b * n);
  let active = 0;
  let pairs = 0;
  for (let r = 0; r < b; r++) {
    const i = s + r;
    const row = r * n;
    const negs: number[] = [];
    for (let k = 0; k < n; k++) if (neg[i * n + k]) negs.push(k);
    if (negs.length === 0) continue;
    negs.sort((x, y) => d[row + x] - d[row + y]);
    const farthest = negs[negs.length - 1];
    for (let j = 0; j < n; j++) {
      if (!pos[i * n + j]) continue;
      pairs++;
      const dap = d[row + j];
      // first negative with distance > dap (binary search over the sorted negatives)
      let lo = 0;
      let hi = negs.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (d[row + negs[mid]] > dap) hi = mid;
        else lo = mid + 1;
      }
      const k = lo < negs.length ? negs[lo] : farthest;
      if (dap - d[row + k] + margin > 0) {
        weights[row + j] += 1;
        weights[row + k] -= 1;
        active++;
      }
    }
  }
  return { weights, active, pairs };
}

/**
 * Batch-all selection for rows [s, s + b): every (anchor, positive, negative) with
 * `d_an < d_ap + margin` is active. Returns the linear weights (+count at each (a, p), -count at
 * each (a, n)) and the number of active triplets.
 */
function _batchAllWeights(
  d: Float32Array,
  b: number,
  n: number,
  s: number,
  pos: Float32Array,
  neg: Float32Array,
  margin: number,
): { weights: Float32Array; active: number } {
  const weights = new Float32Array(b * n);
  let active = 0;
  for (let r = 0; r < b; r++) {
    const i = s + r;
    const row = r * n;
    const negs: number[] = [];
    for (let k = 0; k < n; k++) if (neg[i * n + k]) negs.push(k);
    if (negs.length === 0) continue;
    negs.sort((x, y) => d[row + x] - d[row + y]);
    // ends[c] = how many positives make exactly the first c sorted negatives active
    const ends = new Float64Array(negs.length + 1);
    for (let j = 0; j < n; j++) {
      if (!pos[i * n + j]) continue;
      const thr = d[row + j] + margin;
      let lo = 0;
      let hi = negs.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (d[row + negs[mid]] < thr) lo = mid + 1;
        else hi = mid;
      }
      weights[row + j] += lo;
      ends[lo] += 1;
      active += lo;
    }
    let acc = 0;
    for (let c = negs.length; c >= 1; c--) {
      acc += ends[c];
      weights[row + negs[c - 1]] -= acc;
    }
  }
  return { weights, active };
}
