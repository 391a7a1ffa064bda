/**
 * Merging labelled data sets whose labels do not agree: labels are namespaced by set
 * (`<set>:<label>`), labels that name the same concept across sets can be mapped to one shared
 * label (`=<concept>`), and {@link groupAwareSampler} draws batches in which any two different
 * labels really are different concepts: two unmapped labels of different sets never meet in a
 * batch (so a loss never treats them as negatives) unless `crossSetNegatives` asks for it.
 *
 * @module
 */
import { createRng, type Label, ShapeError, ValueError } from "@likeness/core";
import { type BatchSampler, mPerClassSampler } from "@likeness/samplers";

/** One labelled set to merge. */
export interface LabelledSet<T> {
  /** Set name (the label namespace); unique among the merged sets, without `:`. */
  name: string;
  /** The items. */
  items: readonly T[];
  /** One label per item (the set's own vocabulary). */
  labels: readonly (string | number)[];
}

/** Options of {@link mergeDatasets}. */
export interface MergeOptions {
  /**
   * Labels that are one concept across sets: `{ "<set>:<label>": "<concept>" }`, or a function
   * `(set, label) => concept | undefined`. Items with a mapped label get the label `=<concept>`.
   * Default: nothing mapped (the sets are independent).
   */
  mapping?: Readonly<Record<string, string>> | ((set: string, label: string) => string | undefined);
  /** Let unmapped labels of different sets be negatives of each other (default false). */
  crossSetNegatives?: boolean;
}

/** What {@link mergeDatasets} returns. */
export interface MergedDataset<T> {
  /** All items, set after set. */
  items: T[];
  /** Merged label per item: `<set>:<label>` or, when mapped, `=<concept>`. */
  labels: string[];
  /** Index (into `setNames`) of the set each item came from. */
  sets: number[];
  /** The set names, in input order. */
  setNames: string[];
  /** Whether each item's label was mapped to a shared concept. */
  mapped: boolean[];
  /** As passed (default false). */
  crossSetNegatives: boolean;
}

/**
 * Merge labelled sets into one similarity data set with namespaced labels.
 * @param sets two or more sets (one is allowed)
 * @param options label mapping and whether unmapped labels of different sets may be negatives
 * @returns the merged items, labels and provenance
 * @throws {ValueError} INVALID_ARGUMENT for a duplicate or malformed set name, or a mapping key of an unknown set;
 *   {ShapeError} LABEL_MISMATCH when a set's label count differs from its item count
 * @example
 * ```ts
 * import { mergeDatasets } from "@likeness/data";
 * import assert from "node:assert/strict";
 * const m = mergeDatasets([
 *   { name: "a", items: [1, 2], labels: ["cat", "dog"] },
 *   { name: "b", items: [3], labels: ["Katze"] },
 * ], { mapping: { "a:cat": "cat", "b:Katze": "cat" } });
 * assert.deepEqual(m.labels, ["=cat", "a:dog", "=cat"]);
 * ```
 */
export function mergeDatasets<T>(sets: readonly LabelledSet<T>[], options: MergeOptions = {}): MergedDataset<T> {
  if (!Array.isArray(sets) || sets.length === 0) {
    throw new ValueError(
      "INVALID_ARGUMENT",
      "Cannot merge data sets: pass a non-empty list of { name, items, labels }",
    );
  }
  const names = new Set<string>();
  for (const s of sets) {
    if (typeof s?.name !== "string" || s.name.length === 0 || s.name.includes(":")) {
      throw new ValueError(
        "INVALID_ARGUMENT",
        `Cannot merge data sets: set name ${JSON.stringify(s?.name)} must be a non-empty string without ":"`,
      );
    }
    if (names.has(s.name)) {
      throw new ValueError("INVALID_ARGUMENT", `Cannot merge data sets: two sets are named ${JSON.stringify(s.name)}`);
    }
    names.add(s.name);
    if (!Array.isArray(s.items) || !Array.isArray(s.labels) || s.items.length !== s.labels.length) {
      throw new ShapeError(
        `Cannot merge data set ${s.name}: ${s.items?.length} items but ${s.labels?.length} labels; give one label per item`,
        "LABEL_MISMATCH",
      );
    }
  }
  const mapping = options.mapping;
  if (mapping && typeof mapping === "object") {
    for (const key of Object.keys(mapping)) {
      const set = key.slice(0, key.indexOf(":"));
      if (key.indexOf(":") < 0 || !names.has(set)) {
        throw new ValueError(
          "INVALID_ARGUMENT",
          `Invalid label mapping key ${JSON.stringify(key)}: expected "<set>:<label>" with one of the sets ${
            [...names].join(", ")
          }`,
        );
      }
    }
  }
  const conceptOf = (set: string, label: string): string | undefined =>
    mapping === undefined
      ? undefined
      : typeof mapping === "function"
      ? mapping(set, label)
      : (mapping as Record<string, string>)[`${set}:${label}`];
  const out: MergedDataset<T> = {
    items: [],
    labels: [],
    sets: [],
    setNames: sets.map((s) => s.name),
    mapped: [],
    crossSetNegatives: options.crossSetNegatives ?? false,
  };
  sets.forEach((s, k) => {
    s.items.forEach((item: T, i: number) => {
      const label = String(s.labels[i]);
      const concept = conceptOf(s.name, label);
      out.items.push(item);
      out.labels.push(concept === undefined ? `${s.name}:${label}` : `=${concept}`);
      out.sets.push(k);
      out.mapped.push(concept !== undefined);
    });
  });
  return out;
}

/**
 * Whether two items of a merged set may serve as a negative pair: different labels, and either the
 * same set, both labels mapped to shared concepts, an unmapped label against a concept that its own
 * set also labels, or `crossSetNegatives`.
 * @param merged from {@link mergeDatasets}
 * @param i an item index
 * @param j another item index
 * @returns true when a loss may push them apart
 * @example
 * ```ts
 * import { canBeNegatives, mergeDatasets } from "@likeness/data";
 * import assert from "node:assert/strict";
 * const m = mergeDatasets([{ name: "a", items: [0], labels: ["x"] }, { name: "b", items: [1], labels: ["y"] }]);
 * assert.equal(canBeNegatives(m, 0, 1), false); // unmapped labels of different sets
 * ```
 */
export function canBeNegatives<T>(merged: MergedDataset<T>, i: number, j: number): boolean {
  if (merged.labels[i] === merged.labels[j]) return false;
  if (merged.crossSetNegatives || merged.sets[i] === merged.sets[j]) return true;
  if (merged.mapped[i] && merged.mapped[j]) return true;
  // An unmapped label of set S differs from every concept that S itself also labels.
  const concepts = conceptsBySet(merged);
  if (!merged.mapped[i] && merged.mapped[j]) return concepts[merged.sets[i]].has(merged.labels[j]);
  if (merged.mapped[i] && !merged.mapped[j]) return concepts[merged.sets[j]].has(merged.labels[i]);
  return false;
}

const _concepts = new WeakMap<object, Set<string>[]>();

function conceptsBySet<T>(merged: MergedDataset<T>): Set<string>[] {
  let c = _concepts.get(merged);
  if (!c) {
    c = merged.setNames.map(() => new Set<string>());
    merged.labels.forEach((l, i) => {
      if (merged.mapped[i]) c![merged.sets[i]].add(l);
    });
    _concepts.set(merged, c);
  }
  return c;
}

/** Options of {@link groupAwareSampler}. */
export interface GroupAwareOptions {
  /** Items per class in each batch. */
  m: number;
  /** Items per batch (a multiple of `m`). */
  batchSize: number;
  /** Seed (default 0). */
  seed?: number;
  /** Batches per epoch in total (default: about one pass over the items). */
  batchesPerEpoch?: number;
}

/**
 * m-per-class batches over a merged set in which every two different labels are valid negatives
 * ({@link canBeNegatives}): each batch is drawn from one set's labels plus the items of other sets
 * mapped to the same concepts (cross-set positives); with `crossSetNegatives` it is plain
 * m-per-class sampling over all labels.
 * @param merged from {@link mergeDatasets}
 * @param options m, batchSize, seed, batchesPerEpoch
 * @returns a sampler for `fit` (indices into `merged.items`)
 * @throws {ValueError} INVALID_ARGUMENT when some set cannot fill a batch (too few classes, or a class with
 *   fewer than m items: e.g. one image per class)
 * @example
 * ```ts
 * import { groupAwareSampler, mergeDatasets } from "@likeness/data";
 * const m = mergeDatasets([
 *   { name: "a", items: [0, 1, 2, 3], labels: ["x", "x", "y", "y"] },
 *   { name: "b", items: [4, 5, 6, 7], labels: ["u", "u", "v", "v"] },
 * ]);
 * const s = groupAwareSampler(m, { m: 2, batchSize: 4, seed: 1 });
 * console.log(s.epoch(0)); // batches of set a's items or of set b's, never both
 * ```
 */
export function groupAwareSampler<T>(merged: MergedDataset<T>, options: GroupAwareOptions): BatchSampler {
  const n = merged.items.length;
  const domains: number[][] = [];
  if (merged.crossSetNegatives) domains.push(merged.labels.map((_, i) => i));
  else {
    const seen = new Set<string>();
    merged.setNames.forEach((_, k) => {
      const concepts = new Set<string>();
      merged.labels.forEach((l, i) => {
        if (merged.sets[i] === k && merged.mapped[i]) concepts.add(l);
      });
      const members: number[] = [];
      for (let i = 0; i < n; i++) {
        if (merged.sets[i] === k || (merged.mapped[i] && concepts.has(merged.labels[i]))) members.push(i);
      }
      const key = members.join(",");
      if (members.length > 0 && !seen.has(key)) {
        seen.add(key);
        domains.push(members);
      }
    });
  }
  const total = options.batchesPerEpoch ?? Math.max(domains.length, Math.ceil(n / options.batchSize));
  const share = domains.map((d) =>
    Math.max(1, Math.round(total * d.length / domains.reduce((a, b) => a + b.length, 0)))
  );
  const samplers = domains.map((members, k) => {
    const labels: Label[] = members.map((i) => merged.labels[i]);
    try {
      return mPerClassSampler(labels, {
        m: options.m,
        batchSize: options.batchSize,
        seed: (options.seed ?? 0) + 7919 * k,
        batchesPerEpoch: Math.max(share[k], Math.ceil(new Set(labels).size / (options.batchSize / options.m))),
      });
    } catch (cause) {
      throw new ValueError(
        "INVALID_ARGUMENT",
        `Cannot sample merged data set (${
          merged.crossSetNegatives ? "all sets" : `set ${merged.setNames[merged.sets[members[0]]]}`
        }): ${(cause as Error).message}`,
        { cause },
      );
    }
  });
  const batchesPerEpoch = samplers.reduce((a, s, k) => a + Math.min(share[k], s.batchesPerEpoch), 0);
  return {
    batchSize: options.batchSize,
    batchesPerEpoch,
    epoch(epoch: number): number[][] {
      const all: number[][] = [];
      samplers.forEach((s, k) => {
        for (const b of s.epoch(epoch).slice(0, share[k])) all.push(b.map((i) => domains[k][i]));
      });
      return createRng(((options.seed ?? 0) ^ Math.imul(epoch + 1, 0x9e3779b1)) >>> 0).shuffle(all);
    },
  };
}
