/**
 * The training config: its schema, its validation (every problem with its JSON path, the bad
 * value and the fix) and the checks across sections (a pair loss needs pair data, a text data set
 * needs the text encoder, ...).
 *
 * @module
 */
import { ACCURACY_METRICS } from "@likeness/eval";
import { METRICS } from "@likeness/backend";
import { ENCODER_REGISTRY, type EncoderMeta } from "@likeness/models";
import { SAMPLER_REGISTRY, type SamplerMeta } from "@likeness/samplers";
import { DATASETS, ENCODERS, HEADS, LOSSES, MINERS, OPTIMIZERS, SAMPLERS, SCHEDULES } from "./components.ts";
import { type Issue, type ObjectSchema, s, type Schema, type TaggedSchema, validate } from "./schema.ts";

/** Metric names of `computeAccuracy` in `@likeness/eval`, read from it. */
export const EVAL_METRICS: readonly string[] = ACCURACY_METRICS;

/** Neighbour-search metrics of `@likeness/backend`, read from it. */
export const SEARCH_METRICS: readonly string[] = METRICS;

/** A `{ name, params }` component (loss, miner). */
export interface NamedParams {
  /** Registered name. */
  name: string;
  /** Constructor options. */
  params?: Record<string, unknown>;
}

/** A validated training config (see `examples/configs/*.json`). */
export interface TrainConfig {
  /** Run name (default: the config file's name); the default output is `runs/<name>`. */
  name?: string;
  /** Free text. */
  description?: string;
  /** Seed used where a section gives none (default 1). */
  seed?: number;
  /** Data set: `{ name, ...options }`. */
  data: { name: string; [key: string]: unknown };
  /** Encoder: `{ type, ...options }` (input width from the data). */
  encoder: { type: string; [key: string]: unknown };
  /** Head: `{ type, ...options }` or a type name (default none). */
  head?: { type: string; [key: string]: unknown };
  /** L2-normalise embeddings (default true). */
  normalize?: boolean;
  /** Loss: `{ name, params }`. */
  loss: NamedParams;
  /** Miner: `{ name, params }` (optional). */
  miner?: NamedParams;
  /** Batch sampler: `{ name, ...options }`. */
  sampler?: { name: string; [key: string]: unknown };
  /** Trainer options. */
  trainer?: {
    epochs?: number;
    batchSize?: number;
    optimizer?: { name: string; [key: string]: unknown };
    lr?: number;
    schedule?: { name: string; [key: string]: unknown };
    clip?: number;
    seed?: number;
  };
  /** Evaluation options. */
  eval?: {
    metrics?: string[];
    k?: number | "max_bin_count" | "all";
    metric?: string;
    baseline?: boolean;
    calibrate?: boolean;
    targetPrecision?: number;
  };
}

function tagged(tag: string, what: string, variants: Record<string, ObjectSchema>, shorthand = false): TaggedSchema {
  return { kind: "tagged", tag, what, variants, shorthand };
}

function withParams(names: Record<string, { params: Record<string, Schema> }>): Record<string, ObjectSchema> {
  const out: Record<string, ObjectSchema> = {};
  for (const [name, spec] of Object.entries(names)) out[name] = s.object({ params: s.object(spec.params) });
  return out;
}

function dataVariants(): Record<string, ObjectSchema> {
  const out: Record<string, ObjectSchema> = {};
  for (const [k, v] of Object.entries(DATASETS)) out[k] = v.schema;
  return out;
}

/** The schema of a whole training config. */
export const CONFIG_SCHEMA: ObjectSchema = s.object({
  name: s.string(),
  description: s.string(),
  seed: s.nonNegativeInt(),
  "data!": tagged("name", "data set", dataVariants(), true),
  "encoder!": tagged("type", "encoder", ENCODERS, true),
  head: tagged("type", "head", HEADS, true),
  normalize: s.boolean(),
  "loss!": tagged("name", "loss", withParams(LOSSES), true),
  miner: tagged("name", "miner", withParams(MINERS), true),
  sampler: tagged("name", "sampler", SAMPLERS, true),
  trainer: s.object({
    epochs: s.positiveInt(),
    batchSize: s.number({ integer: true, min: 2 }),
    optimizer: tagged("name", "optimizer", OPTIMIZERS, true),
    lr: s.positive(),
    schedule: tagged("name", "schedule", SCHEDULES, true),
    clip: s.positive(),
    seed: s.nonNegativeInt(),
  }),
  eval: s.object({
    metrics: s.array(s.enum("metric", EVAL_METRICS), { minItems: 1 }),
    k: s.oneOf(s.positiveInt(), s.enum("k", ["max_bin_count", "all"])),
    metric: s.enum("search metric", SEARCH_METRICS),
    baseline: s.boolean(),
    calibrate: s.boolean(),
    targetPrecision: s.number({ exclusiveMin: 0, max: 1 }),
  }),
});

/** Result of {@link validateConfig}. */
export interface ConfigResult {
  /** The config with shorthand names expanded (only meaningful when `issues` is empty). */
  config: TrainConfig;
  /** Every problem found; empty when the config is valid. */
  issues: Issue[];
}

function expand(v: unknown, tag: string): unknown {
  return typeof v === "string" ? { [tag]: v } : v;
}

/** What a data set config yields, when known before loading. */
export function dataKind(data: TrainConfig["data"]): "features" | "texts" | "pairs" | undefined {
  const spec = DATASETS[data.name];
  if (!spec) return undefined;
  if (spec.kind === "any") return data.format === "pairs" ? "pairs" : undefined;
  if (spec.kind === "features-or-texts") return undefined;
  return spec.kind;
}

/**
 * Validate a parsed JSON training config: the schema first (unknown keys and names with
 * suggestions, types and ranges), then the checks across sections.
 *
 * @param json the parsed config
 * @param path the root of the reported paths (default `config`)
 * @returns the expanded config and every issue found
 * @example
 * ```ts
 * import { validateConfig } from "@likeness/cli";
 * const { issues } = validateConfig({ data: "digits", encoder: { type: "mlp", outputDim: 16 }, loss: "TriplteMarginLoss" });
 * console.log(issues[0].message); // unknown loss "TriplteMarginLoss"; did you mean "TripletMarginLoss"?
 * ```
 */
export function validateConfig(json: unknown, path = "config"): ConfigResult {
  const issues = validate(json, CONFIG_SCHEMA, path);
  const raw = (json ?? {}) as Record<string, unknown>;
  const config = {
    ...raw,
    data: expand(raw.data, "name"),
    encoder: expand(raw.encoder, "type"),
    head: expand(raw.head, "type"),
    loss: expand(raw.loss, "name"),
    miner: expand(raw.miner, "name"),
    sampler: expand(raw.sampler, "name"),
  } as TrainConfig;
  if (raw.trainer && typeof raw.trainer === "object") {
    const t = raw.trainer as Record<string, unknown>;
    config.trainer = {
      ...t,
      optimizer: expand(t.optimizer, "name"),
      schedule: expand(t.schedule, "name"),
    } as TrainConfig["trainer"];
  }
  if (issues.length === 0) crossCheck(config, path, issues);
  return { config, issues };
}

function crossCheck(c: TrainConfig, root: string, issues: Issue[]): void {
  const add = (p: string, message: string) => issues.push({ path: `${root}.${p}`, message });
  const kind = dataKind(c.data);
  const loss = LOSSES[c.loss.name];
  const pairLosses = Object.keys(LOSSES).filter((n) => LOSSES[n].target === "pairs" && !n.startsWith("Pml"));
  const text = kind === "texts" || kind === "pairs";
  // What each encoder reads comes from its declaration (ENCODER_REGISTRY's meta.reads).
  const reads = (type: string) => (ENCODER_REGISTRY.get(type).meta as EncoderMeta).reads;
  const readers = (what: string) => Object.keys(ENCODERS).filter((n) => reads(n) === what);
  const quoted = (names: string[]) => names.map((n) => `"${n}"`).join(" or ");
  const encoderReads = reads(c.encoder.type);
  if (text && encoderReads !== "texts") {
    add(
      "encoder.type",
      `data set "${c.data.name}" holds texts, which the ${c.encoder.type} encoder cannot read; use ${
        quoted(readers("texts"))
      } (with a head to train)`,
    );
  }
  if (kind === "features" && encoderReads === "texts") {
    add(
      "encoder.type",
      `data set "${c.data.name}" holds numeric features; use ${
        quoted(readers("features"))
      } (${c.encoder.type} reads texts)`,
    );
  }
  if ((ENCODER_REGISTRY.get(c.encoder.type).meta as EncoderMeta).frozen && (!c.head || c.head.type === "empty")) {
    add(
      "head",
      `is required with the frozen ${c.encoder.type} encoder (there is nothing else to train); e.g. "skip_connection"`,
    );
  }
  if (kind === "pairs" && loss.target !== "pairs") {
    add(
      "loss.name",
      `"${c.loss.name}" trains on labelled groups but data set "${c.data.name}" gives pairs; use one of ${
        pairLosses.join(", ")
      }`,
    );
  }
  if (kind !== undefined && kind !== "pairs" && loss.target === "pairs") {
    add(
      "loss.name",
      `"${c.loss.name}" trains on pairs but data set "${c.data.name}" gives labelled groups; use a group loss such as TripletMarginLoss`,
    );
  }
  if (c.miner && loss.target === "pairs") {
    add("miner", `miners need labelled groups; remove the miner for the pair loss "${c.loss.name}"`);
  }
  const batchSize = c.trainer?.batchSize ?? 64;
  if (c.sampler) {
    // What each sampler is built over comes from its declaration (SAMPLER_REGISTRY's meta.data).
    const data = (name: string) => (SAMPLER_REGISTRY.get(name).meta as SamplerMeta).data;
    const samplers = (pred: (d: readonly string[]) => boolean) => Object.keys(SAMPLERS).filter((n) => pred(data(n)));
    const listed = (names: string[]) =>
      names.length < 2 ? quoted(names) : `${names.slice(0, -1).map((n) => `"${n}"`).join(", ")} or "${names.at(-1)}"`;
    if (data(c.sampler.name).includes("count") && loss.target !== "pairs") {
      add(
        "sampler.name",
        `the "${c.sampler.name}" sampler is for pair losses; use ${listed(samplers((d) => !d.includes("count")))}`,
      );
    }
    if (data(c.sampler.name).includes("labels") && loss.target === "pairs") {
      add(
        "sampler.name",
        `"${c.sampler.name}" samples labelled groups; use ${
          listed(samplers((d) => d.includes("count")))
        } for the pair loss "${c.loss.name}"`,
      );
    }
    if (c.sampler.name === "m-per-class") {
      const m = c.sampler.m as number;
      if (batchSize % m !== 0) {
        add("sampler.m", `must divide trainer.batchSize (${batchSize}); e.g. m = ${largestDivisor(batchSize, m)}`);
      }
    }
  }
  if (c.encoder.type === "convnet" && kind === "features" && !c.encoder.inputShape && c.data.name === "csv") {
    add("encoder.inputShape", "is required for the convnet on CSV features: [height, width, channels]");
  }
  if (c.trainer?.schedule && c.trainer.schedule.name === "cosine" && c.trainer.schedule.minLr !== undefined) {
    const lr = c.trainer.lr ?? 1e-3;
    if ((c.trainer.schedule.minLr as number) > lr) {
      add("trainer.schedule.minLr", `must not exceed trainer.lr (${lr}), got ${c.trainer.schedule.minLr}`);
    }
  }
}

function largestDivisor(n: number, atMost: number): number {
  for (let d = Math.min(n, atMost); d >= 1; d--) if (n % d === 0) return d;
  return 1;
}

/**
 * Parse and validate config text.
 *
 * @param text JSON text
 * @param path root of reported paths (default `config`)
 * @returns the config and its issues (a JSON syntax error is one issue at the root)
 * @example
 * ```ts
 * import { parseConfig } from "@likeness/cli";
 * console.log(parseConfig("{ nope").issues[0].message.startsWith("is not valid JSON")); // true
 * ```
 */
export function parseConfig(text: string, path = "config"): ConfigResult {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    return {
      config: {} as TrainConfig,
      issues: [{ path, message: `is not valid JSON: ${(e as Error).message}` }],
    };
  }
  return validateConfig(json, path);
}
