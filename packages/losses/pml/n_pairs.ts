/**
 * pytorch-metric-learning's NPairsLoss.
 *
 * @module
 */
import { gatherRows, tf } from "@likeness/tf";
import { labelIds } from "@likeness/core";
import type { LossTarget } from "../types.ts";
import { BaseLoss, type LossDict } from "../base_loss.ts";
import { meanReducer, type Reducer } from "../reducers.ts";
import { crossEntropy, dotProductSimilarity, pairBatch, type PmlDistance, similarityMatrix } from "./_common.ts";

/** Options of {@link PmlNPairsLoss}. */
export interface PmlNPairsLossOptions {
  /** Similarity (default pml's DotProductSimilarity, which normalises rows: the cosine). */
  distance?: PmlDistance;
  /** Reduction of the per-element losses (default mean, pml's MeanReducer). */
  reducer?: Reducer;
}

/**
 * NPairsLoss of pml 2.8.1: one positive pair per distinct anchor label (the first anchor with a
 * positive, and its first positive), then softmax cross-entropy of each anchor against all chosen
 * positives, mean over anchors. A batch without positive pairs gives 0.
 *
 * @example
 * ```ts
 * import { tf, useTfBackend } from "@likeness/tf";
 * import { PmlNPairsLoss } from "@likeness/losses";
 * await useTfBackend("wasm");
 * const loss = new PmlNPairsLoss();
 * const x = tf.tensor2d([[1, 0], [1, 0.2], [0, 1], [0.1, 1]]);
 * console.log(loss.compute(x, { labels: [0, 0, 1, 1] }).dataSync()[0]);
 * ```
 */
export class PmlNPairsLoss extends BaseLoss {
  /** pml's class name. */
  readonly name = "NPairsLoss";
  /** The similarity. */
  readonly distance: PmlDistance;

  /** Reduction of the per-element losses. */
  override readonly reducer: Reducer;

  /**
   * @param options distance, reducer
   */
  constructor(options: PmlNPairsLossOptions = {}) {
    super();
    this.distance = options.distance ?? dotProductSimilarity();
    this.reducer = options.reducer ?? meanReducer();
  }

  /**
   * Loss of a batch.
   *
   * @param embeddings B×D
   * @param target labels (optional mined pairs, matcher)
   * @returns the named sub-losses (`compute` reduces them to the scalar loss)
   * @throws {ShapeError} LABEL_MISMATCH; {ValueError} NON_FINITE
   */
  computeLoss(embeddings: tf.Tensor2D, target: LossTarget): LossDict {
    const { labels, pairs } = pairBatch(embeddings, target, this.name);
    const ids = labelIds(labels);
    const seen = new Set<number>();
    const a: number[] = [];
    const p: number[] = [];
    for (let k = 0; k < pairs.a1.length; k++) {
      const id = ids[pairs.a1[k]];
      if (seen.has(id)) continue;
      seen.add(id);
      a.push(pairs.a1[k]);
      p.push(pairs.p[k]);
    }
    if (a.length === 0) return {};
    return tf.tidy((): LossDict => {
      const anchors = gatherRows(embeddings, a);
      const positives = gatherRows(embeddings, p);
      const sim = similarityMatrix(this.distance, anchors, positives);
      return { loss: { losses: crossEntropy(sim, Int32Array.from(a, (_v, i) => i)), reductionType: "element" } };
    });
  }
}
