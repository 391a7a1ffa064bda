/**
 * Load a saved artifact directory as a {@link ServedModel}.
 *
 * @module
 */
import { LikenessError } from "@likeness/core";
import type { ServedModel } from "./model.ts";

/**
 * Restore a servable artifact (written by `SimilarityModel.save`) for the server.
 *
 * @param dir artifact directory
 * @returns the served model, with its calibrated threshold if the artifact has one
 * @throws {LikenessError} MISSING_DEPENDENCY when @likeness/models is unavailable, or what `load` throws
 */
export async function loadServedModel(dir: string): Promise<ServedModel> {
  let models: Record<string, unknown>;
  try {
    models = await import("@likeness/models");
  } catch (cause) {
    throw new LikenessError("MISSING_DEPENDENCY", "Serving a model needs @likeness/models", { cause });
  }
  const SimilarityModel = models.SimilarityModel as {
    load(dir: string): Promise<{
      name?: string;
      dim: number;
      calibration?: { threshold?: number };
      encode(inputs: unknown[], options?: unknown): Promise<unknown>;
    }>;
  };
  const m = await SimilarityModel.load(dir);
  return {
    name: m.name ?? dir,
    dim: m.dim,
    threshold: m.calibration?.threshold,
    async encode(inputs: unknown[]): Promise<Float32Array[]> {
      const out = await m.encode(inputs) as unknown;
      if (Array.isArray(out)) return out.map((r) => Float32Array.from(r as ArrayLike<number>));
      const t = out as { data(): Promise<Float32Array>; shape: number[]; dispose(): void };
      const data = await t.data();
      const [n, d] = t.shape;
      t.dispose();
      return Array.from({ length: n }, (_, i) => data.slice(i * d, (i + 1) * d));
    },
  };
}
