/**
 * sentence-transformers-style losses: CoSENT, AnglE, the Matryoshka wrapper and the cached
 * (GradCache) in-batch-negatives loss.
 *
 * @module
 */
export * from "./cosent.ts";
export * from "./angle.ts";
export * from "./matryoshka.ts";
export * from "./cached_mnrl.ts";
