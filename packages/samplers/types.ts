/**
 * The batch sampler interface every sampler implements.
 *
 * @module
 */

/**
 * A seeded batch sampler: `epoch(e)` returns the batches of epoch `e` as lists of item
 * indices. The result depends only on the seed and `e` (so training can resume at any epoch)
 * and is identical in Deno, Bun and browsers.
 *
 * @example
 * ```ts
 * import { type BatchSampler, pairBatchSampler } from "@likeness/samplers";
 * const s: BatchSampler = pairBatchSampler(10, { batchSize: 4 });
 * console.log(s.batchesPerEpoch, s.epoch(0).length); // 3 3
 * ```
 */
export interface BatchSampler {
  /** Items per batch (the last batch may be smaller where the sampler says so). */
  readonly batchSize: number;
  /** Number of batches `epoch()` returns. */
  readonly batchesPerEpoch: number;
  /**
   * The batches of one epoch.
   *
   * @param epoch epoch number (0, 1, ...)
   * @returns batches of item indices
   */
  epoch(epoch: number): number[][];
}
