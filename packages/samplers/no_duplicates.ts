/**
 * Batches without two items of the same label, for losses that use the other items of a
 * batch as negatives (MultipleNegativesRankingLoss): a duplicate label would be a false
 * negative.
 *
 * @module
 */
import { checkPositiveInt, type Label, labelIds, ValueError } from "@likeness/core";
import type { BatchSampler } from "./types.ts";
import { checkLabelList, epochRng } from "./_common.ts";

/** Options for {@link noDuplicatesSampler}. */
export interface NoDuplicatesOptions {
  /** Items per batch. */
  batchSize: number;
  /** Seed (default 0). */
  seed?: number;
  /** Drop the last, smaller batch (default false). */
  dropLast?: boolean;
}

/**
 * Shuffled batches in which no two items share a label. An array label is a set of keys (for a
 * pair sample, e.g. both of its texts): two items conflict when they share any key. Items that
 * would conflict wait for a later batch; each item appears once per epoch. Batches are full
 * except possibly the last ones when too few distinct labels remain.
 *
 * @param labels one label (or key set) per item
 * @param options batchSize, seed, dropLast
 * @returns a {@link BatchSampler}
 * @throws {ShapeError} EMPTY_INPUT / LABEL_MISMATCH for missing labels
 * @throws {ValueError} INVALID_ARGUMENT when there are fewer distinct labels than batchSize
 * @example
 * ```ts
 * import { noDuplicatesSampler } from "@likeness/samplers";
 * import assert from "node:assert/strict";
 * const s = noDuplicatesSampler(["a", "a", "b", "c"], { batchSize: 2, seed: 3 });
 * assert.deepEqual(s.epoch(0), [[1, 2], [0, 3]]); // never both "a" items (0 and 1) together
 * ```
 */
export function noDuplicatesSampler(labels: readonly Label[], options: NoDuplicatesOptions): BatchSampler {
  checkLabelList(labels);
  const batchSize = checkPositiveInt(options?.batchSize, "batchSize");
  // Flatten key sets into int ids per item.
  const flat: Label[] = [];
  const owner: number[] = [];
  labels.forEach((l, i) => {
    for (const key of Array.isArray(l) ? l : [l]) {
      flat.push(key);
      owner.push(i);
    }
  });
  const flatIds = labelIds(flat);
  const keys: number[][] = labels.map(() => []);
  flatIds.forEach((id, t) => keys[owner[t]].push(id));
  const distinct = new Set(flatIds).size;
  if (distinct < batchSize && labels.every((l) => !Array.isArray(l))) {
    throw new ValueError(
      "INVALID_ARGUMENT",
      `Cannot make batches of ${batchSize} with no repeated label: the data has only ${distinct} distinct labels; ` +
        `lower batchSize to at most ${distinct}`,
    );
  }
  const dropLast = options.dropLast ?? false;
  const seed = options.seed ?? 0;
  const n = labels.length;
  const batchesPerEpoch = dropLast ? Math.floor(n / batchSize) : Math.ceil(n / batchSize);
  return {
    batchSize,
    batchesPerEpoch,
    epoch(e: number): number[][] {
      const rng = epochRng(seed, e);
      let pending = rng.shuffle(Array.from({ length: n }, (_, i) => i));
      const out: number[][] = [];
      while (pending.length > 0) {
        const batch: number[] = [];
        const used = new Set<number>();
        const rest: number[] = [];
        for (const i of pending) {
          if (batch.length < batchSize && keys[i].every((k) => !used.has(k))) {
            batch.push(i);
            for (const k of keys[i]) used.add(k);
          } else rest.push(i);
        }
        pending = rest;
        if (batch.length === batchSize || !dropLast) out.push(batch);
      }
      return out;
    },
  };
}
