/**
 * Golden adapters for the miners (pytorch-metric-learning cases): TripletMarginMiner,
 * BatchHardMiner, MultiSimilarityMiner, PairMarginMiner, BatchEasyHardMiner, AngularMiner.
 * Outputs are index tuples, compared as sets by the runner.
 *
 * Distances: the peer's defaults (LpDistance normalised; cosine similarity for
 * MultiSimilarityMiner), which are also the likeness miners' defaults. A `distance` param of
 * `lp_normalized` maps to `{ metric: "l2", normalize: true }`, `lp` to plain L2,
 * `lp_squared_normalized` to squared L2 of normalised rows, `cosine` to cosine similarity and
 * `dot` to pml's DotProductSimilarity (normalised rows by default).
 *
 * @module
 */
import {
  AngularMiner,
  BatchEasyHardMiner,
  BatchHardMiner,
  type BatchStrategy,
  COSINE_SIMILARITY,
  LP_NORMALIZED,
  type MinedIndices,
  type Miner,
  type MinerDistance,
  MultiSimilarityMiner,
  PairMarginMiner,
  TripletMarginMiner,
  type TripletType,
} from "@likeness/miners";
import type { GoldenAdapter, GoldenCase } from "../types.ts";
import { inputMatrix, inputVector } from "../types.ts";

const MINERS = [
  "TripletMarginMiner",
  "BatchHardMiner",
  "MultiSimilarityMiner",
  "PairMarginMiner",
  "BatchEasyHardMiner",
  "AngularMiner",
];

function minerDistance(c: GoldenCase): MinerDistance | undefined {
  const d = c.params.distance;
  if (d === undefined) return undefined;
  if (d === "lp_normalized") return LP_NORMALIZED;
  if (d === "lp") return { metric: "l2" };
  if (d === "lp_squared_normalized") return { metric: "sqeuclidean", normalize: true };
  if (d === "cosine" || d === "cosine_similarity") return COSINE_SIMILARITY;
  if (d === "dot" || d === "dot_product") return { metric: "dot", normalize: true };
  throw new Error(`case ${c.id}: unsupported miner distance ${JSON.stringify(d)}`);
}

function num(c: GoldenCase, key: string): number | undefined {
  const v = c.params[key];
  return v === undefined ? undefined : Number(v);
}

function build(c: GoldenCase): Miner {
  const distance = minerDistance(c);
  switch (c.name) {
    case "TripletMarginMiner":
      return new TripletMarginMiner({
        margin: num(c, "margin"),
        type: c.params.type_of_triplets as TripletType | undefined,
        distance,
      });
    case "BatchHardMiner":
      return new BatchHardMiner({ distance });
    case "MultiSimilarityMiner":
      return new MultiSimilarityMiner({ epsilon: num(c, "epsilon"), distance });
    case "PairMarginMiner":
      return new PairMarginMiner({ posMargin: num(c, "pos_margin"), negMargin: num(c, "neg_margin"), distance });
    case "BatchEasyHardMiner":
      return new BatchEasyHardMiner({
        posStrategy: c.params.pos_strategy as BatchStrategy | undefined,
        negStrategy: c.params.neg_strategy as BatchStrategy | undefined,
        allowedPosRange: c.params.allowed_pos_range as [number, number] | undefined,
        allowedNegRange: c.params.allowed_neg_range as [number, number] | undefined,
        distance,
      });
    case "AngularMiner":
      return new AngularMiner({ angle: num(c, "angle") });
    default:
      throw new Error(`case ${c.id}: no miner ${c.name}`);
  }
}

function toExpectedShape(m: MinedIndices): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (m.triplets) out.triplets = m.triplets.map((t) => [...t]);
  if (m.positivePairs) out.positive_pairs = m.positivePairs.map((p) => [...p]);
  if (m.negativePairs) out.negative_pairs = m.negativePairs.map((p) => [...p]);
  return out;
}

/** Adapters of this group. */
export const adapters: GoldenAdapter[] = [
  {
    name: "miners",
    matches: (c) => c.lib === "pml" && MINERS.includes(c.name),
    async run(c) {
      const embeddings = inputMatrix(c, "embeddings");
      const labels = c.inputs.groups !== undefined ? inputVector(c, "groups") : inputVector(c, "labels");
      const rows = embeddings.length;
      const cols = embeddings[0].length;
      const data = new Float32Array(rows * cols);
      embeddings.forEach((r, i) => data.set(r, i * cols));
      return toExpectedShape(await build(c).mine({ data, rows, cols }, labels));
    },
    setFields: ["triplets", "positive_pairs", "negative_pairs"],
  },
];
