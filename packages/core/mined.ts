/**
 * What a miner returns and a loss consumes: index tuples into a batch (or, for a loss with a
 * reference set, anchors in the batch and partners in the reference). It lives in core because
 * both the miners and the losses speak it and neither owns the other.
 *
 * @module
 */

/**
 * Index tuples produced by a miner.
 *
 * @example
 * ```ts
 * import type { MinedIndices } from "@likeness/core";
 * import assert from "node:assert/strict";
 * const mined: MinedIndices = { triplets: [[0, 1, 2]] };
 * assert.equal(mined.triplets?.length, 1);
 * ```
 */
export interface MinedIndices {
  /** Triplets [a, p, n]. */
  triplets?: readonly (readonly [number, number, number])[];
  /** Positive pairs [a, p]. */
  positivePairs?: readonly (readonly [number, number])[];
  /** Negative pairs [a, n]. */
  negativePairs?: readonly (readonly [number, number])[];
}
