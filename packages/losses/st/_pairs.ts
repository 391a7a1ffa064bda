/**
 * Private helpers of the sentence-transformers-style losses: pair and score validation, row
 * gathering.
 *
 * @module
 */
import { tf } from "@likeness/tf";
import { ShapeError, ValueError } from "@likeness/core";
import type { LossTarget } from "../types.ts";

/**
 * Check embeddings: a non-empty 2-D tensor with finite values.
 *
 * @param e embeddings
 * @param loss loss name for messages
 * @returns the tensor as 2-D
 */
export function _checkEmbeddings(e: tf.Tensor, loss: string): tf.Tensor2D {
  if (!(e instanceof tf.Tensor) || e.rank !== 2) {
    throw new ShapeError(
      `Cannot compute ${loss}: embeddings must be a 2-D tensor (B×D), got rank ${(e as tf.Tensor)?.rank}`,
    );
  }
  if (e.shape[0] === 0 || e.shape[1] === 0) {
    throw new ShapeError(`Cannot compute ${loss}: embeddings are empty (${e.shape[0]}×${e.shape[1]})`, "EMPTY_INPUT");
  }
  const data = e.dataSync();
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i])) {
      throw new ValueError(
        "NON_FINITE",
        `Cannot compute ${loss}: embedding value at flat index ${i} is ${data[i]}; pass finite embeddings`,
      );
    }
  }
  return e as tf.Tensor2D;
}

/**
 * Pairs of row indices from a target, checked against the batch size.
 *
 * @param target loss target
 * @param n number of rows
 * @param loss loss name
 * @returns [first rows, second rows]
 */
export function _pairRows(target: LossTarget | undefined, n: number, loss: string): [number[], number[]] {
  const pairs = target?.pairs;
  if (!pairs || pairs.length === 0) {
    throw new ValueError("INVALID_ARGUMENT", `Cannot compute ${loss}: pass target.pairs ([row a, row b] per pair)`);
  }
  const a: number[] = [];
  const b: number[] = [];
  for (let k = 0; k < pairs.length; k++) {
    const p = pairs[k];
    if (!p || p.length !== 2) throw new ShapeError(`Cannot compute ${loss}: pair ${k} is not [a, b]`);
    for (const i of p) {
      if (!Number.isInteger(i) || i < 0 || i >= n) {
        throw new ValueError(
          "OUT_OF_RANGE",
          `Cannot compute ${loss}: pair ${k} refers to row ${i} but the batch has ${n} rows`,
        );
      }
    }
    a.push(p[0]);
    b.push(p[1]);
  }
  return [a, b];
}

/**
 * One finite score per pair.
 *
 * @param target loss target
 * @param count number of pairs
 * @param loss loss name
 * @returns the scores
 */
export function _scores(target: LossTarget | undefined, count: number, loss: string): readonly number[] {
  const s = target?.scores;
  if (!s) throw new ValueError("INVALID_ARGUMENT", `Cannot compute ${loss}: pass target.scores (one score per pair)`);
  if (s.length !== count) {
    throw new ShapeError(
      `Cannot compute ${loss}: got ${s.length} scores for ${count} pairs; pass one score per pair`,
      "LABEL_MISMATCH",
    );
  }
  for (let i = 0; i < s.length; i++) {
    if (typeof s[i] !== "number" || !Number.isFinite(s[i])) {
      throw new ValueError(
        "NON_FINITE",
        `Cannot compute ${loss}: score ${i} is ${s[i]}; scores must be finite numbers`,
      );
    }
  }
  return s;
}

/**
 * Rows of x by index, differentiable on every tfjs backend: a one-hot selector times x (the
 * gradient of `tf.gather` needs UnsortedSegmentSum, which tfjs-wasm lacks).
 *
 * @param x B×D
 * @param rows row indices
 * @returns rows.length×D
 */
export function _gatherRows(x: tf.Tensor2D, rows: readonly number[]): tf.Tensor2D {
  return tf.tidy(() => {
    const sel = tf.oneHot(tf.tensor1d(rows as number[], "int32"), x.shape[0]);
    return tf.matMul(tf.cast(sel, "float32"), x) as tf.Tensor2D;
  });
}

/**
 * Check a positive finite number option.
 *
 * @param v value
 * @param name option name
 * @param loss loss name
 * @returns the value
 */
export function _positive(v: number, name: string, loss: string): number {
  if (typeof v !== "number" || !Number.isFinite(v) || v <= 0) {
    throw new ValueError("INVALID_ARGUMENT", `Invalid ${loss} ${name} ${v}: expected a positive finite number`);
  }
  return v;
}
