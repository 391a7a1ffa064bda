/**
 * Float64 reference for exact top-k: the spec and test oracle of the `topk` kernel family.
 *
 * @module
 */
import { checkPositiveInt, type Matrix, ShapeError, ValueError } from "@likeness/core";
import { largerIsCloser, type TopKOptions } from "@likeness/kernels/types";
import { pairwiseRef } from "./pairwise.ts";

/** Top-k result of the reference: like `TopKResult` but with float64 values. */
export interface TopK64 {
  /** Reference indices, row-major `rows × k`, best first; -1 where fewer than k were eligible. */
  indices: Int32Array;
  /** Metric values for those indices (NaN where the index is -1). */
  values: Float64Array;
  /** Number of queries. */
  rows: number;
  /** k. */
  k: number;
}

/**
 * Which references are eligible under a label filter: `null` when there is no filter, else one
 * byte per reference (1 when its label is one of `allowLabels`).
 *
 * @param reference the reference matrix (for its row count)
 * @param options `referenceLabels` and `allowLabels` (both or neither)
 * @returns the eligibility mask, or null without a filter
 * @throws {ShapeError} LABEL_MISMATCH when `referenceLabels` does not have one label per row
 * @throws {ValueError} INVALID_ARGUMENT when only one of the two is given, or one is not an Int32Array
 * @example
 * ```ts
 * import { eligibleMask } from "@likeness/kernels/reference";
 * import assert from "node:assert/strict";
 * const r = { data: new Float32Array(3), rows: 3, cols: 1 };
 * const opts = { k: 1, referenceLabels: new Int32Array([0, 1, 0]), allowLabels: new Int32Array([0]) };
 * assert.deepEqual([...eligibleMask(r, opts)!], [1, 0, 1]);
 * ```
 */
export function eligibleMask(reference: Matrix, options: TopKOptions): Uint8Array | null {
  const { referenceLabels, allowLabels } = options;
  if (referenceLabels === undefined && allowLabels === undefined) return null;
  if (referenceLabels === undefined || allowLabels === undefined) {
    throw new ValueError(
      "INVALID_ARGUMENT",
      "Cannot filter top-k by label: pass both referenceLabels (one per reference) and allowLabels",
    );
  }
  if (!(referenceLabels instanceof Int32Array) || !(allowLabels instanceof Int32Array)) {
    throw new ValueError(
      "INVALID_ARGUMENT",
      "Cannot filter top-k by label: referenceLabels and allowLabels must be Int32Array",
    );
  }
  if (referenceLabels.length !== reference.rows) {
    throw new ShapeError(
      `Cannot filter top-k by label: got ${referenceLabels.length} reference labels but reference has ${reference.rows} rows; pass one label per row`,
      "LABEL_MISMATCH",
    );
  }
  const allow = new Set(allowLabels);
  const mask = new Uint8Array(reference.rows);
  for (let j = 0; j < reference.rows; j++) mask[j] = allow.has(referenceLabels[j]) ? 1 : 0;
  return mask;
}

/**
 * Check `k` against the number of references.
 *
 * @param k requested neighbours
 * @param references number of reference rows (with a label filter, fewer eligible rows pad with -1)
 * @throws {ValueError} INVALID_ARGUMENT when k is not a positive integer
 * @throws {ShapeError} K_TOO_LARGE when k exceeds the number of references
 * @example
 * ```ts
 * import { checkK } from "@likeness/kernels/reference";
 * checkK(5, 100);
 * ```
 */
export function checkK(k: number, references: number): void {
  checkPositiveInt(k, "k");
  if (k > references) {
    throw new ShapeError(
      `Cannot take top-${k}: reference has only ${references} rows; use k <= ${references} or add references`,
      "K_TOO_LARGE",
      { details: { k, references } },
    );
  }
}

/**
 * Exact top-k per query in float64: the k best references by `metric` (largest values when
 * `largest`, default `largerIsCloser(metric)`), best first, ties to the lower index. With a
 * label filter only eligible references count; missing places are index -1 and value NaN.
 *
 * @param query Q×D
 * @param reference R×D
 * @param options k, metric (default cosine), largest, label filter
 * @returns indices and float64 values, `Q × k`
 * @throws {ShapeError} SHAPE_MISMATCH, EMPTY_INPUT, K_TOO_LARGE, LABEL_MISMATCH
 * @throws {ValueError} NON_FINITE, UNKNOWN_NAME, INVALID_ARGUMENT
 * @example
 * ```ts
 * import { topkRef } from "@likeness/kernels/reference";
 * import assert from "node:assert/strict";
 * const q = { data: new Float32Array([0]), rows: 1, cols: 1 };
 * const r = { data: new Float32Array([5, 1, 3]), rows: 3, cols: 1 };
 * assert.deepEqual([...topkRef(q, r, { k: 2, metric: "l2" }).indices], [1, 2]);
 * ```
 */
export function topkRef(query: Matrix, reference: Matrix, options: TopKOptions): TopK64 {
  const metric = options.metric ?? "cosine";
  const all = pairwiseRef(query, reference, metric);
  const mask = eligibleMask(reference, options);
  const k = options.k;
  checkK(k, reference.rows);
  const largest = options.largest ?? largerIsCloser(metric);
  const indices = new Int32Array(query.rows * k).fill(-1);
  const values = new Float64Array(query.rows * k).fill(NaN);
  const R = reference.rows;
  for (let i = 0; i < query.rows; i++) {
    const order: number[] = [];
    for (let j = 0; j < R; j++) if (!mask || mask[j]) order.push(j);
    const v = (j: number) => all.data[i * R + j];
    order.sort((a, b) => (largest ? v(b) - v(a) : v(a) - v(b)) || a - b);
    for (let t = 0; t < Math.min(k, order.length); t++) {
      indices[i * k + t] = order[t];
      values[i * k + t] = v(order[t]);
    }
  }
  return { indices, values, rows: query.rows, k };
}
