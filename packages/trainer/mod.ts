/**
 * Trainer of likeness: `fit(model, data, { ...options, loss: loss })` with epochs, samplers or shuffled
 * batches, Adam and SGD, learning-rate schedules, global-norm gradient clipping, validation,
 * callbacks (early stopping, JSONL logging, progress reporting), checkpoints with exact resume,
 * learned loss parameters and seeded determinism.
 *
 * @example
 * ```ts
 * import { MlpEncoder, SimilarityModel } from "@likeness/models";
 * import { TripletLoss } from "@likeness/losses";
 * import { cosineLr, earlyStopping, fit, MemoryCheckpointStore, progressReporter } from "@likeness/trainer";
 * const model = new SimilarityModel(new MlpEncoder({ inputDim: 2, hidden: [8], outputDim: 4, seed: 1 }));
 * const data = { inputs: [[0, 0], [0, 1], [5, 5], [5, 6]], labels: [0, 0, 1, 1] };
 * const result = await fit(model, data, {
 *   loss: new TripletLoss({ margin: 0.5 }),
 *   epochs: 5, batchSize: 4, optimizer: "adam", learningRate: cosineLr({ lr: 1e-2 }), clipNorm: 1, seed: 7,
 *   checkpoint: new MemoryCheckpointStore(),
 *   callbacks: [earlyStopping({ monitor: "loss", patience: 2 }), progressReporter({ write: (t) => console.log(t.trimEnd()) })],
 * });
 * console.log(result.epochs, result.steps);
 * ```
 *
 * @module
 */
export * from "./fit.ts";
export * from "./optimizers.ts";
export * from "./param_groups.ts";
export * from "./schedule.ts";
export * from "./registry.ts";
export * from "./clip.ts";
export * from "./callbacks.ts";
export * from "./checkpoint.ts";
export * from "./checkpoint_fs.ts";
export * from "./reporter.ts";
export * from "./profiler.ts";
