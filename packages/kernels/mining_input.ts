/**
 * The input rules of mining and retrieval metrics, written once: the mining kernels
 * (`createMiningKernels`) and every backend of `@likeness/backend` call these, so the same bad
 * input gets the same typed error, code and wording on every path.
 *
 * @module
 */
import {
  checkBoolean,
  checkMatrix,
  checkOneOf,
  checkPositiveInt,
  type Matrix,
  ShapeError,
  ValueError,
} from "@likeness/core";
import type { MiningOptions, TripletType } from "./types.ts";

/** Triplet margin types (TripletMarginMiner's `type_of_triplets`). */
export const TRIPLET_TYPES: readonly TripletType[] = ["all", "hard", "semihard", "easy"];

/**
 * Check a square B×B distance (or similarity) matrix and its B×B `same` mask.
 *
 * @param dist the B×B matrix
 * @param same the B×B positive mask (1 = same label)
 * @param op what is being run, for messages (`batch-hard mining`)
 * @param options `finite: false` skips the finite scan, for callers that scan in WebAssembly [finite: true]
 * @returns B
 * @throws {ShapeError} SHAPE_MISMATCH, EMPTY_INPUT, or LABEL_MISMATCH when the mask has another size
 * @throws {ValueError} NON_FINITE
 * @example
 * ```ts
 * import { checkMiningInput } from "@likeness/kernels";
 * import assert from "node:assert/strict";
 * const dist = { data: new Float32Array([0, 1, 1, 0]), rows: 2, cols: 2 };
 * assert.equal(checkMiningInput(dist, new Uint8Array([1, 0, 0, 1]), "batch-hard mining"), 2);
 * assert.throws(() => checkMiningInput(dist, new Uint8Array(3), "batch-hard mining"), { code: "LABEL_MISMATCH" });
 * ```
 */
export function checkMiningInput(
  dist: Matrix,
  same: Uint8Array,
  op: string,
  options: { finite?: boolean } = {},
): number {
  checkMatrix(dist, "distance matrix", options);
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

/**
 * Check that a miner's options are an object (the margins are required).
 *
 * @param options the options as passed
 * @param op what is being run, for messages
 * @returns the options
 * @throws {ValueError} INVALID_ARGUMENT when they are missing or not an object
 * @example
 * ```ts
 * import { checkMiningOptions } from "@likeness/kernels";
 * import assert from "node:assert/strict";
 * assert.deepEqual(checkMiningOptions({ epsilon: 0.1 }, "multi-similarity mining"), { epsilon: 0.1 });
 * assert.throws(() => checkMiningOptions(undefined, "multi-similarity mining"), { code: "INVALID_ARGUMENT" });
 * ```
 */
export function checkMiningOptions<T>(options: T, op: string): T {
  if (options === null || typeof options !== "object") {
    throw new ValueError(
      "INVALID_ARGUMENT",
      `Cannot run ${op}: options are required (an object with the miner's margins)`,
    );
  }
  return options;
}

/**
 * Read `smallerIsCloser` (default true: a distance) from mining options.
 *
 * @param options the options (may be undefined)
 * @param op what is being run, for messages
 * @returns whether smaller values mean closer
 * @throws {ValueError} INVALID_ARGUMENT when it is not a boolean
 * @example
 * ```ts
 * import { checkSmallerIsCloser } from "@likeness/kernels";
 * import assert from "node:assert/strict";
 * assert.equal(checkSmallerIsCloser(undefined, "batch-hard mining"), true);
 * assert.equal(checkSmallerIsCloser({ smallerIsCloser: false }, "batch-hard mining"), false);
 * ```
 */
export function checkSmallerIsCloser(options: MiningOptions | undefined, op: string): boolean {
  return checkBoolean(options?.smallerIsCloser ?? true, "smallerIsCloser", op);
}

/**
 * Check a triplet margin type.
 *
 * @param type the type as passed
 * @returns it, typed
 * @throws {ValueError} UNKNOWN_NAME naming the types
 * @example
 * ```ts
 * import { checkTripletType } from "@likeness/kernels";
 * import assert from "node:assert/strict";
 * assert.equal(checkTripletType("semihard"), "semihard");
 * assert.throws(() => checkTripletType("medium"), { code: "UNKNOWN_NAME" });
 * ```
 */
export function checkTripletType(type: unknown): TripletType {
  return checkOneOf(type, TRIPLET_TYPES, "triplet type");
}

/**
 * Check retrieval-metric input: a `Q × k` relevance mask and R (relevant references) per query.
 *
 * @param relevant `Q × k` flags (1 where the neighbour is relevant)
 * @param relevantCount R per query
 * @param k neighbours per query
 * @returns Q, the number of queries
 * @throws {ValueError} INVALID_ARGUMENT (k not a positive integer, R < 0, more hits than R)
 * @throws {ShapeError} SHAPE_MISMATCH, EMPTY_INPUT, or OUT_OF_RANGE when R > k
 * @example
 * ```ts
 * import { checkRetrievalInput } from "@likeness/kernels";
 * import assert from "node:assert/strict";
 * assert.equal(checkRetrievalInput(new Uint8Array([1, 0, 0, 1]), new Int32Array([1, 2]), 2), 2);
 * assert.throws(() => checkRetrievalInput(new Uint8Array(2), new Int32Array([3]), 2), { code: "OUT_OF_RANGE" });
 * ```
 */
export function checkRetrievalInput(relevant: Uint8Array, relevantCount: Int32Array, k: number): number {
  const op = "compute retrieval metrics";
  checkPositiveInt(k, "k", "retrieval metrics");
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
      throw new ShapeError(
        `Cannot ${op}: query ${i} has R=${r} relevant references but k=${k}; R-precision and MAP@R need k ≥ R, ` +
          `so retrieve more neighbours`,
        "OUT_OF_RANGE",
        { details: { query: i, r, k } },
      );
    }
    let hits = 0;
    for (let j = 0; j < k; j++) if (relevant[i * k + j] !== 0) hits++;
    if (hits > r) {
      throw new ValueError(
        "INVALID_ARGUMENT",
        `Cannot ${op}: query ${i} has ${hits} relevant neighbours in its top ${k} but relevantCount says R=${r}; ` +
          `count every relevant reference (and exclude the query itself if it is among the references)`,
      );
    }
  }
  return rows;
}
