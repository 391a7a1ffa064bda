/**
 * Golden adapters for pytorch-metric-learning's losses (`lib: "pml"`): each case's `params`
 * (snake_case) become the likeness `Pml*Loss` options (camelCase); `distance: "cosine_similarity"`
 * maps to `distance("cosine", { kind: "similarity" })`, `"lp_normalized"` to the default; learned
 * weights (`W`, `proxies`) initialise the loss's variables.
 *
 * Cases with a `miner` param are mined here by a float64 brute-force loop that follows pml's
 * miner definitions (BatchHardMiner, TripletMarginMiner, MultiSimilarityMiner), so the loss is
 * evaluated on exactly the peer's tuples; the miners themselves are checked by the miner cases.
 *
 * @module
 */
import * as pml from "@likeness/losses";
import { distance, type Loss, type LossTarget } from "@likeness/losses";
import { type GoldenAdapter, type GoldenCase, inputMatrix, inputVector, lossValueAndGrad } from "../types.ts";

type Triplet = [number, number, number];
type Pair = [number, number];

function unit(x: readonly number[]): number[] {
  const n = Math.max(Math.hypot(...x), 1e-12);
  return x.map((v) => v / n);
}

function lpMatrix(e: number[][]): number[][] {
  const u = e.map(unit);
  return u.map((a) => u.map((b) => Math.hypot(...a.map((v, k) => v - b[k]))));
}

function cosMatrix(e: number[][]): number[][] {
  const u = e.map(unit);
  return u.map((a) => u.map((b) => a.reduce((s, v, k) => s + v * b[k], 0)));
}

/** pml's miners in float64 (only those the golden loss cases use). */
function mine(c: GoldenCase): LossTarget["indices"] | undefined {
  const miner = c.params.miner as Record<string, unknown> | undefined;
  if (!miner) return undefined;
  const e = inputMatrix(c, "embeddings");
  const y = inputVector(c, "groups");
  const b = y.length;
  if (miner.name === "BatchHardMiner") {
    const d = lpMatrix(e);
    const t: Triplet[] = [];
    for (let a = 0; a < b; a++) {
      let p = -1;
      let n = -1;
      for (let j = 0; j < b; j++) {
        if (j === a) continue;
        if (y[j] === y[a]) {
          if (p < 0 || d[a][j] > d[a][p]) p = j;
        } else if (n < 0 || d[a][j] < d[a][n]) n = j;
      }
      if (p >= 0 && n >= 0) t.push([a, p, n]);
    }
    return { triplets: t };
  }
  if (miner.name === "TripletMarginMiner") {
    const d = lpMatrix(e);
    const margin = (miner.margin as number) ?? 0.2;
    const type = (miner.type_of_triplets as string) ?? "all";
    const t: Triplet[] = [];
    for (let a = 0; a < b; a++) {
      for (let p = 0; p < b; p++) {
        if (p === a || y[p] !== y[a]) continue;
        for (let n = 0; n < b; n++) {
          if (y[n] === y[a]) continue;
          const m = d[a][n] - d[a][p];
          let ok = type === "easy" ? m > margin : m <= margin;
          if (type === "hard") ok = ok && m <= 0;
          if (type === "semihard") ok = ok && m > 0;
          if (ok) t.push([a, p, n]);
        }
      }
    }
    return { triplets: t };
  }
  if (miner.name === "MultiSimilarityMiner") {
    const s = cosMatrix(e);
    const eps = (miner.epsilon as number) ?? 0.1;
    const positivePairs: Pair[] = [];
    const negativePairs: Pair[] = [];
    for (let a = 0; a < b; a++) {
      let minPos = Infinity;
      let maxNeg = -Infinity;
      for (let j = 0; j < b; j++) {
        if (j === a) continue;
        if (y[j] === y[a]) minPos = Math.min(minPos, s[a][j]);
        else maxNeg = Math.max(maxNeg, s[a][j]);
      }
      for (let j = 0; j < b; j++) {
        if (j === a) continue;
        if (y[j] === y[a]) {
          if (s[a][j] - eps < maxNeg) positivePairs.push([a, j]);
        } else if (s[a][j] + eps > minPos) negativePairs.push([a, j]);
      }
    }
    return { positivePairs, negativePairs };
  }
  throw new Error(`case ${c.id}: miner ${String(miner.name)} is not supported by the pml loss adapter`);
}

const camel = (s: string): string => s.replace(/_([a-z])/g, (_m, ch: string) => ch.toUpperCase());

function options(c: GoldenCase): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(c.params)) {
    if (k === "miner") continue;
    if (k === "distance") {
      if (v === "cosine_similarity") o.distance = distance("cosine", { kind: "similarity" });
      else if (v !== "lp_normalized") throw new Error(`case ${c.id}: unsupported distance ${String(v)}`);
      continue;
    }
    o[camel(k)] = v;
  }
  if (c.inputs.W) o.W = inputMatrix(c, "W");
  if (c.inputs.proxies) o.proxies = inputMatrix(c, "proxies");
  return o;
}

// deno-lint-ignore no-explicit-any
type LossCtor = new (options: any) => Loss;

/** pml class name → likeness constructor. */
const LOSSES: Record<string, LossCtor> = {
  TripletMarginLoss: pml.PmlTripletMarginLoss,
  ContrastiveLoss: pml.PmlContrastiveLoss,
  MultiSimilarityLoss: pml.PmlMultiSimilarityLoss,
  NTXentLoss: pml.PmlNTXentLoss,
  SupConLoss: pml.PmlSupConLoss,
  CircleLoss: pml.PmlCircleLoss,
  LiftedStructureLoss: pml.PmlLiftedStructureLoss,
  GeneralizedLiftedStructureLoss: pml.PmlGeneralizedLiftedStructureLoss,
  MarginLoss: pml.PmlMarginLoss,
  NPairsLoss: pml.PmlNPairsLoss,
  NCALoss: pml.PmlNCALoss,
  FastAPLoss: pml.PmlFastAPLoss,
  SignalToNoiseRatioContrastiveLoss: pml.PmlSignalToNoiseRatioContrastiveLoss,
  TupletMarginLoss: pml.PmlTupletMarginLoss,
  ArcFaceLoss: pml.PmlArcFaceLoss,
  CosFaceLoss: pml.PmlCosFaceLoss,
  NormalizedSoftmaxLoss: pml.PmlNormalizedSoftmaxLoss,
  ProxyAnchorLoss: pml.PmlProxyAnchorLoss,
  ProxyNCALoss: pml.PmlProxyNCALoss,
};

/** Adapters of this group. */
export const adapters: GoldenAdapter[] = [
  {
    name: "pml_losses",
    matches: (c) => c.lib === "pml" && c.name in LOSSES,
    async run(c) {
      const loss = new LOSSES[c.name](options(c));
      const target: LossTarget = { labels: inputVector(c, "groups"), indices: mine(c) };
      try {
        return await lossValueAndGrad((e) => loss.compute(e, target), inputMatrix(c, "embeddings"));
      } finally {
        for (const v of loss.trainableVariables()) v.dispose();
      }
    },
  },
];
