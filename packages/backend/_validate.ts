/**
 * Input validation shared by every backend, so that all of them throw the same typed errors
 * with the same codes for the same bad input (the conformance suite checks this).
 *
 * @module
 */
import {
  checkFiniteNumber,
  checkMatrix,
  checkOneOf,
  checkPositiveInt,
  type Matrix,
  ShapeError,
  ValueError,
} from "@likeness/core";
import {
  checkMiningInput,
  checkMiningOptions,
  checkRetrievalInput,
  checkSmallerIsCloser,
  checkTripletType,
} from "@likeness/kernels";
import { type Metric, METRICS, type MiningOptions, type TopKOptions, type TripletType } from "./types.ts";

/** Retrieval-metric input: the one rule, shared with the mining kernels (`@likeness/kernels`). */
export const _checkRetrieval = checkRetrievalInput;

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

/** Validate batch-hard input; returns `smallerIsCloser`. */
export function _checkBatchHard(dist: Matrix, same: Uint8Array, options: MiningOptions | undefined): boolean {
  const op = "batch-hard mining";
  checkMiningInput(dist, same, op);
  if (options !== undefined) checkMiningOptions(options, op);
  return checkSmallerIsCloser(options, op);
}

/** Validate triplet-margin input; returns the checked options. */
export function _checkTriplet(
  dist: Matrix,
  same: Uint8Array,
  options: MiningOptions & { margin: number; type: TripletType },
): { margin: number; type: TripletType; smallerIsCloser: boolean } {
  const op = "triplet mining";
  checkMiningInput(dist, same, op);
  const o = checkMiningOptions(options, op);
  const smallerIsCloser = checkSmallerIsCloser(o, op);
  const type = checkTripletType(o.type);
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
  checkMiningInput(dist, same, op);
  const o = checkMiningOptions(options, op);
  const smallerIsCloser = checkSmallerIsCloser(o, op);
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
  checkMiningInput(dist, same, op);
  const o = checkMiningOptions(options, op);
  const smallerIsCloser = checkSmallerIsCloser(o, op);
  const epsilon = checkFiniteNumber(o.epsilon, "epsilon", op);
  return { epsilon, smallerIsCloser };
}
