/**
 * Private helpers shared by the losses: input validation and label masks.
 *
 * @module
 */
import { tf } from "@likeness/tf";
import {
  equalLabels,
  type Label,
  type LabelMatcher,
  requireLabels,
  sameLabelMatrix,
  ShapeError,
  ValueError,
} from "@likeness/core";
import type { LossTarget } from "./types.ts";

/** The labels of a group loss, checked against the batch size (core's one rule). */
export function _labels(target: LossTarget | undefined, n: number, loss: string): readonly Label[] {
  return requireLabels(target?.labels, n, loss);
}

/** Positive (same label, i ≠ j) and negative (different label) masks as B×B float32 data. */
export function _pairMaskData(
  labels: readonly Label[],
  match: LabelMatcher = equalLabels,
): { pos: Float32Array; neg: Float32Array } {
  const n = labels.length;
  const same = sameLabelMatrix(labels, match);
  const pos = new Float32Array(n * n);
  const neg = new Float32Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const k = i * n + j;
      if (same[k]) {
        if (i !== j) pos[k] = 1;
      } else neg[k] = 1;
    }
  }
  return { pos, neg };
}

/** Rows [start, end) of a B×B mask as a tensor. */
export function _maskRows(data: Float32Array, n: number, start: number, end: number): tf.Tensor2D {
  return tf.tensor2d(data.subarray(start * n, end * n), [end - start, n]);
}

/** Pairs of a pairwise loss, checked against the batch size. */
export function _pairs(
  target: LossTarget | undefined,
  n: number,
  loss: string,
): readonly (readonly [number, number])[] {
  const pairs = target?.pairs;
  if (!pairs || pairs.length === 0) {
    throw new ValueError("INVALID_ARGUMENT", `Cannot compute ${loss}: pass target.pairs (row index pairs [a, b])`);
  }
  for (let i = 0; i < pairs.length; i++) {
    const p = pairs[i];
    if (!p || p.length !== 2 || !p.every((v) => Number.isInteger(v) && v >= 0 && v < n)) {
      throw new ValueError(
        "OUT_OF_RANGE",
        `Cannot compute ${loss}: pair ${i} is ${JSON.stringify(p)}; indices must be integers in [0, ${n})`,
      );
    }
  }
  return pairs;
}

/** Class ids of a class-weight loss, checked to lie in [0, numClasses). */
export function _classIds(labels: readonly Label[], numClasses: number, loss: string): Int32Array {
  const out = new Int32Array(labels.length);
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i];
    if (typeof l !== "number" || !Number.isInteger(l) || l < 0 || l >= numClasses) {
      throw new ValueError(
        "OUT_OF_RANGE",
        `Cannot compute ${loss}: label ${JSON.stringify(l)} at row ${i} is not a class id in [0, ${numClasses}); ` +
          `map labels to integer ids below numGroups or raise numGroups`,
        { details: { row: i } },
      );
    }
    out[i] = l;
  }
  return out;
}

/** Initial values of a learned weight: given values (checked) or a seeded random init. */
export function _weightInit(
  given: readonly (readonly number[])[] | undefined,
  rows: number,
  cols: number,
  what: string,
  init: () => number,
): tf.Tensor2D {
  if (given) {
    if (given.length !== rows || given.some((r) => r.length !== cols)) {
      throw new ShapeError(
        `Cannot initialise ${what}: expected ${rows}×${cols} values, got ${given.length}×${given[0]?.length ?? 0}`,
      );
    }
    const flat = new Float32Array(rows * cols);
    for (let i = 0; i < rows; i++) {
      for (let j = 0; j < cols; j++) {
        const v = given[i][j];
        if (!Number.isFinite(v)) {
          throw new ValueError("NON_FINITE", `Cannot initialise ${what}: value [${i}, ${j}] is ${v}`);
        }
        flat[i * cols + j] = v;
      }
    }
    return tf.tensor2d(flat, [rows, cols]);
  }
  const flat = new Float32Array(rows * cols);
  for (let i = 0; i < flat.length; i++) flat[i] = init();
  return tf.tensor2d(flat, [rows, cols]);
}

/** Mean cross-entropy of logits (B×C) against integer targets. */
export function _crossEntropy(logits: tf.Tensor2D, targets: Int32Array): tf.Scalar {
  return tf.tidy(() => {
    const c = logits.shape[1];
    const onehot = tf.oneHot(tf.tensor1d(targets, "int32"), c);
    const lse = tf.logSumExp(logits, 1);
    const picked = tf.sum(tf.mul(logits, onehot), 1);
    return tf.mean(tf.sub(lse, picked)) as tf.Scalar;
  });
}

/** Large finite value used to exclude entries from a min or max (keeps gradients finite). */
export const _BIG = 1e9;

/** Max over `axis` of the entries where `mask` (0/1 float, same shape or broadcastable) is 1. */
export function _maskedMax(x: tf.Tensor, mask: tf.Tensor, axis: number): tf.Tensor {
  return tf.max(tf.where(tf.cast(mask, "bool"), x, tf.fill(x.shape, -_BIG)), axis);
}

/** Min over `axis` of the entries where `mask` (0/1 float) is 1. */
export function _maskedMin(x: tf.Tensor, mask: tf.Tensor, axis: number): tf.Tensor {
  return tf.min(tf.where(tf.cast(mask, "bool"), x, tf.fill(x.shape, _BIG)), axis);
}

/** Rows [start, end) of a 2-D tensor. */
export function _rows(x: tf.Tensor2D, start: number, end: number): tf.Tensor2D {
  return start === 0 && end === x.shape[0] ? x : tf.slice(x, [start, 0], [end - start, -1]);
}

/** Per-row "has any" flag of a B×B mask, as float32 data. */
export function _rowAny(data: Float32Array, n: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      if (data[i * n + j]) {
        out[i] = 1;
        break;
      }
    }
  }
  return out;
}

/** `t[0] / max(t[1], floor)` as a scalar (a sum over a count; 0 when the count is 0). */
export function _ratio(t: tf.Tensor1D, floor = 1): tf.Scalar {
  return tf.reshape(tf.div(tf.slice(t, [0], [1]), tf.maximum(tf.slice(t, [1], [1]), floor)), []) as tf.Scalar;
}
