/**
 * File-system edge of the artifact format (node:fs, which Deno and Bun both provide):
 * atomic save (temporary directory, then rename) and load.
 *
 * @module
 */
import { LikenessError } from "@likeness/core";
import { mkdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { modelFromFiles, modelToFiles } from "./artifact.ts";
import type { LoadedArtifact, SaveOptions, SimilarityModel } from "./similarity_model.ts";

async function exists(p: string): Promise<boolean> {
  try {
    await stat(p);
    return true;
  } catch {
    return false;
  }
}

/**
 * Write a model to `dir` atomically: nothing is left at `dir` (or beside it) when writing fails.
 * @param model the model
 * @param dir target directory
 * @param options calibration, metadata, overwrite
 * @throws {LikenessError} CONFLICT when `dir` exists and `overwrite` is false
 * @example
 * ```ts
 * import { MlpEncoder, saveArtifact, SimilarityModel } from "@likeness/models";
 * await saveArtifact(new SimilarityModel(new MlpEncoder({ inputDim: 2, outputDim: 2 })), "/tmp/m1", { overwrite: true });
 * ```
 */
export async function saveArtifact(model: SimilarityModel, dir: string, options: SaveOptions = {}): Promise<void> {
  const target = resolve(dir);
  if (!options.overwrite && (await exists(target))) {
    throw new LikenessError(
      "CONFLICT",
      `Cannot save the model: ${target} already exists; pass { overwrite: true } or choose another directory`,
    );
  }
  const files = await modelToFiles(model, options);
  const parent = dirname(target);
  await mkdir(parent, { recursive: true });
  const tmp = join(parent, `.${basename(target)}.tmp-${crypto.randomUUID()}`);
  try {
    await mkdir(tmp);
    for (const [name, bytes] of Object.entries(files)) await writeFile(join(tmp, name), bytes);
    if (await exists(target)) {
      const old = join(parent, `.${basename(target)}.old-${crypto.randomUUID()}`);
      await rename(target, old);
      try {
        await rename(tmp, target);
      } catch (e) {
        await rename(old, target);
        throw e;
      }
      await rm(old, { recursive: true, force: true });
    } else {
      await rename(tmp, target);
    }
  } catch (e) {
    await rm(tmp, { recursive: true, force: true });
    throw e;
  }
}

/**
 * Load a model saved by {@link saveArtifact}.
 * @param dir artifact directory
 * @returns model, calibration, metadata
 * @throws {LikenessError} NOT_FOUND, CORRUPT, UNSUPPORTED; {ValueError} UNKNOWN_NAME
 * @example
 * ```ts
 * import { loadArtifact } from "@likeness/models";
 * const { model, calibration } = await loadArtifact("/tmp/m1");
 * console.log(model.dim, calibration);
 * ```
 */
export async function loadArtifact(dir: string): Promise<LoadedArtifact> {
  const root = resolve(dir);
  return await modelFromFiles(async (name) => {
    try {
      return new Uint8Array(await readFile(join(root, name)));
    } catch (e) {
      if ((e as { code?: string }).code === "ENOENT") return undefined;
      throw new LikenessError("CORRUPT", `Cannot read ${join(root, name)}: ${(e as Error).message}`, { cause: e });
    }
  }, root);
}
