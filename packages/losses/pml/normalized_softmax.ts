/**
 * pytorch-metric-learning's NormalizedSoftmaxLoss.
 *
 * @module
 */
import { tf } from "@likeness/tf";
import { checkFiniteNumber } from "@likeness/core";
import type { LossTarget } from "../types.ts";
import { BaseLoss, type LossDict } from "../base_loss.ts";
import { meanReducer, type Reducer } from "../reducers.ts";
import { cosineSimilarity, crossEntropy, l2Normalize, makeWeight, type PmlDistance } from "./_common.ts";
import { checkClassifierSizes, classBatch, type PmlClassifierOptions } from "./_large_margin.ts";

/** Options of {@link PmlNormalizedSoftmaxLoss}. */
export interface PmlNormalizedSoftmaxLossOptions extends PmlClassifierOptions {
  /** Softmax temperature (default 0.05). */
  temperature?: number;
  /** Similarity between embeddings and class weights (default CosineSimilarity). */
  distance?: PmlDistance;
}

/**
 * NormalizedSoftmaxLoss of pml 2.8.1: softmax cross-entropy over sim(x, w_c)/temperature with
 * column-normalised class weights W (D×C, a trainable variable); mean over rows.
 *
 * @example
 * ```ts
 * import { tf, useTfBackend } from "@likeness/tf";
 * import { PmlNormalizedSoftmaxLoss } from "@likeness/losses";
 * await useTfBackend("wasm");
 * const loss = new PmlNormalizedSoftmaxLoss({ numClasses: 2, embeddingSize: 2 });
 * console.log(loss.compute(tf.tensor2d([[1, 0], [0, 1]]), { labels: [0, 1] }).dataSync()[0]);
 * ```
 */
export class PmlNormalizedSoftmaxLoss extends BaseLoss {
  /** pml's class name. */
  readonly name = "NormalizedSoftmaxLoss";
  /** Number of classes. */
  readonly numClasses: number;
  /** Embedding size. */
  readonly embeddingSize: number;
  /** Temperature. */
  readonly temperature: number;
  /** The similarity. */
  readonly distance: PmlDistance;
  /** Class weights W, D×C, trainable. */
  readonly W: tf.Variable;

  /** Reduction of the per-element losses. */
  override readonly reducer: Reducer;

  /**
   * @param options numClasses, embeddingSize, temperature, W, seed, distance
   * @throws {ValueError} INVALID_ARGUMENT; {ShapeError} when W has the wrong shape
   */
  constructor(options: PmlNormalizedSoftmaxLossOptions) {
    super();
    checkClassifierSizes(options.numClasses, options.embeddingSize, this.name);
    this.numClasses = options.numClasses;
    this.embeddingSize = options.embeddingSize;
    this.temperature = checkFiniteNumber(options.temperature ?? 0.05, "temperature", this.name, {
      min: 0,
      minExclusive: true,
    });
    this.distance = options.distance ?? cosineSimilarity();
    this.W = makeWeight(options.embeddingSize, options.numClasses, options.W, options.seed ?? 0, 1, "W", this.name);
    this.reducer = options.reducer ?? meanReducer();
  }

  /**
   * Loss of a batch.
   *
   * @param embeddings B×D
   * @param target labels: class ids in [0, numClasses) (optional mined tuples as row weights)
   * @returns the named sub-losses (`compute` reduces them to the scalar loss)
   * @throws {ShapeError} LABEL_MISMATCH, SHAPE_MISMATCH; {ValueError} NON_FINITE, OUT_OF_RANGE
   */
  computeLoss(embeddings: tf.Tensor2D, target: LossTarget): LossDict {
    const { ids, weights } = classBatch(embeddings, target, this.embeddingSize, this.numClasses, this.name);
    return tf.tidy((): LossDict => {
      const w = tf.transpose(l2Normalize(this.W as unknown as tf.Tensor2D, 0)) as tf.Tensor2D;
      let exponent = tf.div(this.distance.matrix(embeddings, w), this.temperature) as tf.Tensor2D;
      if (this.distance.smallerIsCloser) exponent = tf.neg(exponent);
      return { loss: { losses: tf.mul(crossEntropy(exponent, ids), tf.tensor1d(weights)), reductionType: "element" } };
    });
  }

  /** @returns `[W]` */
  override trainableVariables(): tf.Variable[] {
    return [this.W];
  }
}
