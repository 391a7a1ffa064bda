/**
 * pytorch-metric-learning's SoftTripleLoss.
 *
 * @module
 */
import { tf } from "@likeness/tf";
import { checkFiniteNumber, checkPositiveInt } from "@likeness/core";
import type { LossTarget } from "../types.ts";
import { BaseLoss, type LossDict } from "../base_loss.ts";
import { meanReducer, type Reducer } from "../reducers.ts";
import { cosineSimilarity, crossEntropy, makeWeight, type PmlDistance, similarityMatrix } from "./_common.ts";
import { checkClassifierSizes, classBatch } from "./_large_margin.ts";

/** Options of {@link PmlSoftTripleLoss}. */
export interface PmlSoftTripleLossOptions {
  /** Number of classes C (required). */
  numClasses: number;
  /** Embedding size D (required). */
  embeddingSize: number;
  /** Centres per class K (default 10). */
  centersPerClass?: number;
  /** λ, the logit scale (default 20). */
  la?: number;
  /** γ, the softmax temperature over a class's centres (default 0.1). */
  gamma?: number;
  /** δ, the margin on the target class (default 0.01). */
  margin?: number;
  /** Initial centres, D×(C·K), class-major columns; default: seeded normal init. */
  fc?: readonly (readonly number[])[] | Float32Array;
  /** Seed of the default init (default 0). */
  seed?: number;
  /** Similarity (default CosineSimilarity). */
  distance?: PmlDistance;
  /** Reduction of the per-element losses (default mean, pml's MeanReducer). */
  reducer?: Reducer;
}

/**
 * SoftTripleLoss of pml 2.8.1 (Qian et al. 2019): class similarity = Σ_k softmax_k(s_k/γ)·s_k over the
 * class's K centres, then cross-entropy of λ·(class similarity − δ on the target), mean over rows.
 * The centre regulariser of the paper is not included (pml leaves it to a weight regulariser).
 * Centres (`fc`, D×C·K) are a trainable variable.
 *
 * @example
 * ```ts
 * import { tf, useTfBackend } from "@likeness/tf";
 * import { PmlSoftTripleLoss } from "@likeness/losses";
 * await useTfBackend("wasm");
 * const loss = new PmlSoftTripleLoss({ numClasses: 2, embeddingSize: 2, centersPerClass: 2 });
 * console.log(loss.compute(tf.tensor2d([[1, 0], [0, 1]]), { labels: [0, 1] }).dataSync()[0]);
 * ```
 */
export class PmlSoftTripleLoss extends BaseLoss {
  /** pml's class name. */
  readonly name = "SoftTripleLoss";
  /** Number of classes. */
  readonly numClasses: number;
  /** Embedding size. */
  readonly embeddingSize: number;
  /** Centres per class. */
  readonly centersPerClass: number;
  /** λ. */
  readonly la: number;
  /** γ. */
  readonly gamma: number;
  /** δ. */
  readonly margin: number;
  /** The similarity. */
  readonly distance: PmlDistance;
  /** Centres, D×(C·K), trainable. */
  readonly fc: tf.Variable;

  /** Reduction of the per-element losses. */
  override readonly reducer: Reducer;

  /**
   * @param options numClasses, embeddingSize, centersPerClass, la, gamma, margin, fc, seed, distance
   * @throws {ValueError} INVALID_ARGUMENT; {ShapeError} when fc has the wrong shape
   */
  constructor(options: PmlSoftTripleLossOptions) {
    super();
    checkClassifierSizes(options.numClasses, options.embeddingSize, this.name);
    this.numClasses = options.numClasses;
    this.embeddingSize = options.embeddingSize;
    this.centersPerClass = checkPositiveInt(options.centersPerClass ?? 10, "centersPerClass", "SoftTripleLoss");
    this.la = checkFiniteNumber(options.la ?? 20, "la", this.name);
    this.gamma = checkFiniteNumber(options.gamma ?? 0.1, "gamma", this.name, { min: 0, minExclusive: true });
    this.margin = checkFiniteNumber(options.margin ?? 0.01, "margin", this.name);
    this.distance = options.distance ?? cosineSimilarity();
    const cols = this.numClasses * this.centersPerClass;
    this.fc = makeWeight(
      options.embeddingSize,
      cols,
      options.fc,
      options.seed ?? 0,
      1 / Math.sqrt(options.embeddingSize),
      "fc",
      this.name,
    );
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
    const { b, ids, weights } = classBatch(embeddings, target, this.embeddingSize, this.numClasses, this.name);
    return tf.tidy((): LossDict => {
      const sim = similarityMatrix(this.distance, embeddings, tf.transpose(this.fc) as tf.Tensor2D);
      const s = tf.reshape(sim, [b, this.numClasses, this.centersPerClass]);
      const prob = tf.softmax(tf.div(s, this.gamma), 2);
      const classSim = tf.sum(tf.mul(prob, s), 2);
      const margin = tf.mul(tf.oneHot(tf.tensor1d(ids, "int32"), this.numClasses), this.margin);
      const logits = tf.mul(this.la, tf.sub(classSim, margin)) as tf.Tensor2D;
      return { loss: { losses: tf.mul(crossEntropy(logits, ids), tf.tensor1d(weights)), reductionType: "element" } };
    });
  }

  /** @returns `[fc]` */
  override trainableVariables(): tf.Variable[] {
    return [this.fc];
  }
}
