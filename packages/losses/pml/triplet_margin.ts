/**
 * pytorch-metric-learning's TripletMarginLoss.
 *
 * @module
 */
import { gatherEntries, tf } from "@likeness/tf";
import { checkFiniteNumber } from "@likeness/core";
import type { LossTarget } from "../types.ts";
import { BaseLoss, type LossDict } from "../base_loss.ts";
import { avgNonZeroReducer, type Reducer } from "../reducers.ts";
import { lpDistance, margin as distMargin, partnerMatrix, type PmlDistance, tripletBatch } from "./_common.ts";

/** Options of {@link PmlTripletMarginLoss} (pml's names, camelCased). */
export interface PmlTripletMarginLossOptions {
  /** Margin between the anchor-positive and anchor-negative distances (default 0.05). */
  margin?: number;
  /** Use min(d(a,n), d(p,n)) as the negative distance (default false). */
  swap?: boolean;
  /** softplus instead of relu (default false). */
  smoothLoss?: boolean;
  /** Distance (default LpDistance, L2 between normalised rows). */
  distance?: PmlDistance;
  /** Reduction of the per-element losses (default average over non-zero terms, pml's AvgNonZeroReducer). */
  reducer?: Reducer;
}

/**
 * TripletMarginLoss of pytorch-metric-learning 2.8.1: relu(d(a,p) - d(a,n) + margin) over every
 * triplet (or the mined ones in `target.indices`), averaged over the non-zero terms
 * (AvgNonZeroReducer). A batch without a triplet gives 0.
 *
 * @example
 * ```ts
 * import { tf, useTfBackend } from "@likeness/tf";
 * import { PmlTripletMarginLoss } from "@likeness/losses";
 * await useTfBackend("wasm");
 * const loss = new PmlTripletMarginLoss({ margin: 0.1 });
 * const x = tf.tensor2d([[1, 0], [0.9, 0.1], [0, 1]]);
 * console.log(loss.compute(x, { labels: [0, 0, 1] }).dataSync()[0]);
 * ```
 */
export class PmlTripletMarginLoss extends BaseLoss {
  /** pml's class name. */
  readonly name = "TripletMarginLoss";
  /** Takes a reference set (`target.ref`), so {@link CrossBatchMemory} can wrap it. */
  override readonly acceptsReference = true;
  /** Margin. */
  readonly margin: number;
  /** Whether the swap trick is used. */
  readonly swap: boolean;
  /** Whether softplus replaces relu. */
  readonly smoothLoss: boolean;
  /** The distance. */
  readonly distance: PmlDistance;

  /** Reduction of the per-element losses. */
  override readonly reducer: Reducer;

  /**
   * @param options margin, swap, smoothLoss, distance
   * @throws {ValueError} INVALID_ARGUMENT for a non-finite margin
   */
  constructor(options: PmlTripletMarginLossOptions = {}) {
    super();
    this.margin = checkFiniteNumber(options.margin ?? 0.05, "margin", this.name);
    this.swap = options.swap ?? false;
    this.smoothLoss = options.smoothLoss ?? false;
    this.distance = options.distance ?? lpDistance();
    this.reducer = options.reducer ?? avgNonZeroReducer();
  }

  /**
   * Loss of a batch.
   *
   * @param embeddings B×D
   * @param target labels (and optional mined triplets / pairs, label matcher)
   * @returns the named sub-losses (`compute` reduces them to the scalar loss)
   * @throws {ShapeError} LABEL_MISMATCH; {ValueError} NON_FINITE
   */
  computeLoss(embeddings: tf.Tensor2D, target: LossTarget): LossDict {
    const { triplets: t } = tripletBatch(embeddings, target, this.name);
    if (t.a.length === 0) return {};
    return tf.tidy((): LossDict => {
      const mat = partnerMatrix(this.distance, embeddings, target);
      const { a, p, n } = t;
      const ap = gatherEntries(mat, a, p);
      let an: tf.Tensor = gatherEntries(mat, a, n);
      if (this.swap) {
        // d(p, n): both are partner rows (batch rows, or reference rows against a reference set)
        const pn = target.ref
          ? gatherEntries(this.distance.matrix(target.ref.embeddings), p, n)
          : gatherEntries(mat, p, n);
        an = this.distance.smallerIsCloser ? tf.minimum(an, pn) : tf.maximum(an, pn);
      }
      const violation = tf.add(distMargin(this.distance, ap, an), this.margin);
      const losses = this.smoothLoss ? tf.softplus(violation) : tf.relu(violation);
      return { loss: { losses: losses, reductionType: "triplet" } };
    });
  }
}
