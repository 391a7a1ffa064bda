/**
 * The servable artifact format, independent of where the files live: a config JSON with a
 * format version, packed weights with a checksummed manifest, optional calibration JSON.
 *
 * Files: `likeness.json` (format, version, encoder/head configs, metadata), `weights.bin`,
 * `weights.json` (manifest), and `calibration.json` when calibration is given.
 *
 * @module
 */
import { LikenessError } from "@likeness/core";
import { buildEncoder, buildHead } from "./registry.ts";
import { type LoadedArtifact, type SaveOptions, SimilarityModel } from "./similarity_model.ts";
import type { ComponentConfig } from "./types.ts";
import { packWeights, unpackWeights, type WeightManifest } from "./weights.ts";

/** Current artifact format version. */
export const ARTIFACT_FORMAT_VERSION = 1;
/** Name of the config file (its presence marks an artifact directory). */
export const ARTIFACT_CONFIG_FILE = "likeness.json";

/** Contents of `likeness.json`. */
export interface ArtifactConfig {
  /** `likeness-model`. */
  format: "likeness-model";
  /** {@link ARTIFACT_FORMAT_VERSION} at save time. */
  formatVersion: number;
  /** Model configs. */
  model: { encoder: ComponentConfig; head: ComponentConfig; normalize: boolean; dim: number };
  /** Weight file names. */
  weights: { data: string; manifest: string };
  /** Calibration file name, when present. */
  calibration?: string;
  /** Free-form metadata. */
  metadata?: Record<string, unknown>;
}

/**
 * Serialise a model into artifact files (name → bytes).
 * @param model the model
 * @param options calibration and metadata
 * @returns the files
 * @example
 * ```ts
 * import { MlpEncoder, modelToFiles, SimilarityModel } from "@likeness/models";
 * const files = await modelToFiles(new SimilarityModel(new MlpEncoder({ inputDim: 2, outputDim: 2 })));
 * console.log(Object.keys(files)); // ["weights.bin", "weights.json", "likeness.json"]
 * ```
 */
export async function modelToFiles(
  model: SimilarityModel,
  options: SaveOptions = {},
): Promise<Record<string, Uint8Array>> {
  const enc = new TextEncoder();
  const { manifest, data } = await packWeights(model.getWeights());
  const files: Record<string, Uint8Array> = {
    "weights.bin": data,
    "weights.json": enc.encode(JSON.stringify(manifest, null, 1)),
  };
  const config: ArtifactConfig = {
    format: "likeness-model",
    formatVersion: ARTIFACT_FORMAT_VERSION,
    model: { ...model.config(), dim: model.dim },
    weights: { data: "weights.bin", manifest: "weights.json" },
  };
  if (options.calibration !== undefined) {
    files["calibration.json"] = enc.encode(JSON.stringify(options.calibration, null, 2));
    config.calibration = "calibration.json";
  }
  if (options.metadata) config.metadata = options.metadata;
  files[ARTIFACT_CONFIG_FILE] = enc.encode(JSON.stringify(config, null, 2));
  return files;
}

function parseJson<T>(bytes: Uint8Array, name: string): T {
  try {
    return JSON.parse(new TextDecoder().decode(bytes)) as T;
  } catch (cause) {
    throw new LikenessError(
      "CORRUPT",
      `Cannot read ${name}: it is not valid JSON; re-save the model or copy the artifact again`,
      { cause },
    );
  }
}

/**
 * Rebuild a model from artifact files, verifying checksums; no training code is needed,
 * only types registered with `registerEncoder` / `registerHead` (built-ins are).
 *
 * @param read returns a file's bytes, or undefined when it does not exist
 * @param where directory name used in error messages
 * @returns model, calibration, metadata
 * @throws {LikenessError} NOT_FOUND (no likeness.json or a missing file), UNSUPPORTED (newer format), CORRUPT
 * @throws {ValueError} UNKNOWN_NAME for an unregistered encoder or head type
 * @example
 * ```ts
 * import { MlpEncoder, modelFromFiles, modelToFiles, SimilarityModel } from "@likeness/models";
 * const files = await modelToFiles(new SimilarityModel(new MlpEncoder({ inputDim: 2, outputDim: 2 })));
 * const { model } = await modelFromFiles((name) => Promise.resolve(files[name]));
 * console.log(model.dim); // 2
 * ```
 */
export async function modelFromFiles(
  read: (name: string) => Promise<Uint8Array | undefined>,
  where = "the artifact",
): Promise<LoadedArtifact> {
  const raw = await read(ARTIFACT_CONFIG_FILE);
  if (!raw) {
    throw new LikenessError(
      "NOT_FOUND",
      `Cannot load a model from ${where}: ${ARTIFACT_CONFIG_FILE} is missing; point at a directory written by SimilarityModel.save()`,
    );
  }
  const config = parseJson<ArtifactConfig>(raw, ARTIFACT_CONFIG_FILE);
  if (config?.format !== "likeness-model" || typeof config.formatVersion !== "number" || !config.model) {
    throw new LikenessError(
      "CORRUPT",
      `Cannot load a model from ${where}: ${ARTIFACT_CONFIG_FILE} is not a likeness model config`,
    );
  }
  if (config.formatVersion > ARTIFACT_FORMAT_VERSION) {
    throw new LikenessError(
      "UNSUPPORTED",
      `Cannot load a model from ${where}: format version ${config.formatVersion} is newer than this likeness (${ARTIFACT_FORMAT_VERSION}); upgrade likeness`,
    );
  }
  const need = async (name: string): Promise<Uint8Array> => {
    const b = await read(name);
    if (!b) {
      throw new LikenessError(
        "NOT_FOUND",
        `Cannot load a model from ${where}: ${name} is missing; re-save the model or copy the artifact again`,
      );
    }
    return b;
  };
  const manifest = parseJson<WeightManifest>(await need(config.weights.manifest), config.weights.manifest);
  const weights = await unpackWeights(manifest, await need(config.weights.data), config.weights.data);
  const encoder = await buildEncoder(config.model.encoder);
  const head = buildHead(config.model.head);
  const model = new SimilarityModel(encoder, head, { normalize: config.model.normalize });
  model.setWeights(weights);
  const out: LoadedArtifact = { model };
  if (config.calibration) out.calibration = parseJson(await need(config.calibration), config.calibration);
  if (config.metadata) out.metadata = config.metadata;
  return out;
}
