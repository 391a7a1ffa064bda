/**
 * m-per-class batches (pytorch-metric-learning's MPerClassSampler): every batch holds
 * `batchSize / m` classes with exactly `m` items each, and every class appears in each epoch.
 *
 * @module
 */
import { checkPositiveInt, type Label, ValueError } from "@likeness/core";
import type { BatchSampler } from "./types.ts";
import { checkLabelList, Cycler, epochRng, groupByClass, groupSchedule } from "./_common.ts";

/** Options for {@link mPerClassSampler}. */
export interface MPerClassOptions {
  /** Items per class in each batch. */
  m: number;
  /** Items per batch; must be a multiple of `m`. */
  batchSize: number;
  /** Seed (default 0). */
  seed?: number;
  /**
   * Batches per epoch. Default: enough to draw about as many items as the data set holds, and
   * at least enough to cover every class once.
   */
  batchesPerEpoch?: number;
  /** Allow repeated items when a class has fewer than `m` items (default false: that is an error). */
  withReplacement?: boolean;
}

/**
 * Batches with exactly `m` items from each of `batchSize / m` classes. Classes are scheduled
 * in shuffled passes (the first pass covers every class before any class repeats), and the
 * items of a class in shuffled passes (no item repeats within a batch unless the class is
 * smaller than `m` and `withReplacement` is set).
 *
 * @param labels one label per item
 * @param options m, batchSize, seed, batchesPerEpoch, withReplacement
 * @returns a {@link BatchSampler}
 * @throws {ShapeError} EMPTY_INPUT / LABEL_MISMATCH for missing labels
 * @throws {ValueError} INVALID_ARGUMENT when batchSize is not a multiple of m, there are fewer
 *   classes than `batchSize / m`, a class has fewer than m items without `withReplacement`, or
 *   batchesPerEpoch is too small to cover every class
 * @example
 * ```ts
 * import { mPerClassSampler } from "@likeness/samplers";
 * import assert from "node:assert/strict";
 * const s = mPerClassSampler([0, 0, 1, 1, 2, 2], { m: 2, batchSize: 4, seed: 1 });
 * assert.deepEqual(s.epoch(0), [[4, 5, 1, 0], [2, 3, 0, 1]]); // two batches of 4 indices, 2 per class
 * ```
 */
export function mPerClassSampler(labels: readonly Label[], options: MPerClassOptions): BatchSampler {
  checkLabelList(labels);
  const m = checkPositiveInt(options?.m, "m");
  const batchSize = checkPositiveInt(options.batchSize, "batchSize");
  if (batchSize % m !== 0) {
    const lower = Math.max(m, batchSize - (batchSize % m));
    throw new ValueError(
      "INVALID_ARGUMENT",
      `Cannot make m-per-class batches: batchSize ${batchSize} is not a multiple of m=${m}; use batchSize ${lower} or ${
        lower + m
      }`,
      { details: { batchSize, m } },
    );
  }
  const perBatch = batchSize / m;
  const classes = groupByClass(labels);
  const c = classes.members.length;
  if (perBatch > c) {
    throw new ValueError(
      "INVALID_ARGUMENT",
      `Cannot make m-per-class batches: a batch needs ${perBatch} classes (batchSize ${batchSize} / m ${m}) but the ` +
        `data has ${c}; lower batchSize to at most ${c * m} or raise m`,
    );
  }
  const withReplacement = options.withReplacement ?? false;
  if (!withReplacement) {
    const small = classes.members.findIndex((xs) => xs.length < m);
    if (small >= 0) {
      const label = JSON.stringify(classes.labels[small]);
      const n = classes.members[small].length;
      throw new ValueError(
        "INVALID_ARGUMENT",
        `Cannot draw m=${m} distinct items from class ${label}: it has ${n}; lower m to ${n}, drop the class, or pass ` +
          `withReplacement: true`,
        { details: { label: classes.labels[small], count: n, m } },
      );
    }
  }
  const batchesPerEpoch = options.batchesPerEpoch !== undefined
    ? checkPositiveInt(options.batchesPerEpoch, "batchesPerEpoch")
    : Math.max(Math.ceil(c / perBatch), Math.floor(labels.length / batchSize));
  const needed = Math.ceil(c / perBatch);
  if (batchesPerEpoch < needed) {
    throw new ValueError(
      "INVALID_ARGUMENT",
      `Cannot cover all ${c} classes in ${batchesPerEpoch} batches of ${perBatch} classes; raise batchesPerEpoch to at ` +
        `least ${needed}`,
    );
  }
  const seed = options.seed ?? 0;
  const ids = classes.members.map((_, i) => i);
  return {
    batchSize,
    batchesPerEpoch,
    epoch(e: number): number[][] {
      const rng = epochRng(seed, e);
      const cyclers = classes.members.map((xs) => new Cycler(xs, rng));
      return groupSchedule(ids, perBatch, batchesPerEpoch, rng).map((group) =>
        group.flatMap((cls) => cyclers[cls].take(m))
      );
    },
  };
}
