/**
 * Seeded batch samplers, identical in Deno and Bun: m-per-class (every class covered each
 * epoch), no-duplicates (for in-batch negatives), hierarchical (super-class, class, item) and
 * plain pair batches. Each returns a `BatchSampler` whose `epoch(e)` depends only on the seed
 * and `e`.
 *
 * @example
 * ```ts
 * import { mPerClassSampler } from "@likeness/samplers";
 * const labels = [0, 0, 0, 1, 1, 1, 2, 2, 2];
 * const sampler = mPerClassSampler(labels, { m: 3, batchSize: 6, seed: 42 });
 * for (const batch of sampler.epoch(0)) console.log(batch.map((i) => labels[i]));
 * ```
 *
 * @module
 */
export * from "./types.ts";
export * from "./m_per_class.ts";
export * from "./no_duplicates.ts";
export * from "./pair_batches.ts";
export * from "./hierarchical.ts";
export * from "./registry.ts";
