/**
 * Miners returning index tuples (pytorch-metric-learning 2.8.1 semantics): BatchHard,
 * TripletMargin (all, hard, semihard, easy), MultiSimilarity, PairMargin, BatchEasyHard and
 * Angular. Distances are computed on the backend (or by a `Distance` of `@likeness/losses`),
 * selection runs on the backend's mining kernels; every miner takes a label-matching function
 * for multi-label data.
 *
 * @example
 * ```ts
 * import { TripletMarginMiner } from "@likeness/miners";
 * const miner = new TripletMarginMiner({ margin: 0.2, type: "semihard" });
 * const emb = { data: new Float32Array([1, 0, 0.9, 0.1, 0, 1, 0.1, 0.9]), rows: 4, cols: 2 };
 * const { triplets } = await miner.mine(emb, [0, 0, 1, 1]);
 * console.log(triplets);
 * ```
 *
 * @module
 */
export * from "./types.ts";
export * from "./distances.ts";
export * from "./batch_hard.ts";
export * from "./triplet_margin.ts";
export * from "./pair_margin.ts";
export * from "./multi_similarity.ts";
export * from "./batch_easy_hard.ts";
export * from "./angular.ts";
export * from "./registry.ts";
