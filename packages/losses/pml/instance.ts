/**
 * pytorch-metric-learning's InstanceLoss.
 *
 * @module
 */
import { tf } from "@likeness/tf";
import { checkFiniteNumber, type Label, ValueError } from "@likeness/core";
import type { LossTarget } from "../types.ts";
import { BaseLoss, type LossDict } from "../base_loss.ts";
import { meanReducer, type Reducer } from "../reducers.ts";
import { cosineSimilarity, crossEntropy, labelledBatch, type PmlDistance, similarityMatrix } from "./_common.ts";

/** Options of {@link PmlInstanceLoss}. */
export interface PmlInstanceLossOptions {
  /** Scale of the similarities (default 64). */
  gamma?: number;
  /** Similarity (default CosineSimilarity). */
  distance?: PmlDistance;
  /** Reduction of the per-element losses (default mean, pml's MeanReducer). */
  reducer?: Reducer;
}

/** Dense ids of labels in sorted order (torch.unique(..., return_inverse=True)). */
function sortedInverse(labels: readonly Label[]): Int32Array {
  const key = (l: Label) => (Array.isArray(l) ? JSON.stringify(l) : l);
  const uniq = [...new Set(labels.map(key))].sort((a, b) =>
    typeof a === "number" && typeof b === "number" ? a - b : String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0
  );
  const index = new Map(uniq.map((u, i) => [u, i]));
  return Int32Array.from(labels, (l) => index.get(key(l))!);
}

/**
 * InstanceLoss of pml 2.8.1 (Zheng et al., "Dual-Path Convolutional Image-Text Embeddings with
 * Instance Loss"): softmax cross-entropy of each row's scaled similarities to the batch
 * (γ·s(x_i, x_j)), the target column being the row's dense label id (labels sorted, as
 * `torch.unique(return_inverse=True)`). As in the reference implementation the target indexes the
 * batch, so the loss is meant for batches where every instance is its own class and rows are ordered
 * by label (the usual "instance" setting: labels 0..B-1). Mined tuples are not supported.
 *
 * @example
 * ```ts
 * import { tf, useTfBackend } from "@likeness/tf";
 * import { PmlInstanceLoss } from "@likeness/losses";
 * await useTfBackend("wasm");
 * const loss = new PmlInstanceLoss({ gamma: 16 });
 * console.log(loss.compute(tf.tensor2d([[1, 0], [0, 1], [-1, 0]]), { labels: [0, 1, 2] }).dataSync()[0]);
 * ```
 */
export class PmlInstanceLoss extends BaseLoss {
  /** pml's class name. */
  readonly name = "InstanceLoss";
  /** γ. */
  readonly gamma: number;
  /** The similarity. */
  readonly distance: PmlDistance;

  /** Reduction of the per-element losses. */
  override readonly reducer: Reducer;

  /**
   * @param options gamma, distance
   * @throws {ValueError} INVALID_ARGUMENT
   */
  constructor(options: PmlInstanceLossOptions = {}) {
    super();
    this.gamma = checkFiniteNumber(options.gamma ?? 64, "gamma", this.name);
    this.distance = options.distance ?? cosineSimilarity();
    this.reducer = options.reducer ?? meanReducer();
  }

  /**
   * Loss of a batch.
   *
   * @param embeddings B×D
   * @param target labels
   * @returns the named sub-losses (`compute` reduces them to the scalar loss)
   * @throws {ShapeError} LABEL_MISMATCH; {ValueError} NON_FINITE, UNSUPPORTED for mined indices
   */
  computeLoss(embeddings: tf.Tensor2D, target: LossTarget): LossDict {
    const { labels } = labelledBatch(embeddings, target, this.name);
    if (target.indices) {
      throw new ValueError("UNSUPPORTED", "Cannot compute InstanceLoss with mined indices: pass labels only");
    }
    const ids = sortedInverse(labels);
    return tf.tidy((): LossDict => {
      const sim = similarityMatrix(this.distance, embeddings);
      return { loss: { losses: crossEntropy(tf.mul(sim, this.gamma) as tf.Tensor2D, ids), reductionType: "element" } };
    });
  }
}
