/**
 * Hierarchical batches (pytorch-metric-learning's HierarchicalSampler): each batch holds a few
 * super-classes, several classes within each, and `m` items per class — so hard negatives from
 * the same super-class meet in every batch.
 *
 * @module
 */
import { checkPositiveInt, type Label, labelIds, ShapeError, ValueError } from "@likeness/core";
import type { BatchSampler } from "./types.ts";
import { checkLabelList, Cycler, epochRng, groupByClass, groupSchedule } from "./_common.ts";

/** Options for {@link hierarchicalSampler}. */
export interface HierarchicalOptions {
  /** Super-class of each item (every item of a class must share it). */
  superLabels: readonly Label[];
  /** Items per batch; a multiple of `superClassesPerBatch × m`. */
  batchSize: number;
  /** Items per class in a batch. */
  m: number;
  /** Super-classes per batch (default 2). */
  superClassesPerBatch?: number;
  /** Seed (default 0). */
  seed?: number;
  /** Batches per epoch (default: about one pass over the data, and every super-class at least once). */
  batchesPerEpoch?: number;
  /** Allow repeated items when a class has fewer than `m` items (default false). */
  withReplacement?: boolean;
}

/**
 * Batches drawn by super-class, then class, then item: `superClassesPerBatch` super-classes,
 * `batchSize / (superClassesPerBatch × m)` classes in each, `m` items per class.
 *
 * @param labels class of each item
 * @param options superLabels, batchSize, m, superClassesPerBatch, seed, batchesPerEpoch, withReplacement
 * @returns a {@link BatchSampler}
 * @throws {ShapeError} EMPTY_INPUT / LABEL_MISMATCH for missing or mismatched labels
 * @throws {ValueError} INVALID_ARGUMENT when the batch does not divide, a class spans two super-classes,
 *   a super-class has too few classes, or a class has fewer than m items without `withReplacement`
 * @example
 * ```ts
 * import { hierarchicalSampler } from "@likeness/samplers";
 * import assert from "node:assert/strict";
 * const labels = [0, 0, 1, 1, 2, 2, 3, 3];
 * const s = hierarchicalSampler(labels, { superLabels: ["a", "a", "a", "a", "b", "b", "b", "b"], batchSize: 8, m: 2 });
 * assert.equal(s.epoch(0)[0].length, 8); // 2 super-classes x 2 classes x 2 items
 * ```
 */
export function hierarchicalSampler(labels: readonly Label[], options: HierarchicalOptions): BatchSampler {
  checkLabelList(labels);
  checkLabelList(options?.superLabels as Label[], "superLabels");
  if (options.superLabels.length !== labels.length) {
    throw new ShapeError(
      `Cannot sample hierarchically: ${options.superLabels.length} super labels for ${labels.length} items; pass one per item`,
      "LABEL_MISMATCH",
    );
  }
  const m = checkPositiveInt(options.m, "m");
  const batchSize = checkPositiveInt(options.batchSize, "batchSize");
  const spb = checkPositiveInt(options.superClassesPerBatch ?? 2, "superClassesPerBatch");
  if (batchSize % (spb * m) !== 0) {
    throw new ValueError(
      "INVALID_ARGUMENT",
      `Cannot split batchSize ${batchSize} into ${spb} super-classes of classes with m=${m} items: use a batchSize ` +
        `that is a multiple of superClassesPerBatch × m = ${spb * m}`,
    );
  }
  const classesPerSuper = batchSize / (spb * m);
  const classes = groupByClass(labels);
  const superIds = labelIds(options.superLabels);
  const superOfClass = classes.members.map((xs, c) => {
    const s = superIds[xs[0]];
    const other = xs.find((i) => superIds[i] !== s);
    if (other !== undefined) {
      throw new ValueError(
        "INVALID_ARGUMENT",
        `Class ${JSON.stringify(classes.labels[c])} spans two super-classes (items ${
          xs[0]
        } and ${other}); give every ` +
          `item of a class the same super label`,
      );
    }
    return s;
  });
  const superCount = new Set(superIds).size;
  const classesOf: number[][] = Array.from({ length: superCount }, () => []);
  superOfClass.forEach((s, c) => classesOf[s].push(c));
  if (superCount < spb) {
    throw new ValueError(
      "INVALID_ARGUMENT",
      `Cannot put ${spb} super-classes in a batch: the data has ${superCount}; lower superClassesPerBatch`,
    );
  }
  const thin = classesOf.findIndex((cs) => cs.length < classesPerSuper);
  if (thin >= 0) {
    const name = JSON.stringify(options.superLabels[superIds.indexOf(thin)]);
    throw new ValueError(
      "INVALID_ARGUMENT",
      `Super-class ${name} has ${classesOf[thin].length} classes but a batch takes ${classesPerSuper} from each; ` +
        `lower batchSize or raise m, or drop that super-class`,
    );
  }
  if (!(options.withReplacement ?? false)) {
    const small = classes.members.findIndex((xs) => xs.length < m);
    if (small >= 0) {
      const n = classes.members[small].length;
      throw new ValueError(
        "INVALID_ARGUMENT",
        `Cannot draw m=${m} distinct items from class ${
          JSON.stringify(classes.labels[small])
        }: it has ${n}; lower m to ${n}, drop the class, or pass withReplacement: true`,
      );
    }
  }
  const batchesPerEpoch = options.batchesPerEpoch !== undefined
    ? checkPositiveInt(options.batchesPerEpoch, "batchesPerEpoch")
    : Math.max(Math.ceil(superCount / spb), Math.floor(labels.length / batchSize));
  const seed = options.seed ?? 0;
  const ids = classesOf.map((_, s) => s);
  return {
    batchSize,
    batchesPerEpoch,
    epoch(e: number): number[][] {
      const rng = epochRng(seed, e);
      const items = classes.members.map((xs) => new Cycler(xs, rng));
      const classCyclers = classesOf.map((cs) => new Cycler(cs, rng));
      return groupSchedule(ids, spb, batchesPerEpoch, rng).map((supers) =>
        supers.flatMap((s) => classCyclers[s].take(classesPerSuper).flatMap((c) => items[c].take(m)))
      );
    },
  };
}
