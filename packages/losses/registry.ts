/**
 * The declarations of every loss, distance and reducer of this package ({@link LOSS_REGISTRY},
 * {@link DISTANCE_REGISTRY}, {@link REDUCER_REGISTRY}): name, summary, parameters with their
 * types, defaults and ranges, and the constructor, stated once. The CLI config, the docs and
 * artifact metadata read them. A new loss adds its class file and one `declareLoss` entry here.
 *
 * Each loss's `meta` says what it trains on (`target`: `labels` or `pairs`), the exported class
 * (`className`) and, for losses with learned class weights, which parameters a trainer fills from
 * the data (`auto`: `{ classes: "numClasses", embeddingSize: "embeddingSize" }`).
 *
 * @example
 * ```ts
 * import { tf, useTfBackend } from "@likeness/tf";
 * import { LOSS_REGISTRY } from "@likeness/losses";
 * import assert from "node:assert/strict";
 * await useTfBackend("wasm");
 * const loss = LOSS_REGISTRY.create("TripletMarginLoss", { margin: 0.1, distance: "cosine" });
 * const v = loss.compute(tf.tensor2d([[1, 0], [0.9, 0.1], [0, 1], [0.1, 0.9]]), { labels: [0, 0, 1, 1] });
 * assert.ok(v.dataSync()[0] >= 0);
 * assert.throws(() => LOSS_REGISTRY.create("TriplteMarginLoss"), { code: "UNKNOWN_NAME" });
 * ```
 *
 * @module
 */
import {
  type ComponentDeclaration,
  type ComponentParams,
  ComponentRegistry,
  DISTANCE_ALIASES,
  s,
  type Schema,
} from "@likeness/core";
import { type Distance, distance, DISTANCE_NAMES, type DistanceName, type DistanceOptions } from "./distances.ts";
import { type Reducer, reducer, REDUCER_NAMES, type ReducerName } from "./reducers.ts";
import type { Loss } from "./types.ts";
import { XBM_LOSS_KINDS } from "./xbm.ts";
import * as pml from "./pml/mod.ts";
import * as st from "./st/mod.ts";
import { TripletLoss } from "./quaterion/triplet_loss.ts";
import { OnlineContrastiveLoss } from "./quaterion/online_contrastive_loss.ts";
import { ContrastiveLoss } from "./quaterion/contrastive_loss.ts";
import { MultipleNegativesRankingLoss } from "./quaterion/multiple_negatives_ranking_loss.ts";
import { SoftmaxLoss } from "./quaterion/softmax_loss.ts";
import { ArcFaceLoss } from "./quaterion/arc_face_loss.ts";
import { CosFaceLoss } from "./quaterion/cos_face_loss.ts";
import { CircleLoss } from "./quaterion/circle_loss.ts";
import { FastAPLoss } from "./quaterion/fast_ap_loss.ts";
import { CenterLoss } from "./quaterion/center_loss.ts";
import { CrossBatchMemory } from "./xbm.ts";

/** What a loss is trained on: labelled groups or scored pairs. */
export type LossTargetKind = "labels" | "pairs";

/** The `meta` of a loss declaration. */
export interface LossMeta {
  /** Labelled groups or scored pairs. */
  target: LossTargetKind;
  /** The exported class of `@likeness/losses`. */
  className: string;
  /** Parameters a trainer fills from the data and model when not given. */
  auto?: { classes?: string; embeddingSize?: string };
}

/** The options every distance takes (see {@link DistanceOptions}). */
const DISTANCE_PARAMS: Record<string, Schema> = {
  normalize: s.boolean(false),
  power: s.positive(1),
  scale: s.enum("cosine scale", ["full", "half"], "full"),
  kind: s.enum("distance kind", ["distance", "similarity"], "distance"),
  eps: s.positive(1e-12),
};

/** Every distance of {@link distance}, with core's documented aliases (`l2`, `cityblock`, …). */
export const DISTANCE_REGISTRY: ComponentRegistry<Distance> = new ComponentRegistry<Distance>("distance");
const DISTANCE_SUMMARIES: Record<DistanceName, string> = {
  cosine: "1 − cos (similarity cos); `scale: half` gives Quaterion's (1 − cos) / 2.",
  dot: "Dot product (a similarity).",
  euclidean: "L2 distance (with `normalize`, pml's default LpDistance).",
  squared_euclidean: "Squared L2 distance.",
  manhattan: "L1 distance.",
};
for (const name of DISTANCE_NAMES) {
  DISTANCE_REGISTRY.register({
    name,
    aliases: Object.keys(DISTANCE_ALIASES).filter((a) => DISTANCE_ALIASES[a] === name),
    summary: DISTANCE_SUMMARIES[name],
    params: DISTANCE_PARAMS,
    create: (p) => distance(name, p as DistanceOptions),
  });
}

/** Every reducer of {@link reducer}. */
export const REDUCER_REGISTRY: ComponentRegistry<Reducer> = new ComponentRegistry<Reducer>("reducer");
const REDUCER_SUMMARIES: Record<ReducerName, string> = {
  mean: "Mean of the per-element losses.",
  sum: "Sum of the per-element losses.",
  avg_non_zero: "Mean of the losses above zero.",
  threshold: "Mean of the losses strictly between `low` and `high`.",
};
for (const name of REDUCER_NAMES) {
  REDUCER_REGISTRY.register({
    name,
    summary: REDUCER_SUMMARIES[name],
    params: name === "threshold" ? { low: s.number(), high: s.number() } : {},
    example: name === "threshold" ? { low: 0 } : undefined,
    create: (p) => reducer(name, p),
  });
}

/** A distance parameter: a name, or `{ name, ...options }` (read from {@link DISTANCE_REGISTRY}). */
export const DISTANCE_SCHEMA: Schema = s.oneOf(
  s.enum("distance", DISTANCE_REGISTRY.allNames()),
  s.object({ "name!": s.enum("distance", DISTANCE_REGISTRY.allNames()), ...DISTANCE_PARAMS }),
);
/** A reducer parameter: a name, or `{ name, low?, high? }` (read from {@link REDUCER_REGISTRY}). */
export const REDUCER_SCHEMA: Schema = s.oneOf(
  s.enum("reducer", REDUCER_REGISTRY.names()),
  s.object({ "name!": s.enum("reducer", REDUCER_REGISTRY.names()), low: s.number(), high: s.number() }),
);

function isPlain(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && Object.getPrototypeOf(v) === Object.prototype;
}

/** A distance from its JSON form (a name or `{ name, ...options }`); a live `Distance` passes through. */
function toDistance(v: unknown): unknown {
  if (typeof v === "string") return DISTANCE_REGISTRY.create(v);
  if (isPlain(v) && typeof v.name === "string") {
    const { name, ...rest } = v;
    return DISTANCE_REGISTRY.create(name as string, rest);
  }
  return v;
}

/** A reducer from its JSON form; a live `Reducer` passes through. */
function toReducer(v: unknown): unknown {
  if (typeof v === "string") return REDUCER_REGISTRY.create(v);
  if (isPlain(v) && typeof v.name === "string") {
    const { name, ...rest } = v;
    return REDUCER_REGISTRY.create(name as string, rest);
  }
  return v;
}

/** Parameters with their distance and reducer JSON forms turned into live objects. */
function live(params: ComponentParams): ComponentParams {
  const out = { ...params };
  for (const k of ["distance", "subgroupDistance"]) if (out[k] !== undefined) out[k] = toDistance(out[k]);
  if (out.reducer !== undefined) out.reducer = toReducer(out.reducer);
  return out;
}

/** Every loss by name (pml's losses also answer to their exported `Pml…` class name). */
export const LOSS_REGISTRY: ComponentRegistry<Loss> = new ComponentRegistry<Loss>("loss");

type LossClass = new (options: never) => Loss;

interface LossEntry {
  summary: string;
  params: Record<string, Schema>;
  required?: string[];
  auto?: LossMeta["auto"];
  example?: ComponentParams;
}

function declareLoss(
  name: string,
  target: LossTargetKind,
  Ctor: LossClass,
  entry: LossEntry,
): ComponentDeclaration<Loss> {
  const className = Ctor.name;
  const meta: LossMeta = entry.auto ? { target, className, auto: entry.auto } : { target, className };
  return LOSS_REGISTRY.register({
    name,
    aliases: className !== name ? [className] : [],
    summary: entry.summary,
    params: entry.params,
    required: entry.required,
    meta,
    example: entry.example,
    create: (p) => new Ctor(live(p) as never),
  });
}

const num = (d?: number) => s.number(d === undefined ? {} : { default: d });
const pos = s.positive;
const posInt = s.positiveInt;
const bool = s.boolean;
const seed = s.nonNegativeInt(0);
const distanceReducer = { distance: DISTANCE_SCHEMA, reducer: REDUCER_SCHEMA };
const classes = { numClasses: posInt(), embeddingSize: posInt() };
const classesRequired = ["numClasses", "embeddingSize"];
const classesExample = { numClasses: 3, embeddingSize: 4 };
const autoPml = { classes: "numClasses", embeddingSize: "embeddingSize" };
const groups = { embeddingSize: posInt(), numGroups: posInt(), seed };
const groupsRequired = ["embeddingSize", "numGroups"];
const groupsExample = { embeddingSize: 4, numGroups: 3 };
const autoQuaterion = { classes: "numGroups", embeddingSize: "embeddingSize" };

// pytorch-metric-learning
declareLoss("TripletMarginLoss", "labels", pml.PmlTripletMarginLoss, {
  summary: "pml triplet margin loss over all valid triplets of the batch.",
  params: { margin: num(0.05), swap: bool(false), smoothLoss: bool(false), ...distanceReducer },
});
declareLoss("PmlContrastiveLoss", "labels", pml.PmlContrastiveLoss, {
  summary: "pml contrastive loss: positive pairs pulled within posMargin, negatives pushed past negMargin.",
  params: { posMargin: num(0), negMargin: num(1), ...distanceReducer },
});
declareLoss("SignalToNoiseRatioContrastiveLoss", "labels", pml.PmlSignalToNoiseRatioContrastiveLoss, {
  summary: "pml contrastive loss on the signal-to-noise-ratio distance.",
  params: { posMargin: num(0), negMargin: num(1), reducer: REDUCER_SCHEMA },
});
declareLoss("MultiSimilarityLoss", "labels", pml.PmlMultiSimilarityLoss, {
  summary: "pml multi-similarity loss (Wang et al. 2019).",
  params: { alpha: num(2), beta: num(50), base: num(0.5), ...distanceReducer },
});
declareLoss("NTXentLoss", "labels", pml.PmlNTXentLoss, {
  summary: "pml NT-Xent (InfoNCE) loss over positive pairs.",
  params: { temperature: pos(0.07), ...distanceReducer },
});
declareLoss("SupConLoss", "labels", pml.PmlSupConLoss, {
  summary: "pml supervised contrastive loss (Khosla et al. 2020).",
  params: { temperature: pos(0.1), ...distanceReducer },
});
declareLoss("PmlCircleLoss", "labels", pml.PmlCircleLoss, {
  summary: "pml circle loss (Sun et al. 2020).",
  params: { m: num(0.4), gamma: pos(80), ...distanceReducer },
});
declareLoss("LiftedStructureLoss", "labels", pml.PmlLiftedStructureLoss, {
  summary: "pml lifted structure loss (Oh Song et al. 2016).",
  params: { negMargin: num(1), posMargin: num(0), ...distanceReducer },
});
declareLoss("GeneralizedLiftedStructureLoss", "labels", pml.PmlGeneralizedLiftedStructureLoss, {
  summary: "pml generalized lifted structure loss.",
  params: { negMargin: num(1), posMargin: num(0), ...distanceReducer },
});
declareLoss("MarginLoss", "labels", pml.PmlMarginLoss, {
  summary: "pml margin loss with a (learnable) boundary beta (Wu et al. 2017).",
  params: {
    margin: num(0.2),
    nu: num(0),
    beta: num(1.2),
    learnBeta: bool(false),
    numClasses: posInt(),
    distance: DISTANCE_SCHEMA,
  },
});
declareLoss("NPairsLoss", "labels", pml.PmlNPairsLoss, {
  summary: "pml N-pairs loss (Sohn 2016).",
  params: { ...distanceReducer },
});
declareLoss("NCALoss", "labels", pml.PmlNCALoss, {
  summary: "pml neighbourhood components analysis loss.",
  params: { softmaxScale: pos(1), distance: DISTANCE_SCHEMA },
});
declareLoss("PmlFastAPLoss", "labels", pml.PmlFastAPLoss, {
  summary: "pml FastAP loss (Cakir et al. 2019).",
  params: { numBins: posInt(10), histogramMax: pos(4), ...distanceReducer },
});
declareLoss("TupletMarginLoss", "labels", pml.PmlTupletMarginLoss, {
  summary: "pml tuplet margin loss (Yu & Tao 2019).",
  params: { margin: num(5.73), scale: pos(64), ...distanceReducer },
});
declareLoss("PmlArcFaceLoss", "labels", pml.PmlArcFaceLoss, {
  summary: "pml ArcFace: additive angular margin softmax over learned class weights (margin in degrees).",
  params: { ...classes, seed, reducer: REDUCER_SCHEMA, margin: num(28.6), scale: pos(64) },
  required: classesRequired,
  auto: autoPml,
  example: classesExample,
});
declareLoss("PmlCosFaceLoss", "labels", pml.PmlCosFaceLoss, {
  summary: "pml CosFace: additive cosine margin softmax over learned class weights.",
  params: { ...classes, seed, reducer: REDUCER_SCHEMA, margin: num(0.35), scale: pos(64) },
  required: classesRequired,
  auto: autoPml,
  example: classesExample,
});
declareLoss("NormalizedSoftmaxLoss", "labels", pml.PmlNormalizedSoftmaxLoss, {
  summary: "pml normalized softmax over learned class weights.",
  params: { ...classes, seed, reducer: REDUCER_SCHEMA, temperature: pos(0.05), distance: DISTANCE_SCHEMA },
  required: classesRequired,
  auto: autoPml,
  example: classesExample,
});
declareLoss("SubCenterArcFaceLoss", "labels", pml.PmlSubCenterArcFaceLoss, {
  summary: "pml sub-center ArcFace: several learned centres per class.",
  params: { ...classes, seed, reducer: REDUCER_SCHEMA, margin: num(28.6), scale: pos(64), subCenters: posInt(3) },
  required: classesRequired,
  auto: autoPml,
  example: classesExample,
});
declareLoss("ProxyAnchorLoss", "labels", pml.PmlProxyAnchorLoss, {
  summary: "pml proxy anchor loss (Kim et al. 2020).",
  params: { ...classes, margin: num(0.1), alpha: pos(32), seed, distance: DISTANCE_SCHEMA },
  required: classesRequired,
  auto: autoPml,
  example: classesExample,
});
declareLoss("ProxyNCALoss", "labels", pml.PmlProxyNCALoss, {
  summary: "pml proxy NCA loss (Movshovitz-Attias et al. 2017).",
  params: { ...classes, softmaxScale: pos(1), seed, distance: DISTANCE_SCHEMA },
  required: classesRequired,
  auto: autoPml,
  example: classesExample,
});
declareLoss("SoftTripleLoss", "labels", pml.PmlSoftTripleLoss, {
  summary: "pml SoftTriple loss (Qian et al. 2019).",
  params: {
    ...classes,
    centersPerClass: posInt(10),
    la: pos(20),
    gamma: pos(0.1),
    margin: num(0.01),
    seed,
    ...distanceReducer,
  },
  required: classesRequired,
  auto: autoPml,
  example: classesExample,
});
declareLoss("AngularLoss", "labels", pml.PmlAngularLoss, {
  summary: "pml angular loss (Wang et al. 2017); alpha in degrees.",
  params: { alpha: pos(40), reducer: REDUCER_SCHEMA },
});
declareLoss("HistogramLoss", "labels", pml.PmlHistogramLoss, {
  summary: "pml histogram loss (Ustinova & Lempitsky 2016).",
  params: { nBins: posInt(), delta: pos(), distance: DISTANCE_SCHEMA },
});
declareLoss("InstanceLoss", "labels", pml.PmlInstanceLoss, {
  summary: "pml instance loss.",
  params: { gamma: pos(64), ...distanceReducer },
});
// Quaterion
declareLoss("TripletLoss", "labels", TripletLoss, {
  summary: "Quaterion triplet loss with batch-all, batch-hard or semi-hard mining.",
  params: {
    margin: num(0.5),
    distance: DISTANCE_SCHEMA,
    mining: s.enum("triplet mining", ["all", "hard", "semi_hard", "semihard"], "hard"),
    soft: bool(false),
    chunkRows: posInt(),
  },
});
declareLoss("OnlineContrastiveLoss", "labels", OnlineContrastiveLoss, {
  summary: "Quaterion online contrastive loss on the hardest (or all) pairs of the batch.",
  params: {
    margin: num(0.5),
    distance: DISTANCE_SCHEMA,
    mining: s.enum("mining", ["all", "hard"], "hard"),
    chunkRows: posInt(),
  },
});
declareLoss("ContrastiveLoss", "pairs", ContrastiveLoss, {
  summary: "Quaterion contrastive loss on scored pairs.",
  params: { margin: num(0.5), distance: DISTANCE_SCHEMA, subgroupDistance: DISTANCE_SCHEMA, sizeAverage: bool(true) },
});
declareLoss("MultipleNegativesRankingLoss", "pairs", MultipleNegativesRankingLoss, {
  summary: "Quaterion multiple negatives ranking loss: in-batch negatives for each pair.",
  params: { scale: pos(20), distance: DISTANCE_SCHEMA, symmetric: bool(false), chunkRows: posInt() },
});
declareLoss("SoftmaxLoss", "labels", SoftmaxLoss, {
  summary: "Quaterion softmax over learned group weights.",
  params: { ...groups, temperature: pos(0.05) },
  required: groupsRequired,
  auto: autoQuaterion,
  example: groupsExample,
});
declareLoss("ArcFaceLoss", "labels", ArcFaceLoss, {
  summary: "Quaterion ArcFace: additive angular margin (radians) over learned group weights.",
  params: { ...groups, scale: pos(64), margin: num(0.5) },
  required: groupsRequired,
  auto: autoQuaterion,
  example: groupsExample,
});
declareLoss("CosFaceLoss", "labels", CosFaceLoss, {
  summary: "Quaterion CosFace: additive cosine margin over learned group weights.",
  params: { ...groups, scale: pos(64), margin: num(0.35) },
  required: groupsRequired,
  auto: autoQuaterion,
  example: groupsExample,
});
declareLoss("CircleLoss", "labels", CircleLoss, {
  summary: "Quaterion circle loss.",
  params: {
    margin: num(0.25),
    scaleFactor: pos(256),
    distance: DISTANCE_SCHEMA,
    weighting: s.enum("weighting", ["quaterion", "paper"], "quaterion"),
  },
});
declareLoss("FastAPLoss", "labels", FastAPLoss, {
  summary: "Quaterion FastAP loss.",
  params: { numBins: posInt(10), chunkRows: posInt() },
});
declareLoss("CenterLoss", "labels", CenterLoss, {
  summary: "Quaterion center loss: distance of each embedding to its group's learned centre.",
  params: { ...groups, lambdaC: pos(0.5) },
  required: groupsRequired,
  auto: autoQuaterion,
  example: groupsExample,
});
// sentence-transformers
declareLoss("CoSENTLoss", "pairs", st.CoSENTLoss, {
  summary: "sentence-transformers CoSENT loss on scored pairs.",
  params: { scale: pos(20) },
});
declareLoss("AnglELoss", "pairs", st.AnglELoss, {
  summary: "sentence-transformers AnglE loss (CoSENT on angle differences).",
  params: { scale: pos(20) },
});
declareLoss("CachedMultipleNegativesRankingLoss", "pairs", st.CachedMultipleNegativesRankingLoss, {
  summary: "sentence-transformers cached MNRL (GradCache): large batches in mini-batches.",
  params: { scale: pos(20), similarity: s.enum("similarity", ["cosine", "dot"], "cosine"), miniBatchSize: posInt(32) },
});
// Cross-batch memory
declareLoss("CrossBatchMemory", "labels", CrossBatchMemory, {
  summary: "Cross-batch memory (XBM): a wrapped loss against a FIFO memory of past batches.",
  params: {
    loss: s.enum("XBM loss", XBM_LOSS_KINDS),
    memorySize: posInt(1024),
    distance: DISTANCE_SCHEMA,
    margin: num(0.05),
    smooth: bool(false),
    posMargin: num(0),
    negMargin: num(1),
    alpha: num(2),
    beta: num(50),
    base: num(0.5),
    tripletBlockElements: posInt(1),
  },
  required: ["loss"],
  example: { loss: "triplet" },
});
