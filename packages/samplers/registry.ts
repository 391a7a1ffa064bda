/**
 * The declarations of every batch sampler ({@link SAMPLER_REGISTRY}): name, summary, parameters
 * with their types, defaults and ranges, the data it is built over ({@link SamplerMeta}) and the
 * constructor, stated once; the CLI config reads them. A new sampler is its file and one entry
 * here.
 *
 * The data are live parameters, passed beside the JSON ones and named in `create`'s `live` list:
 * `labels` (one per item), `count` (the number of pairs), `superLabels` (one per item).
 *
 * @example
 * ```ts
 * import { SAMPLER_REGISTRY } from "@likeness/samplers";
 * import assert from "node:assert/strict";
 * const labels = [0, 0, 1, 1, 2, 2];
 * const sampler = SAMPLER_REGISTRY.create("m-per-class", { m: 2, batchSize: 4, seed: 1, labels }, ["labels"]);
 * assert.equal(sampler!.epoch(0)[0].length, 4);
 * assert.throws(() => SAMPLER_REGISTRY.create("m-per-clas", { batchSize: 4 }), { code: "UNKNOWN_NAME" });
 * ```
 *
 * @module
 */
import { ComponentRegistry, type Label, s } from "@likeness/core";
import { hierarchicalSampler } from "./hierarchical.ts";
import { mPerClassSampler } from "./m_per_class.ts";
import { noDuplicatesSampler } from "./no_duplicates.ts";
import { pairBatchSampler } from "./pair_batches.ts";
import type { BatchSampler } from "./types.ts";

/** The data a sampler is built over, passed as live parameters. */
export type SamplerData = "labels" | "count" | "superLabels";

/** What a sampler declares beside its parameters. */
export interface SamplerMeta {
  /**
   * The live data it needs: `labels` (labelled items), `count` (scored pairs), `superLabels`.
   * None: it builds no sampler (`create` returns undefined) and `fit` batches by itself, with the
   * parameters as `fit` options (`dropLast`).
   */
  data: readonly SamplerData[];
}

/**
 * Every sampler by config name. `create` returns undefined for `shuffle`: `fit`'s own seeded
 * shuffled batches (its default), whose `dropLast` is `fit`'s option of that name.
 */
export const SAMPLER_REGISTRY: ComponentRegistry<BatchSampler | undefined> = new ComponentRegistry<
  BatchSampler | undefined
>("sampler");

const batching = {
  batchSize: { ...s.positiveInt(), summary: "Items (or pairs) per batch (the CLI fills it from trainer.batchSize)." },
  seed: { ...s.nonNegativeInt(0), summary: "Seed of every epoch's draw." },
};
const dropLast = { ...s.boolean(false), summary: "Drop the last, smaller batch." };
const m = { ...s.positiveInt(), summary: "Items per class in each batch (must divide batchSize)." };
const batchesPerEpoch = {
  ...s.positiveInt(),
  summary: "Batches per epoch (default: about one pass, and every class at least once).",
};
const withReplacement = {
  ...s.boolean(false),
  summary: "Allow repeated items when a class has fewer than m (default: an error).",
};

type P = Record<string, unknown>;
const labelsOf = (p: P) => p.labels as readonly Label[];

SAMPLER_REGISTRY.register({
  name: "m-per-class",
  summary: "m items of each of batchSize / m classes per batch; every class covered each epoch.",
  params: { ...batching, m, batchesPerEpoch, withReplacement },
  required: ["batchSize", "m"],
  example: { batchSize: 4, m: 2 },
  meta: { data: ["labels"] } satisfies SamplerMeta,
  create: (p) => mPerClassSampler(labelsOf(p), p as never),
});
SAMPLER_REGISTRY.register({
  name: "no-duplicates",
  summary: "At most one item of a class per batch (for in-batch negatives).",
  params: { ...batching, dropLast },
  required: ["batchSize"],
  example: { batchSize: 2 },
  meta: { data: ["labels"] } satisfies SamplerMeta,
  create: (p) => noDuplicatesSampler(labelsOf(p), p as never),
});
SAMPLER_REGISTRY.register({
  name: "shuffle",
  summary: "fit's own seeded shuffled batches (its default): builds no sampler.",
  params: { dropLast },
  meta: { data: [] } satisfies SamplerMeta,
  create: () => undefined,
});
SAMPLER_REGISTRY.register({
  name: "pairs",
  summary: "Batches of pair indices, reshuffled every epoch; each pair once per epoch.",
  params: { ...batching, shuffle: { ...s.boolean(true), summary: "Shuffle each epoch." }, dropLast },
  required: ["batchSize"],
  example: { batchSize: 2 },
  meta: { data: ["count"] } satisfies SamplerMeta,
  create: (p) => pairBatchSampler(p.count as number, p as never),
});
SAMPLER_REGISTRY.register({
  name: "hierarchical",
  summary: "Super-classes, then classes, then m items per class in each batch.",
  params: {
    ...batching,
    m,
    superClassesPerBatch: { ...s.positiveInt(2), summary: "Super-classes per batch." },
    batchesPerEpoch,
    withReplacement,
  },
  required: ["batchSize", "m"],
  example: { batchSize: 4, m: 2, superClassesPerBatch: 2 },
  meta: { data: ["labels", "superLabels"] } satisfies SamplerMeta,
  create: (p) => hierarchicalSampler(labelsOf(p), p as never),
});
