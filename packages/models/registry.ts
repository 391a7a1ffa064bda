/**
 * Registry of encoder and head types, so a saved artifact is restored from its config alone
 * (no training-script code). Every built-in type is declared once here ({@link ENCODER_REGISTRY},
 * {@link HEAD_REGISTRY}: name, summary, parameters with types, defaults and ranges, constructor);
 * the artifact loader, the CLI config and the docs read these declarations.
 *
 * An encoder's `meta.reads` says what it reads (`features`, `texts`, `images`, or `any` for a
 * composite of other encoders); `meta.composite` marks types built from other configs; a
 * caller that knows its input may leave out the parameters listed in `meta.inferred`.
 *
 * @module
 */
import { ComponentError, ComponentRegistry, s, type Schema, ValueError } from "@likeness/core";
import { ConvNetEncoder, type ConvNetEncoderOptions } from "./convnet_encoder.ts";
import { EmptyHead } from "./empty_head.ts";
import { GatedHead } from "./gated_head.ts";
import { LinearHead, type LinearHeadOptions } from "./linear_head.ts";
import { MlpEncoder, type MlpEncoderOptions } from "./mlp_encoder.ts";
import type { MobileNetV2EncoderOptions } from "./mobilenet_v2_encoder.ts";
import { ACTIVATIONS } from "./_params.ts";
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

/** The `meta` of an encoder declaration. */
export interface EncoderMeta {
  /** What it reads. */
  reads: "features" | "texts" | "images" | "any";
  /** Built from other encoder configs. */
  composite?: boolean;
  /** Required parameters a caller that knows the input may leave out (the CLI infers them from the data). */
  inferred?: readonly string[];
  /** Its weights never train (a head must be added to train anything). */
  frozen?: boolean;
  /** Parameters its `config()` records for provenance (a package name) that a new config does not set. */
  recorded?: readonly string[];
}

/** The `meta` of a head declaration. */
export interface HeadMeta {
  /** Built from other head configs. */
  composite?: boolean;
}

/** Every encoder type by its config `type`. */
export const ENCODER_REGISTRY: ComponentRegistry<Encoder | Promise<Encoder>> = new ComponentRegistry<
  Encoder | Promise<Encoder>
>("encoder type");
/** Every head type by its config `type`. */
export const HEAD_REGISTRY: ComponentRegistry<Head> = new ComponentRegistry<Head>("head type");

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
  ENCODER_REGISTRY.register({
    name: type,
    summary: `Encoder type "${type}" (registered by a caller).`,
    params: {},
    open: true,
    meta: { reads: "any" } satisfies EncoderMeta,
    create: (p) => factory({ ...p, type }),
  });
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
  HEAD_REGISTRY.register({
    name: type,
    summary: `Head type "${type}" (registered by a caller).`,
    params: {},
    open: true,
    create: (p) => factory({ ...p, type }),
  });
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
  const { type, ...params } = checkConfig(config, "encoder");
  if (!ENCODER_REGISTRY.has(type)) throw unknownType("encoder", type, ENCODER_REGISTRY, "registerEncoder");
  return await ENCODER_REGISTRY.create(type, params);
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
  const { type, ...params } = checkConfig(config, "head");
  if (!HEAD_REGISTRY.has(type)) throw unknownType("head", type, HEAD_REGISTRY, "registerHead");
  return HEAD_REGISTRY.create(type, params);
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
  return { encoders: ENCODER_REGISTRY.names(), heads: HEAD_REGISTRY.names() };
}

function unknownType(
  kind: string,
  type: string,
  registry: ComponentRegistry<unknown>,
  register: string,
): ComponentError {
  const names = registry.names();
  return new ComponentError(
    "UNKNOWN_NAME",
    `Unknown ${kind} type "${type}": register it with ${register}("${type}", factory) before loading, or use one of ${
      names.join(", ")
    }`,
    registry.family,
    names,
  );
}

const seed = s.nonNegativeInt(0);
const dim = s.positiveInt();
const activation = s.enum("activation", ACTIVATIONS, "relu");
const dropout = s.number({ min: 0, max: 0.99, default: 0 });

ENCODER_REGISTRY.register({
  name: "mlp",
  summary: "Dense layers with an activation, then a linear output.",
  params: { inputDim: dim, hidden: s.array(s.positiveInt()), outputDim: dim, activation, seed, dropout },
  required: ["inputDim", "outputDim"],
  meta: { reads: "features" } satisfies EncoderMeta,
  example: { inputDim: 4, outputDim: 2 },
  create: (p) => new MlpEncoder(p as unknown as MlpEncoderOptions),
});
ENCODER_REGISTRY.register({
  name: "convnet",
  summary: "Convolution blocks, flatten, dense layers and a linear output over [h, w, c] images.",
  params: {
    inputShape: s.array(s.positiveInt(), { length: 3 }),
    conv: s.array(s.object({ "filters!": s.positiveInt(), kernelSize: s.positiveInt(3), pool: s.positiveInt() })),
    padding: s.enum("padding", ["valid", "same"], "valid"),
    dense: s.array(s.positiveInt()),
    outputDim: dim,
    activation,
    seed,
    dropout,
  },
  required: ["inputShape", "outputDim"],
  meta: { reads: "features", inferred: ["inputShape"] } satisfies EncoderMeta,
  example: { inputShape: [4, 4, 1], outputDim: 2, conv: [{ filters: 2 }] },
  create: (p) => new ConvNetEncoder(p as unknown as ConvNetEncoderOptions),
});
ENCODER_REGISTRY.register({
  name: "use-lite",
  summary: "Universal Sentence Encoder lite (frozen, 512 dimensions), loaded from its npm package.",
  params: { source: s.string() },
  meta: { reads: "texts", frozen: true, recorded: ["source"] } satisfies EncoderMeta,
  create: async () => {
    // Loaded on demand: the file-system edge is only imported when a USE-lite artifact is restored.
    const { loadUseLite } = await import("./use_lite_files.ts");
    return await loadUseLite();
  },
});
ENCODER_REGISTRY.register({
  name: "mobilenet-v2",
  summary: "MobileNetV2 image encoder from the nsfwjs package; the last blocks may train.",
  params: {
    inputSize: s.number({ integer: true, min: 32, max: 512, default: 224 }),
    trainableBlocks: s.oneOf(s.enum("trainable blocks", ["none", "all"], "none"), s.nonNegativeInt()),
    batchNorm: s.enum("batch norm", ["frozen", "affine"], "frozen"),
    featureBlock: s.string(),
    pooling: s.enum("pooling", ["avg", "flatten"], "avg"),
    source: s.string(),
  },
  meta: { reads: "images", recorded: ["source"] } satisfies EncoderMeta,
  create: async (p) => {
    // Loaded on demand from the installed nsfwjs package; saved weights (the trained blocks) are set afterwards.
    const { loadMobileNetV2 } = await import("./mobilenet_v2_files.ts");
    return await loadMobileNetV2(p as unknown as MobileNetV2EncoderOptions);
  },
});
ENCODER_REGISTRY.register({
  name: "switch",
  summary: "Routes each input to one of several named encoders (a config per key).",
  params: { encoders: s.any() },
  required: ["encoders"],
  meta: { reads: "any", composite: true } satisfies EncoderMeta,
  example: { encoders: { a: { type: "mlp", inputDim: 2, outputDim: 2 } } },
  create: async (p) => {
    const subs = (p.encoders ?? {}) as Record<string, ComponentConfig>;
    const built: Record<string, Encoder> = {};
    for (const [k, v] of Object.entries(subs)) built[k] = await buildEncoder(v);
    return new SwitchEncoder(built);
  },
});

const headParams = (extra: Record<string, Schema>): Record<string, Schema> => ({ inputDim: dim, ...extra });
HEAD_REGISTRY.register({
  name: "empty",
  summary: "No head: the encoder's output as it is.",
  params: headParams({}),
  required: ["inputDim"],
  example: { inputDim: 4 },
  create: (p) => new EmptyHead(p as unknown as { inputDim: number }),
});
HEAD_REGISTRY.register({
  name: "linear",
  summary: "One linear layer (with bias by default).",
  params: headParams({ outputDim: dim, bias: s.boolean(true), seed, dropout }),
  required: ["inputDim", "outputDim"],
  example: { inputDim: 4, outputDim: 2 },
  create: (p) => new LinearHead(p as unknown as LinearHeadOptions),
});
HEAD_REGISTRY.register({
  name: "gated",
  summary: "Learned per-dimension gates on the encoder output.",
  params: headParams({ dropout }),
  required: ["inputDim"],
  example: { inputDim: 4 },
  create: (p) => new GatedHead(p as unknown as { inputDim: number }),
});
HEAD_REGISTRY.register({
  name: "skip_connection",
  summary: "A gated linear layer added to the input (Quaterion's SkipConnectionHead).",
  params: headParams({ seed, dropout }),
  required: ["inputDim"],
  example: { inputDim: 4 },
  create: (p) => new SkipConnectionHead(p as unknown as { inputDim: number; seed?: number }),
});
HEAD_REGISTRY.register({
  name: "widening",
  summary: "A wider hidden layer with an activation (Quaterion's WideningHead).",
  params: headParams({ expansionFactor: s.positive(4), activation, seed, dropout }),
  required: ["inputDim"],
  example: { inputDim: 4 },
  create: (p) => new WideningHead(p as unknown as WideningHeadOptions),
});
HEAD_REGISTRY.register({
  name: "stacked_projection",
  summary: "Linear layers of the given sizes with activations between them.",
  params: headParams({ outputSizes: s.array(s.positiveInt(), { minItems: 1 }), activation, seed, dropout }),
  required: ["inputDim", "outputSizes"],
  example: { inputDim: 4, outputSizes: [3, 2] },
  create: (p) => new StackedProjectionHead(p as unknown as StackedProjectionHeadOptions),
});
HEAD_REGISTRY.register({
  name: "softmax_embeddings",
  summary: "Groups of softmax-normalised outputs (Quaterion's SoftmaxEmbeddingsHead).",
  params: headParams({ outputGroups: s.positiveInt(), outputSizePerGroup: s.positiveInt(), seed, dropout }),
  required: ["inputDim", "outputGroups", "outputSizePerGroup"],
  example: { inputDim: 4, outputGroups: 2, outputSizePerGroup: 2 },
  create: (p) => new SoftmaxEmbeddingsHead(p as unknown as SoftmaxEmbeddingsHeadOptions),
});
HEAD_REGISTRY.register({
  name: "sequential",
  summary: "Several heads applied in order (a list of head configs).",
  params: { heads: s.array(s.any()) },
  required: ["heads"],
  meta: { composite: true } satisfies HeadMeta,
  example: { heads: [{ type: "linear", inputDim: 4, outputDim: 2 }] },
  create: (p) => {
    const list = p.heads;
    if (!Array.isArray(list)) {
      throw new ValueError(
        "INVALID_ARGUMENT",
        'Invalid sequential head config: "heads" must be a list of head configs',
      );
    }
    return new SequentialHead(list.map((h) => buildHead(h as ComponentConfig)));
  },
});
