/**
 * CoSENTLoss (sentence-transformers): a ranking loss over scored pairs.
 *
 * @module
 */
import { gatherRows, tf } from "@likeness/tf";
import { checkFiniteNumber } from "@likeness/core";
import type { LossTarget } from "../types.ts";
import { alreadyReduced, BaseLoss, type LossDict } from "../base_loss.ts";
import { _pairRows, _scores } from "./_pairs.ts";

/** Row-wise similarity of two B×D tensors (length B). */
export type PairSimilarity = (a: tf.Tensor2D, b: tf.Tensor2D) => tf.Tensor1D;

/** Options of {@link CoSENTLoss}. */
export interface CoSENTLossOptions {
  /** Multiplier of the similarities, the inverse temperature (default 20). */
  scale?: number;
  /** Row-wise similarity (default cosine). */
  similarity?: PairSimilarity;
}

/**
 * Row-wise cosine similarity (zero rows give 0).
 *
 * @param a B×D
 * @param b B×D
 * @returns length B
 * @example
 * ```ts
 * import { tf } from "@likeness/tf";
 * import { pairwiseCosine } from "@likeness/losses";
 * console.log(await pairwiseCosine(tf.tensor2d([[1, 0]]), tf.tensor2d([[1, 1]])).data()); // [0.7071]
 * ```
 */
export function pairwiseCosine(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor1D {
  return tf.tidy(() => {
    const na = tf.sqrt(tf.maximum(tf.sum(tf.square(a), 1), 1e-24));
    const nb = tf.sqrt(tf.maximum(tf.sum(tf.square(b), 1), 1e-24));
    return tf.div(tf.sum(tf.mul(a, b), 1), tf.mul(na, nb)) as tf.Tensor1D;
  });
}

/**
 * The CoSENT objective on pair similarities: log(1 + Σ exp(s_i − s_j)) over every (i, j) whose
 * scores rank j above i (score_i < score_j), with s = scale · similarity.
 *
 * @param sims pair similarities (length P)
 * @param scores pair scores (length P)
 * @param scale multiplier
 * @returns scalar loss (0 when all scores are equal)
 * @example
 * ```ts
 * import { tf } from "@likeness/tf";
 * import { cosentObjective } from "@likeness/losses";
 * console.log(await cosentObjective(tf.tensor1d([0.9, 0.1]), [1, 0], 20).data()); // small
 * ```
 */
export function cosentObjective(sims: tf.Tensor1D, scores: readonly number[], scale: number): tf.Scalar {
  const p = scores.length;
  const penalty = new Float32Array(p * p);
  for (let i = 0; i < p; i++) {
    for (let j = 0; j < p; j++) penalty[i * p + j] = scores[i] < scores[j] ? 0 : -1e12;
  }
  return tf.tidy(() => {
    const s = tf.mul(sims, scale);
    const diff = tf.sub(tf.expandDims(s, 1), tf.expandDims(s, 0));
    const masked = tf.add(tf.reshape(diff, [-1]), tf.tensor1d(penalty));
    return tf.logSumExp(tf.concat([tf.zeros([1]), masked])) as tf.Scalar;
  });
}

/**
 * CoSENTLoss (sentence-transformers; Su 2022): for pairs (a_k, b_k) with graded scores, pushes
 * the similarity of every higher-scored pair above that of every lower-scored pair:
 * loss = log(1 + Σ_{score_i < score_j} exp(scale · (sim_i − sim_j))). Target: `pairs` (rows of
 * the embeddings) and one `scores` entry per pair. Only the ranking of scores matters.
 *
 * @example
 * ```ts
 * import { tf, useTfBackend } from "@likeness/tf";
 * import { CoSENTLoss } from "@likeness/losses";
 * await useTfBackend("wasm");
 * const emb = tf.tensor2d([[1, 0], [0.9, 0.1], [0, 1], [1, 0.2]]);
 * const loss = new CoSENTLoss().compute(emb, { pairs: [[0, 1], [2, 3]], scores: [0.9, 0.1] });
 * console.log(loss.dataSync()[0]);
 * ```
 */
export class CoSENTLoss extends BaseLoss {
  /** Class name. */
  readonly name: string = "CoSENTLoss";
  /** Scale. */
  readonly scale: number;
  /** Row-wise similarity. */
  readonly similarity: PairSimilarity;

  /**
   * @param options scale (20), similarity (cosine)
   * @throws {ValueError} INVALID_ARGUMENT for a non-positive scale
   */
  constructor(options: CoSENTLossOptions = {}) {
    super();
    this.scale = checkFiniteNumber(options.scale ?? 20, "scale", this.name, { min: 0, minExclusive: true });
    this.similarity = options.similarity ?? pairwiseCosine;
  }

  /**
   * Loss of a batch of scored pairs.
   *
   * @param embeddings B×D; pairs index its rows
   * @param target `pairs` and `scores`
   * @returns the named sub-losses (`compute` reduces them to the scalar loss)
   * @throws {ValueError} INVALID_ARGUMENT without pairs or scores; OUT_OF_RANGE for a bad row; NON_FINITE
   * @throws {ShapeError} LABEL_MISMATCH when scores and pairs differ in length
   */
  computeLoss(embeddings: tf.Tensor2D, target: LossTarget): LossDict {
    const x = embeddings;
    const [a, b] = _pairRows(target, x.shape[0], this.name);
    const scores = _scores(target, a.length, this.name);
    return alreadyReduced(
      tf.tidy(() => cosentObjective(this.similarity(gatherRows(x, a), gatherRows(x, b)), scores, this.scale)),
    );
  }
}
