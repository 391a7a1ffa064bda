/**
 * pytorch-metric-learning's ProxyNCALoss.
 *
 * @module
 */
import { tf } from "@likeness/tf";
import { checkFiniteNumber } from "@likeness/core";
import type { LossTarget } from "../types.ts";
import { alreadyReduced, BaseLoss, type LossDict } from "../base_loss.ts";
import { l2Normalize, lpDistance, makeWeight, normalizes, type PmlDistance } from "./_common.ts";
import { checkClassifierSizes, classBatch } from "./_large_margin.ts";
import { ncaLosses } from "./nca.ts";

/** Options of {@link PmlProxyNCALoss}. */
export interface PmlProxyNCALossOptions {
  /** Number of classes C (required). */
  numClasses: number;
  /** Embedding size D (required). */
  embeddingSize: number;
  /** Softmax scale (default 1). */
  softmaxScale?: number;
  /** Initial proxies, C×D; default: seeded standard normal init. */
  proxies?: readonly (readonly number[])[] | Float32Array;
  /** Seed of the default init (default 0). */
  seed?: number;
  /** Distance (default squared L2 between normalised rows, as NCALoss). */
  distance?: PmlDistance;
}

/**
 * ProxyNCALoss of pml 2.8.1: NCA against one (normalised) proxy per class: per row,
 * -log softmax_c(-scale·d(x, proxy_c))[y], mean. Proxies (C×D) are a trainable variable.
 *
 * @example
 * ```ts
 * import { tf, useTfBackend } from "@likeness/tf";
 * import { PmlProxyNCALoss } from "@likeness/losses";
 * await useTfBackend("wasm");
 * const loss = new PmlProxyNCALoss({ numClasses: 2, embeddingSize: 2 });
 * console.log(loss.compute(tf.tensor2d([[1, 0], [0, 1]]), { labels: [0, 1] }).dataSync()[0]);
 * ```
 */
export class PmlProxyNCALoss extends BaseLoss {
  /** pml's class name. */
  readonly name = "ProxyNCALoss";
  /** Number of classes. */
  readonly numClasses: number;
  /** Embedding size. */
  readonly embeddingSize: number;
  /** Softmax scale. */
  readonly softmaxScale: number;
  /** The distance. */
  readonly distance: PmlDistance;
  /** Proxies, C×D, trainable. */
  readonly proxies: tf.Variable;

  /**
   * @param options numClasses, embeddingSize, softmaxScale, proxies, seed, distance
   * @throws {ValueError} INVALID_ARGUMENT; {ShapeError} when proxies have the wrong shape
   */
  constructor(options: PmlProxyNCALossOptions) {
    super();
    checkClassifierSizes(options.numClasses, options.embeddingSize, this.name);
    this.numClasses = options.numClasses;
    this.embeddingSize = options.embeddingSize;
    this.softmaxScale = checkFiniteNumber(options.softmaxScale ?? 1, "softmaxScale", this.name);
    this.distance = options.distance ?? lpDistance({ power: 2 });
    this.proxies = makeWeight(
      options.numClasses,
      options.embeddingSize,
      options.proxies,
      options.seed ?? 0,
      1,
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
    const same = new Float32Array(b * c);
    for (let i = 0; i < b; i++) same[i * c + ids[i]] = 1;
    return alreadyReduced(tf.tidy(() => {
      const p = this.proxies as unknown as tf.Tensor2D;
      const prox = normalizes(this.distance) ? l2Normalize(p) : p;
      return ncaLosses(this.distance, this.softmaxScale, embeddings, prox, same, weights);
    }));
  }

  /** @returns `[proxies]` */
  override trainableVariables(): tf.Variable[] {
    return [this.proxies];
  }
}
