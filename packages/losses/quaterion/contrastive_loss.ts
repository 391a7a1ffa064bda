/**
 * Quaterion's ContrastiveLoss over explicit pairs with scores, with optional subgroups that add
 * the nearest other-subgroup item as an extra negative.
 *
 * @module
 */
import { gatherRows, gatherValues, tf } from "@likeness/tf";
import { checkFiniteNumber, ShapeError, ValueError } from "@likeness/core";
import type { LossTarget } from "../types.ts";
import { alreadyReduced, BaseLoss, type LossDict } from "../base_loss.ts";
import { type Distance, distance as makeDistance, type DistanceName } from "../distances.ts";
import { _maskedMin, _pairs } from "../_common.ts";

/** Options of {@link ContrastiveLoss}. */
export interface ContrastiveLossOptions {
  /** Margin negatives are pushed beyond (default 0.5). */
  margin?: number;
  /** Distance between the two items of a pair (default cosine `1 - cos`, Quaterion's row-wise form). */
  distance?: Distance | DistanceName;
  /**
   * Distance used to find the nearest item of another subgroup (default: Quaterion's matrix form of
   * the same distance, i.e. `(1 - cos) / 2` for cosine).
   */
  subgroupDistance?: Distance | DistanceName;
  /** Mean over pairs (default true) or sum. */
  sizeAverage?: boolean;
}

/**
 * Contrastive loss (Hadsell et al. 2006) over pairs `[a, b]` with score `y` (1 similar, 0 not):
 * `0.5 * (y * d² + (1 - y) * relu(margin - d)²)`, averaged (or summed) over pairs.
 *
 * With `target.subgroups` holding more than one distinct value, each item's nearest item from a
 * different subgroup is an extra negative: `relu(margin - d_neg(a))² + relu(margin - d_neg(b))²` is
 * added per pair (an item with no other-subgroup item adds 0).
 *
 * @example
 * ```ts
 * import { tf } from "@likeness/tf";
 * import { ContrastiveLoss } from "@likeness/losses";
 * const loss = new ContrastiveLoss();
 * const e = tf.tensor2d([[1, 0], [1, 0], [0, 1], [-1, 0]]);
 * console.log(loss.compute(e, { pairs: [[0, 1], [2, 3]], scores: [1, 0] }).arraySync()); // 0
 * ```
 */
export class ContrastiveLoss extends BaseLoss {
  /** Loss name. */
  readonly name = "ContrastiveLoss";
  /** Margin. */
  readonly margin: number;
  /** Pair distance. */
  readonly distance: Distance;
  /** Subgroup negative distance. */
  readonly subgroupDistance: Distance;
  /** Mean (true) or sum. */
  readonly sizeAverage: boolean;

  /**
   * @param options margin, distance, subgroupDistance, sizeAverage
   * @throws {ValueError} INVALID_ARGUMENT for a bad margin; UNKNOWN_NAME for a bad distance name
   */
  constructor(options: ContrastiveLossOptions = {}) {
    super();
    this.margin = checkFiniteNumber(options.margin ?? 0.5, "margin", this.name);
    const d = options.distance ?? "cosine";
    this.distance = typeof d === "string" ? makeDistance(d) : d;
    const sd = options.subgroupDistance ??
      (this.distance.name === "cosine" && options.distance === undefined
        ? makeDistance("cosine", { scale: "half" })
        : this.distance);
    this.subgroupDistance = typeof sd === "string" ? makeDistance(sd) : sd;
    this.sizeAverage = options.sizeAverage ?? true;
  }

  /**
   * Scalar loss of a pair batch.
   *
   * @param embeddings B×D (items referenced by the pairs)
   * @param target `pairs`, `scores` (one per pair), optional `subgroups` (one per row)
   * @returns the named sub-losses (`compute` reduces them to the scalar loss)
   * @throws {ShapeError} LABEL_MISMATCH when scores or subgroups have the wrong length
   * @throws {ValueError} NON_FINITE; INVALID_ARGUMENT without pairs or scores; OUT_OF_RANGE for bad pair indices
   */
  computeLoss(embeddings: tf.Tensor2D, target: LossTarget): LossDict {
    const n = embeddings.shape[0];
    const pairs = _pairs(target, n, this.name);
    const scores = target.scores;
    if (!scores) {
      throw new ValueError("INVALID_ARGUMENT", `Cannot compute ${this.name}: pass target.scores (one per pair)`);
    }
    if (scores.length !== pairs.length) {
      throw new ShapeError(
        `Cannot compute ${this.name}: got ${scores.length} scores for ${pairs.length} pairs; pass one score per pair`,
        "LABEL_MISMATCH",
      );
    }
    const sub = target.subgroups;
    if (sub && sub.length !== n) {
      throw new ShapeError(
        `Cannot compute ${this.name}: got ${sub.length} subgroups for ${n} rows; pass one subgroup per row`,
        "LABEL_MISMATCH",
      );
    }
    const m = this.margin;
    return alreadyReduced(tf.tidy(() => {
      const ia = pairs.map((p) => p[0]);
      const ib = pairs.map((p) => p[1]);
      const d = this.distance.rowwise(gatherRows(embeddings, ia), gatherRows(embeddings, ib));
      const y = tf.tensor1d(scores as number[]);
      let losses: tf.Tensor = tf.mul(
        0.5,
        tf.add(tf.mul(y, tf.square(d)), tf.mul(tf.sub(1, y), tf.square(tf.relu(tf.sub(m, d))))),
      );
      if (sub && new Set(sub).size > 1) {
        const other = new Float32Array(n * n);
        const hasOther = new Float32Array(n);
        for (let i = 0; i < n; i++) {
          for (let j = 0; j < n; j++) {
            if (sub[i] !== sub[j]) {
              other[i * n + j] = 1;
              hasOther[i] = 1;
            }
          }
        }
        const dm = this.subgroupDistance.matrix(embeddings);
        const nearest = _maskedMin(dm, tf.tensor2d(other, [n, n]), 1);
        const impact = tf.mul(tf.tensor1d(hasOther), tf.square(tf.relu(tf.sub(m, nearest))));
        losses = tf.add(
          losses,
          tf.add(gatherValues(impact as tf.Tensor1D, ia), gatherValues(impact as tf.Tensor1D, ib)),
        );
      }
      return (this.sizeAverage ? tf.mean(losses) : tf.sum(losses)) as tf.Scalar;
    }));
  }

  /** No learned parameters. */
  override trainableVariables(): tf.Variable[] {
    return [];
  }
}
