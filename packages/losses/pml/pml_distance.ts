/**
 * What pytorch-metric-learning's losses need from a distance, and pml's SNRDistance
 * (signal-to-noise ratio) used by SignalToNoiseRatioContrastiveLoss.
 *
 * @module
 */
import { tf } from "@likeness/tf";
import type { Distance } from "../distances.ts";
import { l2Normalize } from "./_common.ts";

/**
 * What a pml loss needs from a distance: its all-pairs matrix and its direction. Every
 * {@link Distance} from `distance()` fits (pml's LpDistance is
 * `distance("euclidean", { normalize: true })`, its CosineSimilarity is
 * `distance("cosine", { kind: "similarity" })`); so does {@link snrDistance}.
 */
export type PmlDistance = Pick<Distance, "smallerIsCloser" | "matrix">;

/**
 * pml's SNRDistance: var(a_i - b_j) / var(a_i) over the feature axis, on normalised rows.
 * Not symmetric.
 *
 * @returns a distance (smaller is closer)
 * @example
 * ```ts
 * import { tf, useTfBackend } from "@likeness/tf";
 * import { snrDistance } from "@likeness/losses";
 * await useTfBackend("wasm");
 * console.log(snrDistance().matrix(tf.tensor2d([[1, 0, 2], [0, 1, 1]])).arraySync());
 * ```
 */
export function snrDistance(): PmlDistance & { readonly normalize: boolean } {
  return {
    smallerIsCloser: true,
    normalize: true,
    matrix(a: tf.Tensor2D, b?: tf.Tensor2D): tf.Tensor2D {
      return tf.tidy(() => {
        const x = l2Normalize(a);
        const y = b === undefined || b === a ? x : l2Normalize(b);
        const diff = tf.sub(tf.expandDims(x, 1), tf.expandDims(y, 0));
        const dm = tf.mean(diff, 2, true);
        const varDiff = tf.sum(tf.square(tf.sub(diff, dm)), 2);
        const xm = tf.mean(x, 1, true);
        const varX = tf.sum(tf.square(tf.sub(x, xm)), 1, true);
        return tf.div(varDiff, varX) as tf.Tensor2D;
      });
    },
  };
}
