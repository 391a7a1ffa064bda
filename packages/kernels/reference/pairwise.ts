/**
 * Float64 reference for pairwise distances and similarities, row norms and normalisation:
 * the spec and test oracle of the `pairwise` kernel family. Written for clarity, not speed.
 *
 * @module
 */
import { checkMatrix, checkOneOf, type Matrix, ShapeError } from "@likeness/core";
import type { Metric } from "@likeness/kernels/types";

/** The metric names the dense kernels accept, in kernel-code order (dot = 0 … l1 = 4). */
export const DENSE_METRICS: readonly Metric[] = ["dot", "cosine", "l2", "sqeuclidean", "l1"];

/** A dense row-major float64 matrix (what the references return). */
export interface Matrix64 {
  /** Row-major values, length `rows * cols`. */
  data: Float64Array;
  /** Number of rows. */
  rows: number;
  /** Number of columns. */
  cols: number;
}

/**
 * Check a query/reference pair: both valid matrices with the same number of columns.
 *
 * @param query Q×D
 * @param reference R×D
 * @param op what is being computed, for the message (e.g. "pairwise distance")
 * @throws {ShapeError} SHAPE_MISMATCH naming both column counts; EMPTY_INPUT
 * @throws {ValueError} NON_FINITE
 * @example
 * ```ts
 * import { checkPair } from "@likeness/kernels/reference";
 * const m = { data: new Float32Array(4), rows: 2, cols: 2 };
 * checkPair(m, m, "pairwise distance");
 * ```
 */
export function checkPair(query: Matrix, reference: Matrix, op: string): void {
  checkMatrix(query, "query");
  checkMatrix(reference, "reference");
  if (query.cols !== reference.cols) {
    throw new ShapeError(
      `Cannot compute ${op}: query has ${query.cols} columns but reference has ${reference.cols}; embed both with the same model`,
      "SHAPE_MISMATCH",
      { details: { queryCols: query.cols, referenceCols: reference.cols } },
    );
  }
}

/**
 * The metric between two rows, in float64.
 *
 * - `dot`: Σ aₖbₖ; `cosine`: a·b / (|a||b|), 0 when either norm is 0;
 * - `sqeuclidean`: Σ (aₖ-bₖ)²; `l2`: √max(0, sqeuclidean); `l1`: Σ |aₖ-bₖ|.
 *
 * @param a first row
 * @param b second row (same length)
 * @param metric metric name
 * @returns the value
 * @example
 * ```ts
 * import { metricRef } from "@likeness/kernels/reference";
 * import assert from "node:assert/strict";
 * assert.equal(metricRef([3, 4], [0, 0], "l2"), 5);
 * ```
 */
export function metricRef(a: ArrayLike<number>, b: ArrayLike<number>, metric: Metric): number {
  let s = 0;
  switch (metric) {
    case "dot":
      for (let k = 0; k < a.length; k++) s += a[k] * b[k];
      return s;
    case "cosine": {
      let na = 0;
      let nb = 0;
      for (let k = 0; k < a.length; k++) {
        s += a[k] * b[k];
        na += a[k] * a[k];
        nb += b[k] * b[k];
      }
      return na === 0 || nb === 0 ? 0 : s / (Math.sqrt(na) * Math.sqrt(nb));
    }
    case "sqeuclidean":
    case "l2":
      for (let k = 0; k < a.length; k++) s += (a[k] - b[k]) * (a[k] - b[k]);
      return metric === "l2" ? Math.sqrt(Math.max(0, s)) : s;
    case "l1":
      for (let k = 0; k < a.length; k++) s += Math.abs(a[k] - b[k]);
      return s;
  }
}

/**
 * Q×R matrix of `metric(query_i, reference_j)` in float64.
 *
 * @param query Q×D
 * @param reference R×D
 * @param metric `dot` | `cosine` | `l2` | `sqeuclidean` | `l1`
 * @returns Q×R float64 matrix
 * @throws {ShapeError} SHAPE_MISMATCH, EMPTY_INPUT
 * @throws {ValueError} NON_FINITE, UNKNOWN_NAME
 * @example
 * ```ts
 * import { pairwiseRef } from "@likeness/kernels/reference";
 * import assert from "node:assert/strict";
 * const q = { data: new Float32Array([1, 0]), rows: 1, cols: 2 };
 * const r = { data: new Float32Array([1, 0, 0, 1]), rows: 2, cols: 2 };
 * assert.deepEqual([...pairwiseRef(q, r, "cosine").data], [1, 0]);
 * ```
 */
export function pairwiseRef(query: Matrix, reference: Matrix, metric: Metric): Matrix64 {
  checkOneOf(metric, DENSE_METRICS, "metric");
  checkPair(query, reference, "pairwise distance");
  const d = query.cols;
  const out = new Float64Array(query.rows * reference.rows);
  for (let i = 0; i < query.rows; i++) {
    const a = query.data.subarray(i * d, (i + 1) * d);
    for (let j = 0; j < reference.rows; j++) {
      out[i * reference.rows + j] = metricRef(a, reference.data.subarray(j * d, (j + 1) * d), metric);
    }
  }
  return { data: out, rows: query.rows, cols: reference.rows };
}

/**
 * L2 norm of each row, in float64.
 *
 * @param m R×D matrix
 * @returns R norms
 * @throws {ShapeError} EMPTY_INPUT, SHAPE_MISMATCH
 * @throws {ValueError} NON_FINITE
 * @example
 * ```ts
 * import { normsRef } from "@likeness/kernels/reference";
 * import assert from "node:assert/strict";
 * assert.deepEqual([...normsRef({ data: new Float32Array([3, 4]), rows: 1, cols: 2 })], [5]);
 * ```
 */
export function normsRef(m: Matrix): Float64Array {
  checkMatrix(m, "input");
  const out = new Float64Array(m.rows);
  for (let i = 0; i < m.rows; i++) {
    let s = 0;
    for (let k = 0; k < m.cols; k++) s += m.data[i * m.cols + k] ** 2;
    out[i] = Math.sqrt(s);
  }
  return out;
}

/**
 * Rows scaled to unit L2 norm, in float64; zero rows stay zero.
 *
 * @param m R×D matrix
 * @returns R×D float64 matrix
 * @throws {ShapeError} EMPTY_INPUT, SHAPE_MISMATCH
 * @throws {ValueError} NON_FINITE
 * @example
 * ```ts
 * import { normalizeRef } from "@likeness/kernels/reference";
 * import assert from "node:assert/strict";
 * const u = normalizeRef({ data: new Float32Array([3, 4]), rows: 1, cols: 2 }).data;
 * assert.ok(Math.abs(u[0] - 0.6) < 1e-12 && Math.abs(u[1] - 0.8) < 1e-12);
 * ```
 */
export function normalizeRef(m: Matrix): Matrix64 {
  const n = normsRef(m);
  const out = new Float64Array(m.rows * m.cols);
  for (let i = 0; i < m.rows; i++) {
    const inv = n[i] > 0 ? 1 / n[i] : 0;
    for (let k = 0; k < m.cols; k++) out[i * m.cols + k] = m.data[i * m.cols + k] * inv;
  }
  return { data: out, rows: m.rows, cols: m.cols };
}
