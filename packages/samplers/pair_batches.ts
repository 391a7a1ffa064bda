/**
 * Plain shuffled batches of pair samples (`SimilarityPairSample`s) or any items.
 *
 * @module
 */
import type { BatchSampler } from "./types.ts";
import { epochRng } from "./_common.ts";
import { checkPositiveInt, ShapeError } from "@likeness/core";

/** Options for {@link pairBatchSampler}. */
export interface PairBatchOptions {
  /** Pairs per batch. */
  batchSize: number;
  /** Seed (default 0). */
  seed?: number;
  /** Shuffle each epoch (default true). */
  shuffle?: boolean;
  /** Drop the last, smaller batch (default false). */
  dropLast?: boolean;
}

/**
 * Batches of `batchSize` pair indices, reshuffled every epoch; each pair appears once per epoch.
 *
 * @param count number of pairs
 * @param options batchSize, seed, shuffle, dropLast
 * @returns a {@link BatchSampler}
 * @throws {ShapeError} EMPTY_INPUT without pairs, or with dropLast and fewer pairs than one batch
 * @throws {ValueError} INVALID_ARGUMENT for a bad batchSize
 * @example
 * ```ts
 * import { pairBatchSampler } from "@likeness/samplers";
 * import assert from "node:assert/strict";
 * assert.deepEqual(pairBatchSampler(5, { batchSize: 2, shuffle: false }).epoch(0), [[0, 1], [2, 3], [4]]);
 * ```
 */
export function pairBatchSampler(count: number, options: PairBatchOptions): BatchSampler {
  if (!Number.isInteger(count) || count < 1) {
    throw new ShapeError(`Cannot batch pairs: got ${count} pairs; pass at least one`, "EMPTY_INPUT");
  }
  const batchSize = checkPositiveInt(options?.batchSize, "batchSize");
  const dropLast = options.dropLast ?? false;
  if (dropLast && count < batchSize) {
    throw new ShapeError(
      `Cannot batch ${count} pairs into full batches of ${batchSize}: the data set is smaller than one batch; ` +
        `lower batchSize to at most ${count} or set dropLast: false`,
      "EMPTY_INPUT",
    );
  }
  const seed = options.seed ?? 0;
  const shuffle = options.shuffle ?? true;
  const batchesPerEpoch = dropLast ? Math.floor(count / batchSize) : Math.ceil(count / batchSize);
  return {
    batchSize,
    batchesPerEpoch,
    epoch(e: number): number[][] {
      const rng = epochRng(seed, e);
      const order = Array.from({ length: count }, (_, i) => i);
      if (shuffle) rng.shuffle(order);
      const out: number[][] = [];
      for (let b = 0; b < batchesPerEpoch; b++) out.push(order.slice(b * batchSize, (b + 1) * batchSize));
      return out;
    },
  };
}
