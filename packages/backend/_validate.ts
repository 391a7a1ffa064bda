/**
 * Input validation shared by every backend, so that all of them throw the same typed errors
 * with the same codes for the same bad input (the conformance suite checks this).
 *
 * @module
 */
import { checkFiniteNumber, checkOneOf, type Matrix, ValueError } from "@likeness/core";
import { checkK, checkPair, eligibleMask } from "@likeness/kernels/reference";
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

/** Validate `pairwise` input; returns the checked metric (the shape rules are the kernels' `checkPair`). */
export function _checkPairwise(query: Matrix, reference: Matrix, metric: unknown, op = "pairwise distance"): Metric {
  const m = checkOneOf(metric, METRICS, "metric");
  checkPair(query, reference, op);
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

/** Validate `topk` input and fill in defaults (k and the label filter: the kernels' `checkK` and `eligibleMask`). */
export function _checkTopK(query: Matrix, reference: Matrix, options: TopKOptions): _CheckedTopK {
  if (!options || typeof options !== "object") {
    throw new ValueError("INVALID_ARGUMENT", "Cannot run top-k: pass options { k, metric? }");
  }
  const metric = _checkPairwise(query, reference, options.metric ?? "cosine", "top-k");
  const k = options.k;
  checkK(k, reference.rows);
  const largest = options.largest ?? (metric === "dot" || metric === "cosine");
  if (typeof largest !== "boolean") {
    throw new ValueError("INVALID_ARGUMENT", `Invalid largest: expected true or false, got ${String(largest)}`);
  }
  const eligible = eligibleMask(reference, options) ?? undefined;
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
