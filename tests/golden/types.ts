/**
 * Shapes of the golden conformance runner: cases from `../shared/golden/*.json` (schema in
 * `/work/shared/golden/README.md`) and the adapters that map a case onto likeness.
 *
 * @module
 */
import { tf } from "@likeness/tf";

/** One case of a golden file (numbers already parsed: "NaN"/"Infinity" strings become numbers). */
export interface GoldenCase {
  /** Unique id, e.g. "quaterion/TripletLoss/cosine/hard/s0". */
  id: string;
  /** Whose semantics the case follows: "quaterion" or "pml". */
  lib: string;
  /** The peer's class name (or "Distance", "AccuracyCalculator", a miner's name). */
  name: string;
  /** The peer's constructor arguments. */
  params: Record<string, unknown>;
  /** Inputs: embeddings, groups, pairs, labels, learned weights, ... */
  inputs: Record<string, unknown>;
  /** Expected outputs; `null` fields (e.g. a grad the peer could not compute) are not compared. */
  expected: Record<string, unknown>;
  /** When present, the peer's output is a defect: the case is skipped with this reason (unless `likeness_expected`). */
  peer_bug?: string;
  /**
   * For a `peer_bug` case: what likeness computes instead (its documented difference). The case then
   * runs and is compared against these fields rather than skipped.
   */
  likeness_expected?: Record<string, unknown>;
  /** Expected fields that are peer defects and are not compared, with the reason. */
  ignore_fields?: Record<string, string>;
}

/** Relative and absolute tolerance: |actual - expected| <= atol + rtol * |expected|. */
export interface GoldenTolerance {
  /** Relative tolerance. */
  rtol: number;
  /** Absolute tolerance. */
  atol: number;
}

/** Maps golden cases onto likeness. */
export interface GoldenAdapter {
  /** Adapter name, for messages. */
  name: string;
  /** Whether this adapter handles the case (first match wins). */
  matches(c: GoldenCase): boolean;
  /** Optional: a reason to skip the case (e.g. "needs the evaluation package"), or undefined to run it. */
  skip?(c: GoldenCase): string | undefined;
  /** Compute the case's fields (same names and nesting as `expected`). */
  run(c: GoldenCase): Promise<Record<string, unknown>>;
  /** Per-field tolerance overrides, keyed by field name or dotted path ("query_vs_reference.r_precision"). */
  tolerance?: Record<string, GoldenTolerance>;
  /** Fields compared as sets of index tuples (default: triplets, positive_pairs, negative_pairs). */
  setFields?: readonly string[];
}

/**
 * Read a numeric matrix input of a case.
 *
 * @param c the case
 * @param key input name, e.g. "embeddings"
 * @returns the nested array
 * @throws {Error} when the input is missing or not a matrix
 * @example
 * ```ts
 * // const e = inputMatrix(c, "embeddings");
 * ```
 */
export function inputMatrix(c: GoldenCase, key: string): number[][] {
  const v = c.inputs[key];
  if (!Array.isArray(v) || !Array.isArray(v[0])) throw new Error(`case ${c.id}: input "${key}" is not a matrix`);
  return v as number[][];
}

/**
 * Read a numeric vector input of a case.
 *
 * @param c the case
 * @param key input name, e.g. "groups"
 * @returns the array
 * @throws {Error} when the input is missing or not an array
 * @example
 * ```ts
 * // const g = inputVector(c, "groups");
 * ```
 */
export function inputVector(c: GoldenCase, key: string): number[] {
  const v = c.inputs[key];
  if (!Array.isArray(v)) throw new Error(`case ${c.id}: input "${key}" is not an array`);
  return v as number[];
}

/**
 * Value and gradient of a scalar loss with respect to the embeddings, as plain arrays.
 *
 * @param loss builds the scalar loss from the embeddings tensor
 * @param embeddings B×D embeddings
 * @returns `{ loss, grad }` with grad B×D
 * @example
 * ```ts
 * import { tf } from "@likeness/tf";
 * const r = await lossValueAndGrad((e) => tf.sum(tf.square(e)), [[1, 2]]);
 * console.log(r.loss, r.grad); // 5 [[2, 4]]
 * ```
 */
export async function lossValueAndGrad(
  loss: (embeddings: tf.Tensor2D) => tf.Scalar,
  embeddings: number[][],
): Promise<{ loss: number; grad: number[][] }> {
  const x = tf.tensor2d(embeddings);
  try {
    const { value, grad } = tf.valueAndGrad((e: tf.Tensor) => loss(e as tf.Tensor2D))(x);
    const out = { loss: (await value.data())[0], grad: (await grad.array()) as number[][] };
    value.dispose();
    grad.dispose();
    return out;
  } finally {
    x.dispose();
  }
}

/**
 * Read a tensor back as nested arrays and dispose it.
 *
 * @param t any tensor
 * @returns its values (number for a scalar)
 * @example
 * ```ts
 * import { tf } from "@likeness/tf";
 * console.log(await toArray(tf.tensor1d([1, 2]))); // [1, 2]
 * ```
 */
export async function toArray(t: tf.Tensor): Promise<unknown> {
  try {
    return await t.array();
  } finally {
    t.dispose();
  }
}
