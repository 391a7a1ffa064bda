/**
 * Differentiable gathers that work on every tfjs backend likeness uses. `tf.gather`'s gradient
 * needs the `UnsortedSegmentSum` kernel, which tfjs-wasm lacks, and `gatherND` has no registered
 * gradient: these gather with `gatherND` and scatter the gradient back with `scatterND` (which sums
 * repeated indices, as the gradient of a gather must). The one place this workaround lives.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";

function gatherBy(x: tf.Tensor, indices: tf.Tensor2D): tf.Tensor {
  const shape = x.shape;
  const body = (m: tf.Tensor, save: (t: tf.Tensor[]) => void) => {
    save([indices]);
    return {
      value: tf.gatherND(m, indices),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.scatterND(saved[0], dy, shape),
    };
  };
  // deno-lint-ignore no-explicit-any
  const f = tf.customGrad(body as any) as unknown as (m: tf.Tensor) => tf.Tensor;
  return f(x);
}

/**
 * Rows `x[idx[k]]` of a matrix (K×D), differentiable on tfjs-wasm, webgpu and cpu.
 *
 * @param x B×D
 * @param idx row indices (repeats allowed; their gradients add up)
 * @returns K×D
 * @example
 * ```ts
 * import { gatherRows, tf, useTfBackend } from "@likeness/tf";
 * import assert from "node:assert/strict";
 * await useTfBackend("wasm");
 * const x = tf.tensor2d([[1, 2], [3, 4]]);
 * assert.deepEqual(gatherRows(x, [1, 1]).arraySync(), [[3, 4], [3, 4]]);
 * const g = tf.grad((t: tf.Tensor) => tf.sum(gatherRows(t as tf.Tensor2D, [1, 1])))(x);
 * assert.deepEqual(g.arraySync(), [[0, 0], [2, 2]]);
 * ```
 */
export function gatherRows(x: tf.Tensor2D, idx: ArrayLike<number>): tf.Tensor2D {
  const ind = tf.tensor2d(Int32Array.from(idx as ArrayLike<number>), [idx.length, 1], "int32");
  return gatherBy(x, ind) as tf.Tensor2D;
}

/**
 * Entries `mat[rows[k], cols[k]]` of a matrix as a vector, differentiable on every backend.
 *
 * @param mat R×C
 * @param rows row of each entry
 * @param cols column of each entry (same length as `rows`)
 * @returns a K-vector
 * @example
 * ```ts
 * import { gatherEntries, tf, useTfBackend } from "@likeness/tf";
 * import assert from "node:assert/strict";
 * await useTfBackend("wasm");
 * const m = tf.tensor2d([[1, 2], [3, 4]]);
 * assert.deepEqual(gatherEntries(m, [0, 1], [1, 0]).arraySync(), [2, 3]);
 * ```
 */
export function gatherEntries(mat: tf.Tensor2D, rows: ArrayLike<number>, cols: ArrayLike<number>): tf.Tensor1D {
  const k = rows.length;
  const flat = new Int32Array(k * 2);
  for (let i = 0; i < k; i++) {
    flat[2 * i] = rows[i];
    flat[2 * i + 1] = cols[i];
  }
  return gatherBy(mat, tf.tensor2d(flat, [k, 2], "int32")) as tf.Tensor1D;
}

/**
 * Entries `v[idx[k]]` of a vector, differentiable on every backend.
 *
 * @param v a vector (any tensor; read as flat)
 * @param idx indices
 * @returns a K-vector
 * @example
 * ```ts
 * import { gatherValues, tf, useTfBackend } from "@likeness/tf";
 * import assert from "node:assert/strict";
 * await useTfBackend("wasm");
 * assert.deepEqual(gatherValues(tf.tensor1d([5, 6, 7]), [2, 0]).arraySync(), [7, 5]);
 * ```
 */
export function gatherValues(v: tf.Tensor, idx: ArrayLike<number>): tf.Tensor1D {
  return tf.reshape(gatherRows(tf.reshape(v, [-1, 1]) as tf.Tensor2D, idx), [-1]) as tf.Tensor1D;
}
