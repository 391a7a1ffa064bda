/**
 * CachedMultipleNegativesRankingLoss (sentence-transformers): in-batch negatives with GradCache,
 * so the batch size is not bounded by the memory of one forward pass.
 *
 * @module
 */
import { gatherRows, tf } from "@likeness/tf";
import { checkFiniteNumber, checkOneOf, checkPositiveInt, ShapeError } from "@likeness/core";
import type { LossTarget } from "../types.ts";
import { alreadyReduced, BaseLoss, checkEmbeddings, type LossDict } from "../base_loss.ts";
import { _pairRows } from "./_pairs.ts";

/** Similarity used by the in-batch-negatives loss. */
export type RankingSimilarity = "cosine" | "dot";

/** Options of {@link CachedMultipleNegativesRankingLoss}. */
export interface CachedMultipleNegativesRankingLossOptions {
  /** Multiplier of the similarities (default 20). */
  scale?: number;
  /** `cosine` (default) or `dot`. */
  similarity?: RankingSimilarity;
  /** Rows per mini-batch of the cached forward and backward passes (default 32). */
  miniBatchSize?: number;
}

/** Result of {@link CachedMultipleNegativesRankingLoss.lossAndGrads}. */
export interface CachedLossResult {
  /** The loss value. */
  loss: number;
  /** Gradient of the loss per variable name (dispose them after applying). */
  grads: tf.NamedTensorMap;
}

/** The model side of GradCache: maps a mini-batch of inputs to its embeddings. */
export type EmbedFn = (inputs: tf.Tensor) => tf.Tensor2D;

/**
 * In-batch-negatives ranking loss (MultipleNegativesRankingLoss): row i of `anchors` must rank
 * row i of `candidates` first among all candidate rows (the other positives, then any extra
 * negatives): mean over i of cross-entropy(scale · sim(a_i, C), i).
 *
 * @param anchors B×D
 * @param candidates C×D with C ≥ B; rows 0..B-1 are the positives
 * @param scale multiplier
 * @param similarity `cosine` or `dot`
 * @returns scalar loss
 * @example
 * ```ts
 * import { tf } from "@likeness/tf";
 * import { inBatchNegativesLoss } from "@likeness/losses";
 * const a = tf.tensor2d([[1, 0], [0, 1]]);
 * console.log(inBatchNegativesLoss(a, a, 20, "cosine").dataSync()[0]); // ≈ 2e-9
 * ```
 */
export function inBatchNegativesLoss(
  anchors: tf.Tensor2D,
  candidates: tf.Tensor2D,
  scale: number,
  similarity: RankingSimilarity,
): tf.Scalar {
  const b = anchors.shape[0];
  return tf.tidy(() => {
    const norm = (x: tf.Tensor2D) => tf.div(x, tf.sqrt(tf.maximum(tf.sum(tf.square(x), 1, true), 1e-24)));
    const a = similarity === "cosine" ? norm(anchors) : anchors;
    const c = similarity === "cosine" ? norm(candidates) : candidates;
    const logits = tf.mul(tf.matMul(a, c, false, true), scale);
    const logp = tf.sub(logits, tf.logSumExp(logits, 1, true));
    const pick = tf.oneHot(tf.range(0, b, 1, "int32"), candidates.shape[0]);
    return tf.neg(tf.div(tf.sum(tf.mul(logp, pick)), b)) as tf.Scalar;
  });
}

function rowsOf(x: tf.Tensor, start: number, end: number): tf.Tensor {
  return tf.slice(x, [start], [end - start]);
}

/**
 * CachedMultipleNegativesRankingLoss (sentence-transformers; GradCache, Gao et al. 2021). Its
 * `compute` is the plain in-batch-negatives loss over `target.pairs` [anchor row, positive row].
 * Its `lossAndGrads` trains with batches larger than one forward pass fits:
 * 1. embed every mini-batch without recording gradients;
 * 2. compute the loss and its gradient with respect to the (small) embedding matrices once;
 * 3. for every mini-batch, embed again with gradients and back-propagate the cached embedding
 *    gradient (variableGrads of Σ embed(x) ⊙ g), summing the variable gradients.
 * The gradients equal the uncached loss's up to float rounding. The model must be deterministic
 * between the two passes (no dropout, or dropout with a replayed seed).
 *
 * @example
 * ```ts
 * import { tf, useTfBackend } from "@likeness/tf";
 * import { CachedMultipleNegativesRankingLoss } from "@likeness/losses";
 * import assert from "node:assert/strict";
 * await useTfBackend("wasm");
 * const w = tf.variable(tf.randomNormal([3, 2]), true, "w");
 * const embed = (x: tf.Tensor): tf.Tensor2D => tf.matMul(x as tf.Tensor2D, w);
 * const loss = new CachedMultipleNegativesRankingLoss({ miniBatchSize: 2 });
 * const { loss: value, grads } = await loss.lossAndGrads(embed, tf.randomNormal([4, 3]), tf.randomNormal([4, 3]));
 * tf.train.adam(0.01).applyGradients(grads as tf.NamedTensorMap as Record<string, tf.Variable>);
 * assert.ok(Number.isFinite(value) && "w" in grads);
 * ```
 */
export class CachedMultipleNegativesRankingLoss extends BaseLoss {
  /** Class name. */
  readonly name = "CachedMultipleNegativesRankingLoss";
  /** Scale. */
  readonly scale: number;
  /** Similarity. */
  readonly similarity: RankingSimilarity;
  /** Mini-batch rows. */
  readonly miniBatchSize: number;

  /**
   * @param options scale (20), similarity ("cosine"), miniBatchSize (32)
   * @throws {ValueError} INVALID_ARGUMENT for a bad scale or mini-batch size; UNKNOWN_NAME for a similarity
   */
  constructor(options: CachedMultipleNegativesRankingLossOptions = {}) {
    super();
    this.scale = checkFiniteNumber(options.scale ?? 20, "scale", this.name, { min: 0, minExclusive: true });
    this.similarity = checkOneOf(options.similarity ?? "cosine", ["cosine", "dot"] as const, "similarity");
    this.miniBatchSize = checkPositiveInt(options.miniBatchSize ?? 32, "miniBatchSize", this.name);
  }

  /**
   * Uncached loss of already computed embeddings.
   *
   * @param embeddings B×D
   * @param target `pairs`: [anchor row, positive row]; the other positives are the negatives
   * @returns the named sub-losses (`compute` reduces them to the scalar loss)
   * @throws {ValueError} INVALID_ARGUMENT without pairs; OUT_OF_RANGE for a bad row; NON_FINITE
   */
  computeLoss(embeddings: tf.Tensor2D, target: LossTarget): LossDict {
    const x = embeddings;
    const [a, p] = _pairRows(target, x.shape[0], this.name);
    return alreadyReduced(
      tf.tidy(() => inBatchNegativesLoss(gatherRows(x, a), gatherRows(x, p), this.scale, this.similarity)),
    );
  }

  /**
   * Loss and variable gradients with GradCache.
   *
   * @param embed the model: inputs (first axis = rows) to B×D embeddings
   * @param anchors anchor inputs, B rows
   * @param positives positive inputs, B rows (row i belongs to anchor i)
   * @param options `negatives`: extra negative inputs (any number of rows); `varList`: variables to differentiate (default all trainable)
   * @returns the loss value and the summed gradients per variable name
   * @throws {ShapeError} SHAPE_MISMATCH when anchors and positives differ in rows or embeddings in width
   */
  async lossAndGrads(
    embed: EmbedFn,
    anchors: tf.Tensor,
    positives: tf.Tensor,
    options: { negatives?: tf.Tensor; varList?: tf.Variable[] } = {},
  ): Promise<CachedLossResult> {
    if (anchors.shape[0] !== positives.shape[0]) {
      throw new ShapeError(
        `Cannot compute ${this.name}: ${anchors.shape[0]} anchors but ${
          positives.shape[0]
        } positives; pass one positive per anchor`,
      );
    }
    const groups = [anchors, positives, ...(options.negatives ? [options.negatives] : [])];
    const mb = this.miniBatchSize;
    // 1. embeddings without a graph, one mini-batch at a time
    const cached = groups.map((g) => {
      const parts: tf.Tensor2D[] = [];
      for (let s = 0; s < g.shape[0]; s += mb) {
        parts.push(tf.tidy(() => embed(rowsOf(g, s, Math.min(s + mb, g.shape[0])))));
      }
      const all = parts.length === 1 ? parts[0] : tf.concat(parts, 0);
      if (parts.length > 1) parts.forEach((t) => t.dispose());
      return all as tf.Tensor2D;
    });
    const width = cached[0].shape[1];
    for (const c of cached) checkEmbeddings(c, this.name);
    if (cached.some((c) => c.shape[1] !== width)) {
      cached.forEach((c) => c.dispose());
      throw new ShapeError(`Cannot compute ${this.name}: the model returned embeddings of different widths`);
    }
    // 2. loss and its gradient with respect to the embeddings, once
    const lossOf = (...embs: tf.Tensor[]) => {
      const cands = embs.length > 2 ? tf.concat(embs.slice(1), 0) : embs[1];
      return inBatchNegativesLoss(embs[0] as tf.Tensor2D, cands as tf.Tensor2D, this.scale, this.similarity);
    };
    const { value, grads: embGrads } = tf.valueAndGrads(lossOf)(cached);
    const loss = (await value.data())[0];
    value.dispose();
    cached.forEach((c) => c.dispose());
    // 3. per mini-batch backward with the cached gradient
    const total: tf.NamedTensorMap = {};
    try {
      groups.forEach((g, gi) => {
        for (let s = 0; s < g.shape[0]; s += mb) {
          const e = Math.min(s + mb, g.shape[0]);
          const { value: v, grads } = tf.variableGrads(() => {
            const dy = tf.slice(embGrads[gi], [s, 0], [e - s, width]);
            return tf.sum(tf.mul(embed(rowsOf(g, s, e)), dy)) as tf.Scalar;
          }, options.varList);
          v.dispose();
          for (const [name, grad] of Object.entries(grads)) {
            const prev = total[name];
            if (prev) {
              total[name] = tf.add(prev, grad);
              prev.dispose();
              grad.dispose();
            } else {
              total[name] = grad;
            }
          }
        }
      });
    } finally {
      embGrads.forEach((g) => g.dispose());
    }
    return { loss, grads: total };
  }
}
