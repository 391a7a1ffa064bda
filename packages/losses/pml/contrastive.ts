/**
 * pytorch-metric-learning's ContrastiveLoss.
 *
 * @module
 */
import { gatherEntries, tf } from "@likeness/tf";
import { checkFiniteNumber } from "@likeness/core";
import type { LossTarget } from "../types.ts";
import { BaseLoss, type LossDict } from "../base_loss.ts";
import { avgNonZeroReducer, type Reducer } from "../reducers.ts";
import { lpDistance, margin as distMargin, pairBatch, partnerMatrix, type PmlDistance } from "./_common.ts";

/** Options of {@link PmlContrastiveLoss}. */
export interface PmlContrastiveLossOptions {
  /** Positive pairs are penalised beyond this distance (default 0). */
  posMargin?: number;
  /** Negative pairs are penalised within this distance (default 1). */
  negMargin?: number;
  /** Distance (default LpDistance between normalised rows). */
  distance?: PmlDistance;
  /** Reduction of the per-element losses (default average over non-zero terms, pml's AvgNonZeroReducer). */
  reducer?: Reducer;
}

/** The settings a contrastive loss computes with. */
export interface ContrastiveSettings {
  /** pml's class name (for error messages). */
  readonly name: string;
  /** The distance. */
  readonly distance: PmlDistance;
  /** Positive margin. */
  readonly posMargin: number;
  /** Negative margin. */
  readonly negMargin: number;
  /** Reduction of the per-element losses. */
  readonly reducer: Reducer;
}

/**
 * Shared body of ContrastiveLoss and SignalToNoiseRatioContrastiveLoss: `pos_loss` over positive
 * pairs and `neg_loss` over negative pairs, each reduced on its own (pml's two sub-losses).
 * Against `target.ref` the pairs are (batch row, reference row).
 */
export function contrastiveLosses(loss: ContrastiveSettings, embeddings: tf.Tensor2D, target: LossTarget): LossDict {
  const { distance, posMargin, negMargin } = loss;
  const { pairs } = pairBatch(embeddings, target, loss.name);
  return tf.tidy((): LossDict => {
    const mat = partnerMatrix(distance, embeddings, target);
    const out: LossDict = {};
    if (pairs.a1.length > 0) {
      const d = gatherEntries(mat, pairs.a1, pairs.p);
      out.pos_loss = { losses: tf.relu(distMargin(distance, d, posMargin)), reductionType: "pos_pair" };
    }
    if (pairs.a2.length > 0) {
      const d = gatherEntries(mat, pairs.a2, pairs.n);
      out.neg_loss = { losses: tf.relu(distMargin(distance, negMargin, d)), reductionType: "neg_pair" };
    }
    return out;
  });
}

/**
 * ContrastiveLoss of pytorch-metric-learning 2.8.1: relu(d(a,p) - posMargin) over positive pairs plus
 * relu(negMargin - d(a,n)) over negative pairs (reversed for similarities), each averaged over its
 * non-zero terms, summed. No pairs of a kind contribute 0.
 *
 * @example
 * ```ts
 * import { tf, useTfBackend } from "@likeness/tf";
 * import { PmlContrastiveLoss } from "@likeness/losses";
 * await useTfBackend("wasm");
 * const loss = new PmlContrastiveLoss({ negMargin: 1 });
 * console.log(loss.compute(tf.tensor2d([[1, 0], [1, 0.2], [0, 1]]), { labels: [0, 0, 1] }).dataSync()[0]);
 * ```
 */
export class PmlContrastiveLoss extends BaseLoss {
  /** pml's class name. */
  readonly name: string = "ContrastiveLoss";
  /** Takes a reference set (`target.ref`), so {@link CrossBatchMemory} can wrap it. */
  override readonly acceptsReference = true;
  /** Positive margin. */
  readonly posMargin: number;
  /** Negative margin. */
  readonly negMargin: number;
  /** The distance. */
  readonly distance: PmlDistance;

  /** Reduction of the per-element losses. */
  override readonly reducer: Reducer;

  /**
   * @param options posMargin, negMargin, distance
   * @throws {ValueError} INVALID_ARGUMENT for non-finite margins
   */
  constructor(options: PmlContrastiveLossOptions = {}) {
    super();
    this.posMargin = checkFiniteNumber(options.posMargin ?? 0, "posMargin", "ContrastiveLoss");
    this.negMargin = checkFiniteNumber(options.negMargin ?? 1, "negMargin", "ContrastiveLoss");
    this.distance = options.distance ?? lpDistance();
    this.reducer = options.reducer ?? avgNonZeroReducer();
  }

  /**
   * Loss of a batch.
   *
   * @param embeddings B×D
   * @param target labels (optional mined pairs/triplets, matcher)
   * @returns the named sub-losses (`compute` reduces them to the scalar loss)
   * @throws {ShapeError} LABEL_MISMATCH; {ValueError} NON_FINITE
   */
  computeLoss(embeddings: tf.Tensor2D, target: LossTarget): LossDict {
    return contrastiveLosses(this, embeddings, target);
  }
}
