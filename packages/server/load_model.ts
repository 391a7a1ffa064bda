/**
 * Load a saved artifact directory as a {@link ServedModel}.
 *
 * Calibration convention (`calibration.json` of the artifact): `{ "metric": "cosine_similarity",
 * "threshold": t }` means classify answers a label only when the nearest reference has cosine
 * similarity ≥ t; `{ "metric": "cosine_distance", "threshold": d }` is the same with t = 1 − d.
 * Other calibration files are ignored (no open-set threshold).
 *
 * @module
 */
import { checkFiniteNumber, LikenessError, ValueError } from "@likeness/core";
import type { ServedModel } from "./model.ts";

/**
 * The similarity threshold a calibration object describes, if any.
 *
 * @param calibration the artifact's calibration JSON
 * @returns minimum cosine similarity, or undefined
 * @throws {ValueError} INVALID_ARGUMENT for a threshold that is not a finite number or an unknown metric
 * @example
 * ```ts
 * import { similarityThreshold } from "@likeness/server";
 * console.log(similarityThreshold({ metric: "cosine_distance", threshold: 0.25 })); // 0.75
 * ```
 */
export function similarityThreshold(calibration: unknown): number | undefined {
  if (!calibration || typeof calibration !== "object") return undefined;
  const c = calibration as { metric?: unknown; threshold?: unknown };
  if (c.threshold === undefined) return undefined;
  const threshold = checkFiniteNumber(c.threshold, "threshold", "the model's calibration");
  const metric = c.metric ?? "cosine_similarity";
  if (metric === "cosine_similarity") return threshold;
  if (metric === "cosine_distance") return 1 - threshold;
  throw new ValueError(
    "INVALID_ARGUMENT",
    `calibration.metric ${
      JSON.stringify(metric)
    } is not supported by the server: use "cosine_similarity" or "cosine_distance"`,
  );
}

/**
 * Restore a servable artifact (written by `SimilarityModel.save`) for the server.
 *
 * @param dir artifact directory
 * @returns the served model, with its calibrated threshold if the artifact has one
 * @throws {LikenessError} MISSING_DEPENDENCY when @likeness/models is unavailable, or what loading throws
 */
export async function loadServedModel(dir: string): Promise<ServedModel> {
  let models: typeof import("@likeness/models");
  try {
    models = await import("@likeness/models");
  } catch (cause) {
    throw new LikenessError("MISSING_DEPENDENCY", "Serving a model needs @likeness/models", { cause });
  }
  const { model, calibration, metadata } = await models.SimilarityModel.loadArtifact(dir);
  const name = typeof metadata?.name === "string" ? metadata.name : dir.split(/[\\/]/).filter(Boolean).pop() ?? "model";
  return {
    name,
    dim: model.dim,
    threshold: similarityThreshold(calibration),
    async encode(inputs: unknown[]): Promise<Float32Array[]> {
      const m = await model.encode(inputs);
      return Array.from({ length: m.rows }, (_, i) => m.data.slice(i * m.cols, (i + 1) * m.cols));
    },
  };
}
