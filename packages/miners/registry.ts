/**
 * The declarations of every miner ({@link MINER_REGISTRY}): name, summary, parameters with their
 * types, defaults and ranges, and the constructor, stated once; the CLI config reads them. A new
 * miner adds its class file and one `declareMiner` entry here.
 *
 * A JSON `distance` is a backend metric name (`"l2"`) or `{ metric, normalize?, power? }`; the
 * live `backend` is passed by the caller beside the JSON parameters.
 *
 * @example
 * ```ts
 * import { MINER_REGISTRY } from "@likeness/miners";
 * import assert from "node:assert/strict";
 * const miner = MINER_REGISTRY.create("TripletMarginMiner", { margin: 0.1, distance: "cosine" });
 * assert.equal(miner.name, "TripletMarginMiner");
 * assert.throws(() => MINER_REGISTRY.create("TripletMarginMiner", { margin: "big" }), { code: "INVALID_ARGUMENT" });
 * ```
 *
 * @module
 */
import { type ComponentParams, ComponentRegistry, s, type Schema } from "@likeness/core";
import { METRICS } from "@likeness/backend";
import { AngularMiner } from "./angular.ts";
import { BATCH_STRATEGIES, BatchEasyHardMiner } from "./batch_easy_hard.ts";
import { BatchHardMiner } from "./batch_hard.ts";
import { MultiSimilarityMiner } from "./multi_similarity.ts";
import { PairMarginMiner } from "./pair_margin.ts";
import { TRIPLET_TYPES, TripletMarginMiner } from "./triplet_margin.ts";
import type { Miner } from "./types.ts";

/** Every miner by its pytorch-metric-learning class name. */
export const MINER_REGISTRY: ComponentRegistry<Miner> = new ComponentRegistry<Miner>("miner");

/** A miner distance parameter: a backend metric, or `{ metric, normalize?, power? }`. */
export const MINER_DISTANCE_SCHEMA: Schema = s.oneOf(
  s.enum("metric", METRICS),
  s.object({ "metric!": s.enum("metric", METRICS), normalize: s.boolean(false), power: s.positive(1) }),
);

/** The JSON distance as the miners take it (a bare metric name becomes `{ metric }`). */
function live(params: ComponentParams): ComponentParams {
  return typeof params.distance === "string" ? { ...params, distance: { metric: params.distance } } : params;
}

function declareMiner(
  Ctor: new (options: never) => Miner,
  summary: string,
  params: Record<string, Schema>,
): void {
  MINER_REGISTRY.register({
    name: Ctor.name,
    summary,
    params,
    create: (p) => new Ctor(live(p) as never),
  });
}

const num = (d: number) => s.number({ default: d });
const distance = MINER_DISTANCE_SCHEMA;

declareMiner(TripletMarginMiner, "Triplets whose margin is violated (all, hard, semihard or easy).", {
  margin: num(0.2),
  type: s.enum("triplet type", TRIPLET_TYPES, "all"),
  distance,
});
declareMiner(BatchHardMiner, "For each anchor, its hardest positive and hardest negative.", { distance });
declareMiner(MultiSimilarityMiner, "Pairs near the other class's boundary (Wang et al. 2019).", {
  epsilon: num(0.1),
  distance,
});
declareMiner(PairMarginMiner, "Positive pairs farther than posMargin, negatives closer than negMargin.", {
  posMargin: num(0.2),
  negMargin: num(0.8),
  distance,
});
declareMiner(BatchEasyHardMiner, "Easy, semi-hard, hard or all positives and negatives per anchor.", {
  posStrategy: s.enum("positive strategy", BATCH_STRATEGIES, "easy"),
  negStrategy: s.enum("negative strategy", BATCH_STRATEGIES, "semihard"),
  allowedPosRange: s.array(s.number(), { length: 2 }),
  allowedNegRange: s.array(s.number(), { length: 2 }),
  distance,
});
declareMiner(AngularMiner, "Triplets whose angle at the negative exceeds `angle` degrees.", { angle: s.positive(20) });
