/**
 * Evaluation of similarity models, with pytorch-metric-learning's AccuracyCalculator
 * semantics: precision@k, recall@k (hit rate), MRR, R-precision, MAP@R, MAP@k, NDCG@k, NMI and
 * AMI (seeded k-means); pair metrics (accuracy, F1, average precision, best threshold),
 * threshold calibration for a target precision, and evaluation on held-out classes.
 *
 * @example
 * ```ts
 * import { calibrateThreshold, computeAccuracy } from "@likeness/eval";
 * const embeddings = [[0, 1], [0.1, 0.9], [1, 0], [0.9, 0.1]];
 * const r = await computeAccuracy({ embeddings, labels: ["a", "a", "b", "b"] }, undefined, { k: 1 });
 * console.log(r.metrics.precision_at_1, r.metrics.mean_average_precision_at_r); // 1 1
 * const c = calibrateThreshold([0.1, 0.2, 0.7, 0.9], [1, 1, 0, 0], { targetPrecision: 0.99 });
 * console.log(c.threshold); // 0.45
 * ```
 *
 * @module
 */
export * from "./knn.ts";
export * from "./retrieval.ts";
export * from "./clustering.ts";
export * from "./accuracy.ts";
export * from "./pairs.ts";
export * from "./held_out.ts";
export * from "./hard_negatives.ts";
