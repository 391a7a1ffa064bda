/**
 * Registry of encoder and head types, so a saved artifact is restored from its config alone
 * (no training-script code). Built-in types are registered on import.
 *
 * @module
 */
import { ValueError } from "@likeness/core";
import { ConvNetEncoder, type ConvNetEncoderOptions } from "./convnet_encoder.ts";
import { EmptyHead } from "./empty_head.ts";
import { GatedHead } from "./gated_head.ts";
import { LinearHead, type LinearHeadOptions } from "./linear_head.ts";
import { MlpEncoder, type MlpEncoderOptions } from "./mlp_encoder.ts";
import type { MobileNetV2EncoderOptions } from "./mobilenet_v2_encoder.ts";
import { SequentialHead } from "./sequential_head.ts";
import { SkipConnectionHead } from "./skip_connection_head.ts";
import { SoftmaxEmbeddingsHead, type SoftmaxEmbeddingsHeadOptions } from "./softmax_embeddings_head.ts";
import { StackedProjectionHead, type StackedProjectionHeadOptions } from "./stacked_projection_head.ts";
import { SwitchEncoder } from "./switch_encoder.ts";
import type { ComponentConfig, Encoder, Head } from "./types.ts";
import { WideningHead, type WideningHeadOptions } from "./widening_head.ts";

/** Builds an encoder from its config (may load files, hence async). */
export type EncoderFactory = (config: ComponentConfig) => Encoder | Promise<Encoder>;
/** Builds a head from its config. */
export type HeadFactory = (config: ComponentConfig) => Head;

const encoders = new Map<string, EncoderFactory>();
const heads = new Map<string, HeadFactory>();

function checkConfig(config: unknown, kind: string): ComponentConfig {
  if (!config || typeof config !== "object" || typeof (config as ComponentConfig).type !== "string") {
    throw new ValueError("INVALID_ARGUMENT", `Invalid ${kind} config: expected an object with a string "type"`);
  }
  return config as ComponentConfig;
}

/**
 * Register an encoder type (replaces an earlier one of the same name).
 * @param type the `type` its `config()` returns
 * @param factory builds it from that config
 * @example
 * ```ts
 * import { MlpEncoder, registerEncoder } from "@likeness/models";
 * registerEncoder("my-mlp", (c) => new MlpEncoder(c as never));
 * ```
 */
export function registerEncoder(type: string, factory: EncoderFactory): void {
  encoders.set(type, factory);
}

/**
 * Register a head type (replaces an earlier one of the same name).
 * @param type the `type` its `config()` returns
 * @param factory builds it from that config
 * @example
 * ```ts
 * import { LinearHead, registerHead } from "@likeness/models";
 * registerHead("my-linear", (c) => new LinearHead(c as never));
 * ```
 */
export function registerHead(type: string, factory: HeadFactory): void {
  heads.set(type, factory);
}

/**
 * Build an encoder from a config.
 * @param config `{ type, ... }`
 * @returns the encoder (fresh weights; set saved weights afterwards)
 * @throws {ValueError} UNKNOWN_NAME naming the registered types and how to register another
 * @example
 * ```ts
 * import { buildEncoder } from "@likeness/models";
 * const enc = await buildEncoder({ type: "mlp", inputDim: 4, outputDim: 2 });
 * console.log(enc.dim); // 2
 * ```
 */
export async function buildEncoder(config: ComponentConfig): Promise<Encoder> {
  const c = checkConfig(config, "encoder");
  const f = encoders.get(c.type);
  if (!f) {
    throw new ValueError(
      "UNKNOWN_NAME",
      `Unknown encoder type "${c.type}": register it with registerEncoder("${c.type}", factory) before loading, or use one of ${
        [...encoders.keys()].join(", ")
      }`,
      { details: { type: c.type } },
    );
  }
  return await f(c);
}

/**
 * Build a head from a config.
 * @param config `{ type, ... }`
 * @returns the head (fresh weights)
 * @throws {ValueError} UNKNOWN_NAME naming the registered types and how to register another
 * @example
 * ```ts
 * import { buildHead } from "@likeness/models";
 * console.log(buildHead({ type: "linear", inputDim: 4, outputDim: 2 }).outputDim); // 2
 * ```
 */
export function buildHead(config: ComponentConfig): Head {
  const c = checkConfig(config, "head");
  const f = heads.get(c.type);
  if (!f) {
    throw new ValueError(
      "UNKNOWN_NAME",
      `Unknown head type "${c.type}": register it with registerHead("${c.type}", factory) before loading, or use one of ${
        [...heads.keys()].join(", ")
      }`,
      { details: { type: c.type } },
    );
  }
  return f(c);
}

/**
 * The registered type names.
 * @returns encoder and head type names
 * @example
 * ```ts
 * import { registeredTypes } from "@likeness/models";
 * console.log(registeredTypes().heads.includes("gated")); // true
 * ```
 */
export function registeredTypes(): { encoders: string[]; heads: string[] } {
  return { encoders: [...encoders.keys()], heads: [...heads.keys()] };
}

registerEncoder("mlp", (c) => new MlpEncoder(c as unknown as MlpEncoderOptions));
registerEncoder("convnet", (c) => new ConvNetEncoder(c as unknown as ConvNetEncoderOptions));
registerEncoder("use-lite", async () => {
  // Loaded on demand: the file-system edge is only imported when a USE-lite artifact is restored.
  const { loadUseLite } = await import("./use_lite_files.ts");
  return await loadUseLite();
});
registerEncoder("mobilenet-v2", async (c) => {
  // Loaded on demand from the installed nsfwjs package; saved weights (the trained blocks) are set afterwards.
  const { loadMobileNetV2 } = await import("./mobilenet_v2_files.ts");
  return await loadMobileNetV2(c as unknown as MobileNetV2EncoderOptions);
});
registerEncoder("switch", async (c) => {
  const subs = (c.encoders ?? {}) as Record<string, ComponentConfig>;
  const built: Record<string, Encoder> = {};
  for (const [k, v] of Object.entries(subs)) built[k] = await buildEncoder(v);
  return new SwitchEncoder(built);
});
registerHead("empty", (c) => new EmptyHead(c as unknown as { inputDim: number }));
registerHead("linear", (c) => new LinearHead(c as unknown as LinearHeadOptions));
registerHead("gated", (c) => new GatedHead(c as unknown as { inputDim: number }));
registerHead("skip_connection", (c) => new SkipConnectionHead(c as unknown as { inputDim: number; seed?: number }));
registerHead("widening", (c) => new WideningHead(c as unknown as WideningHeadOptions));
registerHead("stacked_projection", (c) => new StackedProjectionHead(c as unknown as StackedProjectionHeadOptions));
registerHead("softmax_embeddings", (c) => new SoftmaxEmbeddingsHead(c as unknown as SoftmaxEmbeddingsHeadOptions));
registerHead("sequential", (c) => {
  const list = c.heads;
  if (!Array.isArray(list)) {
    throw new ValueError("INVALID_ARGUMENT", 'Invalid sequential head config: "heads" must be a list of head configs');
  }
  return new SequentialHead(list.map((h) => buildHead(h as ComponentConfig)));
});
