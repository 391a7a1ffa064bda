/**
 * The `likeness` command line: `train` from a JSON config, `eval`, `serve`, `bench` and
 * `report`. This module exports its reusable pieces: the config schema and validator (every
 * problem with its JSON path, the bad value and the fix, with "did you mean" suggestions), the
 * tables of losses, miners, samplers and data sets a config may name, and the commands.
 *
 * @example
 * ```ts
 * import { formatIssues, validateConfig } from "@likeness/cli";
 * const { issues } = validateConfig({
 *   data: "digits",
 *   encoder: { type: "mlp", outputDim: 16 },
 *   loss: { name: "TriplteMarginLoss" },
 *   trainer: { epochs: -1 },
 * });
 * console.log(formatIssues(issues));
 * // config.loss.name: unknown loss "TriplteMarginLoss"; did you mean "TripletMarginLoss"?
 * // config.trainer.epochs: must be a positive integer, got -1
 * ```
 *
 * @module
 */
export * from "./suggest.ts";
export * from "./schema.ts";
export * from "./components.ts";
export * from "./config.ts";
export * from "./args.ts";
export * from "./data.ts";
export * from "./build.ts";
export * from "./evaluate.ts";
export * from "./report.ts";
export * from "./train.ts";
export * from "./cli.ts";
