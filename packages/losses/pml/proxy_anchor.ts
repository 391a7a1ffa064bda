/**
 * pytorch-metric-learning's ProxyAnchorLoss.
 *
 * @module
 */
import { tf } from "@likeness/tf";
import { checkFiniteNumber } from "@likeness/core";
import type { LossTarget } from "../types.ts";
import { alreadyReduced, BaseLoss, type LossDict } from "../base_loss.ts";
import { cosineSimilarity, makeWeight, margin as distMargin, maskedLogSumExp, type PmlDistance } from "./_common.ts";
import { checkClassifierSizes, classBatch } from "./_large_margin.ts";

/** Options of {@link PmlProxyAnchorLoss}. */
export interface PmlProxyAnchorLossOptions {
  /** Number of classes C (required). */
  numClasses: number;
  /** Embedding size D (required). */
  embeddingSize: number;
  /** Margin δ (default 0.1). */
  margin?: number;
  /** Scale α (default 32). */
  alpha?: number;
  /** Initial proxies, C×D; default: seeded normal init with std sqrt(2 / C) (kaiming, fan_out). */
  proxies?: readonly (readonly number[])[] | Float32Array;
  /** Seed of the default init (default 0). */
  seed?: number;
  /** Similarity (default CosineSimilarity). */
  distance?: PmlDistance;
}

/**
 * ProxyAnchorLoss of pml 2.8.1 (Kim et al. 2020):
 * (1/|P+|) Σ_{c with positives} log(1 + Σ_{x of c} exp(-α (s(x,c) - δ)))
 * + (1/C) Σ_c log(1 + Σ_{x not of c} exp(α (s(x,c) + δ))). Proxies (C×D) are a trainable variable.
 *
 * @example
 * ```ts
 * import { tf, useTfBackend } from "@likeness/tf";
 * import { PmlProxyAnchorLoss } from "@likeness/losses";
 * await useTfBackend("wasm");
 * const loss = new PmlProxyAnchorLoss({ numClasses: 2, embeddingSize: 2 });
 * console.log(loss.compute(tf.tensor2d([[1, 0], [0, 1]]), { labels: [0, 1] }).dataSync()[0]);
 * ```
 */
export class PmlProxyAnchorLoss extends BaseLoss {
  /** pml's class name. */
  readonly name = "ProxyAnchorLoss";
  /** Number of classes. */
  readonly numClasses: number;
  /** Embedding size. */
  readonly embeddingSize: number;
  /** δ. */
  readonly margin: number;
  /** α. */
  readonly alpha: number;
  /** The similarity. */
  readonly distance: PmlDistance;
  /** Proxies, C×D, trainable. */
  readonly proxies: tf.Variable;

  /**
   * @param options numClasses, embeddingSize, margin, alpha, proxies, seed, distance
   * @throws {ValueError} INVALID_ARGUMENT; {ShapeError} when proxies have the wrong shape
   */
  constructor(options: PmlProxyAnchorLossOptions) {
    super();
    checkClassifierSizes(options.numClasses, options.embeddingSize, this.name);
    this.numClasses = options.numClasses;
    this.embeddingSize = options.embeddingSize;
    this.margin = checkFiniteNumber(options.margin ?? 0.1, "margin", this.name);
    this.alpha = checkFiniteNumber(options.alpha ?? 32, "alpha", this.name);
    this.distance = options.distance ?? cosineSimilarity();
    const std = Math.sqrt(2 / options.numClasses);
    this.proxies = makeWeight(
      options.numClasses,
      options.embeddingSize,
      options.proxies,
      options.seed ?? 0,
      std,
      "proxies",
      this.name,
    );
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
    const c = this.numClasses;
    const { b, ids, weights } = classBatch(embeddings, target, this.embeddingSize, c, this.name);
    const mw = weights.map((w) => w - 1);
    const withPos = new Set(ids).size;
    return alreadyReduced(tf.tidy(() => {
      const cos = this.distance.matrix(embeddings, this.proxies as unknown as tf.Tensor2D); // B×C
      const posMask = tf.oneHot(tf.tensor1d(ids, "int32"), c);
      const negMask = tf.sub(1, posMask) as tf.Tensor2D;
      const w = tf.reshape(tf.tensor1d(mw), [b, 1]);
      const posExp = tf.add(tf.mul(this.alpha, distMargin(this.distance, cos, this.margin)), w) as tf.Tensor2D;
      const negExp = tf.add(tf.mul(this.alpha, distMargin(this.distance, -this.margin, cos)), w) as tf.Tensor2D;
      const posTerm = maskedLogSumExp(posExp, tf.cast(posMask, "float32") as tf.Tensor2D, true, 0);
      const negTerm = maskedLogSumExp(negExp, negMask, true, 0);
      return tf.add(tf.div(tf.sum(posTerm), withPos), tf.div(tf.sum(negTerm), c)) as tf.Scalar;
    }));
  }

  /** @returns `[proxies]` */
  override trainableVariables(): tf.Variable[] {
    return [this.proxies];
  }
}
