/**
 * Input validation shared by every backend, so that all of them throw the same typed errors
 * with the same codes for the same bad input (the conformance suite checks this).
 *
 * @module
 */
import {
  checkBoolean,
  checkFiniteNumber,
  checkMatrix,
  checkOneOf,
  checkPositiveInt,
  type Matrix,
  ShapeError,
  ValueError,
} from "@likeness/core";
import { type Metric, METRICS, type MiningOptions, type TopKOptions, type TripletType } from "./types.ts";

/** Triplet margin types. */
export const _TRIPLET_TYPES: readonly TripletType[] = ["all", "hard", "semihard", "easy"];

/** Validate `pairwise` input; returns the checked metric. */
export function _checkPairwise(query: Matrix, reference: Matrix, metric: unknown, op = "pairwise distance"): Metric {
  const m = checkOneOf(metric, METRICS, "metric");
  checkMatrix(query, "query");
  checkMatrix(reference, "reference");
  if (query.cols !== reference.cols) {
    throw new ShapeError(
      `Cannot compute ${op}: query has ${query.cols} columns but reference has ${reference.cols}; ` +
        `embed both with the same model`,
      "SHAPE_MISMATCH",
      { details: { queryCols: query.cols, referenceCols: reference.cols } },
    );
  }
  return m;
}

/** Checked top-k options with defaults filled in. */
export interface _CheckedTopK {
  k: number;
  metric: Metric;
  largest: boolean;
  /** Eligibility per reference row (1 = eligible), or undefined when there is no filter. */
  eligible?: Uint8Array;
}

/** Validate `topk` input and fill in defaults. */
export function _checkTopK(query: Matrix, reference: Matrix, options: TopKOptions): _CheckedTopK {
  if (!options || typeof options !== "object") {
    throw new ValueError("INVALID_ARGUMENT", "Cannot run top-k: pass options { k, metric? }");
  }
  const metric = _checkPairwise(query, reference, options.metric ?? "cosine", "top-k");
  const k = checkPositiveInt(options.k, "k");
  if (k > reference.rows) {
    throw new ShapeError(
      `Cannot run top-k: k = ${k} but there are only ${reference.rows} references; use k ≤ ${reference.rows}`,
      "K_TOO_LARGE",
      { details: { k, references: reference.rows } },
    );
  }
  const largest = options.largest ?? (metric === "dot" || metric === "cosine");
  if (typeof largest !== "boolean") {
    throw new ValueError("INVALID_ARGUMENT", `Invalid largest: expected true or false, got ${String(largest)}`);
  }
  const { referenceLabels, allowLabels } = options;
  if ((referenceLabels === undefined) !== (allowLabels === undefined)) {
    throw new ValueError(
      "INVALID_ARGUMENT",
      "Cannot filter top-k by label: pass both referenceLabels and allowLabels, or neither",
    );
  }
  let eligible: Uint8Array | undefined;
  if (referenceLabels !== undefined && allowLabels !== undefined) {
    if (!(referenceLabels instanceof Int32Array) || !(allowLabels instanceof Int32Array)) {
      throw new ValueError(
        "INVALID_ARGUMENT",
        "Cannot filter top-k by label: referenceLabels and allowLabels must be Int32Array",
      );
    }
    if (referenceLabels.length !== reference.rows) {
      throw new ShapeError(
        `Cannot filter top-k by label: got ${referenceLabels.length} reference labels but reference has ` +
          `${reference.rows} rows; pass one label per reference row`,
        "LABEL_MISMATCH",
      );
    }
    const allow = new Set(allowLabels);
    eligible = new Uint8Array(reference.rows);
    for (let j = 0; j < reference.rows; j++) eligible[j] = allow.has(referenceLabels[j]) ? 1 : 0;
  }
  return { k, metric, largest, eligible };
}

/** Validate a square B×B matrix and its B×B `same` mask; returns B. */
export function _checkSquare(dist: Matrix, same: Uint8Array, op: string): number {
  checkMatrix(dist, "distance matrix");
  if (dist.rows !== dist.cols) {
    throw new ShapeError(
      `Cannot run ${op}: the distance matrix must be square (B×B) but is ${dist.rows}×${dist.cols}; ` +
        `pass pairwise(embeddings, embeddings)`,
    );
  }
  if (!(same instanceof Uint8Array)) {
    throw new ShapeError(
      `Cannot run ${op}: same must be a Uint8Array B×B mask (build it with sameLabelMatrix(labels))`,
    );
  }
  if (same.length !== dist.rows * dist.rows) {
    throw new ShapeError(
      `Cannot run ${op}: same mask has ${same.length} entries but the distance matrix is ${dist.rows}×${dist.rows}; ` +
        `build it with sameLabelMatrix(labels) from one label per row`,
      "LABEL_MISMATCH",
    );
  }
  return dist.rows;
}

/** Validate `smallerIsCloser` (default true). */
export function _smallerIsCloser(options: { smallerIsCloser?: boolean } | undefined, op: string): boolean {
  return checkBoolean(options?.smallerIsCloser ?? true, "smallerIsCloser", op);
}

/** Validate retrieval-metric input (same rules and codes as the kernels' wrapper); returns the number of queries. */
export function _checkRetrieval(relevant: Uint8Array, relevantCount: Int32Array, k: number): number {
  const op = "compute retrieval metrics";
  if (!Number.isInteger(k) || k < 1) {
    throw new ValueError("INVALID_ARGUMENT", `Cannot ${op}: k must be a positive integer, got ${k}`);
  }
  if (!(relevant instanceof Uint8Array) || !(relevantCount instanceof Int32Array)) {
    throw new ShapeError(
      `Cannot ${op}: relevant must be a Uint8Array (queries × k flags) and relevantCount an Int32Array (R per query)`,
    );
  }
  const rows = relevantCount.length;
  if (rows === 0) throw new ShapeError(`Cannot ${op}: there are no queries; pass at least one`, "EMPTY_INPUT");
  if (relevant.length !== rows * k) {
    throw new ShapeError(
      `Cannot ${op}: relevant has ${relevant.length} flags but ${rows} queries × k=${k} needs ${rows * k}; ` +
        `pass one row of k flags per query`,
    );
  }
  for (let i = 0; i < rows; i++) {
    const r = relevantCount[i];
    if (r < 0) throw new ValueError("INVALID_ARGUMENT", `Cannot ${op}: relevantCount[${i}] is ${r}; R must be ≥ 0`);
    if (r > k) {
      throw new ValueError(
        "OUT_OF_RANGE",
        `Cannot ${op}: query ${i} has R=${r} relevant references but k=${k}; R-precision and MAP@R need k ≥ R, ` +
          `so retrieve more neighbours`,
        { details: { query: i, r, k } },
      );
    }
    let hits = 0;
    for (let j = 0; j < k; j++) if (relevant[i * k + j] !== 0) hits++;
    if (hits > r) {
      throw new ValueError(
        "INVALID_ARGUMENT",
        `Cannot ${op}: query ${i} has ${hits} relevant neighbours in its top ${k} but relevantCount says R=${r}; ` +
          `count every relevant reference`,
      );
    }
  }
  return rows;
}

function _options<T>(opts: T, op: string): T {
  if (opts === null || typeof opts !== "object") {
    throw new ValueError(
      "INVALID_ARGUMENT",
      `Cannot run ${op}: options are required (an object with the miner's margins)`,
    );
  }
  return opts;
}

/** Validate batch-hard input; returns `smallerIsCloser`. */
export function _checkBatchHard(dist: Matrix, same: Uint8Array, options: MiningOptions | undefined): boolean {
  const op = "batch-hard mining";
  _checkSquare(dist, same, op);
  if (options !== undefined) _options(options, op);
  return _smallerIsCloser(options, op);
}

/** Validate triplet-margin input; returns the checked options. */
export function _checkTriplet(
  dist: Matrix,
  same: Uint8Array,
  options: MiningOptions & { margin: number; type: TripletType },
): { margin: number; type: TripletType; smallerIsCloser: boolean } {
  const op = "triplet mining";
  _checkSquare(dist, same, op);
  const o = _options(options, op);
  const smallerIsCloser = _smallerIsCloser(o, op);
  const type = checkOneOf(o.type, _TRIPLET_TYPES, "triplet type");
  const margin = checkFiniteNumber(o.margin, "margin", op);
  return { margin, type, smallerIsCloser };
}

/** Validate pair-margin input; returns the checked options. */
export function _checkPairMargin(
  dist: Matrix,
  same: Uint8Array,
  options: MiningOptions & { posMargin: number; negMargin: number },
): { posMargin: number; negMargin: number; smallerIsCloser: boolean } {
  const op = "pair-margin mining";
  _checkSquare(dist, same, op);
  const o = _options(options, op);
  const smallerIsCloser = _smallerIsCloser(o, op);
  const posMargin = checkFiniteNumber(o.posMargin, "posMargin", op);
  const negMargin = checkFiniteNumber(o.negMargin, "negMargin", op);
  return { posMargin, negMargin, smallerIsCloser };
}

/** Validate multi-similarity input; returns the checked options. */
export function _checkMultiSimilarity(
  dist: Matrix,
  same: Uint8Array,
  options: MiningOptions & { epsilon: number },
): { epsilon: number; smallerIsCloser: boolean } {
  const op = "multi-similarity mining";
  _checkSquare(dist, same, op);
  const o = _options(options, op);
  const smallerIsCloser = _smallerIsCloser(o, op);
  const epsilon = checkFiniteNumber(o.epsilon, "epsilon", op);
  return { epsilon, smallerIsCloser };
}
