/**
 * Turning a validated config into live parts: the model (encoder, head), the loss, the miner,
 * the batch sampler, the optimizer and the learning-rate schedule.
 *
 * @module
 */
import { isLikenessError } from "@likeness/core";
import { type Loss, LOSS_REGISTRY } from "@likeness/losses";
import { type Miner, MINER_REGISTRY } from "@likeness/miners";
import {
  buildEncoder,
  buildHead,
  ENCODER_REGISTRY,
  type EncoderMeta,
  HEAD_REGISTRY,
  SimilarityModel,
} from "@likeness/models";
import { SAMPLER_REGISTRY, type SamplerMeta } from "@likeness/samplers";
import {
  type FitSampler,
  type LrSchedule,
  type Optimizer,
  OPTIMIZER_REGISTRY,
  SCHEDULE_REGISTRY,
} from "@likeness/trainer";
import type { MinerBackend } from "@likeness/miners";
import { LOSSES } from "./components.ts";
import type { TrainConfig } from "./config.ts";
import type { LoadedData } from "./data.ts";
import type { Issue } from "./schema.ts";

/** A config problem found while building (exit code 2), with the JSON path of the culprit. */
export class ConfigError extends Error {
  /** The problems. */
  readonly issues: Issue[];
  /**
   * @param issues problems, each with its JSON path
   */
  constructor(issues: Issue[]) {
    super(issues.map((i) => `${i.path}: ${i.message}`).join("\n"));
    this.name = "ConfigError";
    this.issues = issues;
  }
}

/** Run `fn`; a typed likeness error becomes a {@link ConfigError} at `path`. */
async function at<T>(path: string, fn: () => T | Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (isLikenessError(e) && e.code !== "MISSING_DEPENDENCY" && e.code !== "NOT_FOUND") {
      throw new ConfigError([{ path, message: e.message }]);
    }
    throw e;
  }
}

function rest(obj: Record<string, unknown>, drop: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) if (k !== drop) out[k] = v;
  return out;
}

/**
 * Build the model of a config for the loaded data.
 *
 * @param config validated config
 * @param data loaded data (feature width and image shape)
 * @returns the model (fresh weights)
 * @throws {ConfigError} for an encoder or head that does not fit the data
 */
export async function buildModel(config: TrainConfig, data: LoadedData): Promise<SimilarityModel> {
  const seed = config.seed ?? 1;
  const enc = config.encoder;
  const decl = ENCODER_REGISTRY.get(enc.type);
  const params: Record<string, unknown> = { ...rest(enc, "type") };
  if ((decl.meta as EncoderMeta | undefined)?.reads === "features") {
    if (data.kind !== "features" || data.dim === undefined) {
      throw new ConfigError([{
        path: "config.encoder.type",
        message: `the ${enc.type} encoder reads numeric features, but this data set holds texts; use "use-lite"`,
      }]);
    }
    const dim = data.dim;
    if ("inputDim" in decl.params) params.inputDim = dim;
    if ("inputShape" in decl.params) params.inputShape = imageShape(params.inputShape, dim, data.imageShape);
  }
  if ("seed" in decl.params) params.seed ??= seed;
  const encoder = await at("config.encoder", () => buildEncoder({ type: enc.type, ...params }));
  const hc = config.head;
  const head = hc && hc.type !== "empty"
    ? await at("config.head", () => {
      const seeded = "seed" in HEAD_REGISTRY.get(hc.type).params ? { seed: seed + 1 } : {};
      return buildHead({ ...seeded, ...hc, inputDim: encoder.dim });
    })
    : undefined;
  return new SimilarityModel(encoder, head, { normalize: config.normalize ?? true });
}

/** A convnet's `[height, width, channels]`: as given, else from the data set's image shape or a square. */
function imageShape(given: unknown, dim: number, dataShape?: readonly number[]): [number, number, number] {
  let shape = given as [number, number, number] | undefined;
  if (!shape) {
    const side = Math.round(Math.sqrt(dim));
    shape = dataShape ? [dataShape[0], dataShape[1], 1] : side * side === dim ? [side, side, 1] : undefined;
  }
  if (!shape || shape[0] * shape[1] * shape[2] !== dim) {
    throw new ConfigError([{
      path: "config.encoder.inputShape",
      message: `must multiply out to the ${dim} features of the data set, got ${
        shape ? JSON.stringify(shape) : "nothing"
      }; give [height, width, channels]`,
    }]);
  }
  return shape;
}

/**
 * Build the loss of a config.
 *
 * @param config validated config
 * @param classes number of classes in the training data (for classifier losses)
 * @param embeddingSize the model's output width
 * @returns the loss
 * @throws {ConfigError} when the loss rejects its parameters
 */
export async function buildLoss(config: TrainConfig, classes: number, embeddingSize: number): Promise<Loss> {
  const spec = LOSSES[config.loss.name];
  const params: Record<string, unknown> = { ...(config.loss.params ?? {}) };
  if (spec.auto?.classes && params[spec.auto.classes] === undefined) params[spec.auto.classes] = classes;
  if (spec.auto?.embeddingSize && params[spec.auto.embeddingSize] === undefined) {
    params[spec.auto.embeddingSize] = embeddingSize;
  }
  if ("seed" in spec.params && params.seed === undefined) params.seed = config.seed ?? 1;
  return await at("config.loss.params", () => LOSS_REGISTRY.create(spec.name, params));
}

/**
 * Build the miner of a config (undefined when it has none).
 *
 * @param config validated config
 * @param backend the search backend the miner runs on
 * @returns the miner
 * @throws {ConfigError} when the miner rejects its parameters
 */
export async function buildMiner(config: TrainConfig, backend: MinerBackend): Promise<Miner | undefined> {
  if (!config.miner) return undefined;
  const params: Record<string, unknown> = { ...(config.miner.params ?? {}), backend };
  return await at("config.miner.params", () => MINER_REGISTRY.create(config.miner!.name, params, ["backend"]));
}

/**
 * Build the batch sampler from `SAMPLER_REGISTRY` (undefined: the trainer's seeded shuffled
 * batches, for `shuffle` or no sampler).
 *
 * @param config validated config
 * @param labels training labels (group data) or undefined
 * @param pairCount number of training pairs (pair data)
 * @returns the sampler
 * @throws {ConfigError} when the sampler cannot serve the data (too few classes for m-per-class)
 */
export async function buildSampler(
  config: TrainConfig,
  labels: readonly number[] | undefined,
  pairCount: number,
): Promise<FitSampler | undefined> {
  const sc = config.sampler;
  if (!sc) return undefined;
  // What the trainer section fills, for the samplers that declare it.
  const filled = { batchSize: config.trainer?.batchSize ?? 64, seed: config.trainer?.seed ?? config.seed ?? 1 };
  const declared = SAMPLER_REGISTRY.get(sc.name).params;
  const params = {
    ...rest(sc, "name"),
    ...Object.fromEntries(Object.entries(filled).filter(([k]) => k in declared)),
    labels,
    count: pairCount,
  };
  return await at("config.sampler", () => SAMPLER_REGISTRY.create(sc.name, params, ["labels", "count"]));
}

/**
 * The `fit` options a sampler that builds none stands for (`shuffle`'s `dropLast`).
 *
 * @param config validated config
 * @returns `{ dropLast }` when the config's sampler is fit's own batching, else `{}`
 */
export function fitBatching(config: TrainConfig): { dropLast?: boolean } {
  const sc = config.sampler;
  if (!sc || (SAMPLER_REGISTRY.get(sc.name).meta as SamplerMeta).data.length > 0) return {};
  return sc.dropLast === undefined ? {} : { dropLast: sc.dropLast as boolean };
}

/**
 * The optimizer of a config (default adam), from `OPTIMIZER_REGISTRY`.
 *
 * @param config validated config
 * @returns the optimizer
 */
export function buildOptimizer(config: TrainConfig): Optimizer {
  const o = config.trainer?.optimizer ?? { name: "adam" };
  return OPTIMIZER_REGISTRY.create(o.name, rest(o, "name"));
}

/**
 * The learning rate of a config: the `SCHEDULE_REGISTRY` schedule (default constant) from
 * `trainer.lr` (default 1e-3).
 *
 * @param config validated config
 * @returns the schedule
 */
export function buildSchedule(config: TrainConfig): LrSchedule {
  const sc = config.trainer?.schedule ?? { name: "constant" };
  return SCHEDULE_REGISTRY.create(sc.name, { ...rest(sc, "name"), lr: config.trainer?.lr ?? 1e-3 });
}
