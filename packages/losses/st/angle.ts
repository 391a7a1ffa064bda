/**
 * AnglELoss (sentence-transformers): CoSENT on the normalised angle difference in complex space.
 *
 * @module
 */
import { tf } from "@likeness/tf";
import { checkFiniteNumber } from "@likeness/core";
import { CoSENTLoss } from "./cosent.ts";

/**
 * AnglE's pairwise angle similarity (Li & Li 2023): each row is read as a complex vector
 * (first half real, second half imaginary; an odd width is padded with one zero), the
 * element-wise quotient z = u / v is scaled by |v| / |u|, and the result is |Σ Re z + Σ Im z|.
 *
 * @param x B×D
 * @param y B×D
 * @returns length B
 * @example
 * ```ts
 * import { tf } from "@likeness/tf";
 * import { pairwiseAngleSimilarity } from "@likeness/losses";
 * console.log(await pairwiseAngleSimilarity(tf.tensor2d([[1, 0]]), tf.tensor2d([[1, 0]])).data()); // [1]
 * ```
 */
export function pairwiseAngleSimilarity(x: tf.Tensor2D, y: tf.Tensor2D): tf.Tensor1D {
  return tf.tidy(() => {
    let u = x;
    let v = y;
    if (u.shape[1] % 2 !== 0) {
      u = tf.pad(u, [[0, 0], [0, 1]]);
      v = tf.pad(v, [[0, 0], [0, 1]]);
    }
    const [a, b] = tf.split(u, 2, 1);
    const [c, d] = tf.split(v, 2, 1);
    const z = tf.sum(tf.add(tf.square(c), tf.square(d)), 1, true);
    let re = tf.div(tf.add(tf.mul(a, c), tf.mul(b, d)), z);
    let im = tf.div(tf.sub(tf.mul(b, c), tf.mul(a, d)), z);
    const dz = tf.sqrt(tf.sum(tf.add(tf.square(a), tf.square(b)), 1, true));
    const dw = tf.sqrt(z);
    const ratio = tf.div(dz, dw);
    re = tf.div(re, ratio);
    im = tf.div(im, ratio);
    return tf.abs(tf.add(tf.sum(re, 1), tf.sum(im, 1))) as tf.Tensor1D;
  });
}

/** Options of {@link AnglELoss}. */
export interface AnglELossOptions {
  /** Multiplier of the angle similarities (default 20). */
  scale?: number;
}

/**
 * AnglELoss (sentence-transformers): {@link CoSENTLoss} with {@link pairwiseAngleSimilarity}
 * instead of cosine, which keeps a gradient where cosine saturates. Target: `pairs` and `scores`.
 *
 * @example
 * ```ts
 * import { tf, useTfBackend } from "@likeness/tf";
 * import { AnglELoss } from "@likeness/losses";
 * await useTfBackend("wasm");
 * const emb = tf.tensor2d([[1, 0], [0.9, 0.1], [0, 1], [1, 0.2]]);
 * console.log(new AnglELoss().compute(emb, { pairs: [[0, 1], [2, 3]], scores: [1, 0] }).dataSync()[0]);
 * ```
 */
export class AnglELoss extends CoSENTLoss {
  /** Class name. */
  override readonly name: string = "AnglELoss";

  /**
   * @param options scale (20)
   * @throws {ValueError} INVALID_ARGUMENT for a non-positive scale
   */
  constructor(options: AnglELossOptions = {}) {
    super({
      scale: checkFiniteNumber(options.scale ?? 20, "scale", "AnglELoss", { min: 0, minExclusive: true }),
      similarity: pairwiseAngleSimilarity,
    });
  }
}
