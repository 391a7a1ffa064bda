/**
 * BatchEasyHardMiner: one positive and one negative per anchor, each chosen by a strategy.
 *
 * @module
 */
import { checkFiniteNumber } from "@likeness/core";
import type { Distance } from "@likeness/losses";
import type { Label, Matrix } from "@likeness/core";
import { checkOneOf, ValueError } from "@likeness/core";
import { _checkDistance, _prepare, _SteppedMiner, type _Steps, LP_NORMALIZED } from "./_base.ts";
import type { MinedIndices, MineOptions, MinerDistance, MinerInput, MinerOptions } from "./types.ts";

/** Strategies of {@link BatchEasyHardMiner}. */
export type BatchStrategy = "hard" | "semihard" | "easy" | "all";

/** All strategies. */
export const BATCH_STRATEGIES: readonly BatchStrategy[] = ["hard", "semihard", "easy", "all"];

/** Options of {@link BatchEasyHardMiner}. */
export interface BatchEasyHardMinerOptions extends MinerOptions {
  /** How the positive is chosen (default "easy"). */
  posStrategy?: BatchStrategy;
  /** How the negative is chosen (default "semihard"). */
  negStrategy?: BatchStrategy;
  /** Only positives with a value in [lo, hi] are eligible. */
  allowedPosRange?: readonly [number, number];
  /** Only negatives with a value in [lo, hi] are eligible. */
  allowedNegRange?: readonly [number, number];
}

/** Per-row pick: index (or -1) and value. */
interface RowPick {
  index: Int32Array;
  value: Float64Array;
}

function pickPerRow(
  dist: Matrix,
  same: Uint8Array,
  positives: boolean,
  want: "min" | "max",
  range: readonly [number, number] | undefined,
  thresholds: Float64Array | undefined,
): RowPick {
  const b = dist.rows;
  const index = new Int32Array(b).fill(-1);
  const value = new Float64Array(b).fill(NaN);
  for (let i = 0; i < b; i++) {
    let best = -1;
    let bestV = 0;
    for (let j = 0; j < b; j++) {
      if (j === i || (same[i * b + j] !== 0) !== positives) continue;
      const v = dist.data[i * b + j];
      if (range && (v < range[0] || v > range[1])) continue;
      if (thresholds) {
        // semihard: strictly on the far side of the other pair's value
        const t = thresholds[i];
        if (Number.isNaN(t) || (want === "max" ? v >= t : v <= t)) continue;
      }
      if (best < 0 || (want === "max" ? v > bestV : v < bestV)) {
        best = j;
        bestV = v;
      }
    }
    index[i] = best;
    if (best >= 0) value[i] = bestV;
  }
  return { index, value };
}

/**
 * BatchEasyHardMiner (pytorch-metric-learning 2.8.1 semantics, after "Improved Embeddings with
 * Easy Positive Triplet Mining"). Per anchor, the positive is the closest (`easy`), the farthest
 * (`hard`) or the farthest that is still closer than the chosen negative (`semihard`); the
 * negative is the farthest (`easy`), the closest (`hard`) or the closest that is still farther
 * than the chosen positive (`semihard`). `all` keeps every pair of that kind. Anchors without a
 * valid positive and negative are skipped (unless a side is `all`). Optional value ranges
 * restrict eligible pairs.
 *
 * Returns pairs: `positivePairs` [a, p] and `negativePairs` [a, n] (for two non-`all`
 * strategies, entry k of each belongs to the same anchor). Unlike the peer, the per-row
 * maximum only ever considers valid pairs (the peer's `max(dist × mask)` can pick an invalid
 * index when all valid values are ≤ 0, e.g. with similarities).
 *
 * @example
 * ```ts
 * import { BatchEasyHardMiner } from "@likeness/miners";
 * const miner = new BatchEasyHardMiner({ posStrategy: "easy", negStrategy: "hard" });
 * const emb = { data: new Float32Array([1, 0, 0.9, 0.1, 0, 1, 0.1, 0.9]), rows: 4, cols: 2 };
 * const { positivePairs, negativePairs } = await miner.mine(emb, [0, 0, 1, 1]);
 * console.log(positivePairs, negativePairs);
 * ```
 */
export class BatchEasyHardMiner extends _SteppedMiner {
  /** Class name. */
  readonly name: string = "BatchEasyHardMiner";
  /** Positive strategy. */
  readonly posStrategy: BatchStrategy;
  /** Negative strategy. */
  readonly negStrategy: BatchStrategy;
  /** Eligible positive range. */
  readonly allowedPosRange?: readonly [number, number];
  /** Eligible negative range. */
  readonly allowedNegRange?: readonly [number, number];
  /** Distance. */
  readonly distance: MinerDistance | Distance;

  /**
   * @param options posStrategy ("easy"), negStrategy ("semihard"), ranges, distance, backend
   * @throws {ValueError} UNKNOWN_NAME for an unknown strategy; INVALID_ARGUMENT for two
   *   `semihard` strategies, `semihard` with `all`, or a bad range
   */
  constructor(options: BatchEasyHardMinerOptions = {}) {
    super(options.backend);
    this.posStrategy = checkOneOf(options.posStrategy ?? "easy", BATCH_STRATEGIES, "posStrategy");
    this.negStrategy = checkOneOf(options.negStrategy ?? "semihard", BATCH_STRATEGIES, "negStrategy");
    if (this.posStrategy === "semihard" && this.negStrategy === "semihard") {
      throw new ValueError(
        "INVALID_ARGUMENT",
        'posStrategy and negStrategy cannot both be "semihard": make one hard or easy',
      );
    }
    const strategies = [this.posStrategy, this.negStrategy];
    if (strategies.includes("semihard") && strategies.includes("all")) {
      throw new ValueError(
        "INVALID_ARGUMENT",
        '"semihard" cannot be combined with "all": pick hard or easy for the other side',
      );
    }
    for (
      const [name, r] of [["allowedPosRange", options.allowedPosRange], [
        "allowedNegRange",
        options.allowedNegRange,
      ]] as const
    ) {
      if (r === undefined) continue;
      if (
        !Array.isArray(r) || r.length !== 2 ||
        !(checkFiniteNumber(r[0], name, "BatchEasyHardMiner") <= checkFiniteNumber(r[1], name, "BatchEasyHardMiner"))
      ) {
        throw new ValueError("INVALID_ARGUMENT", `Invalid ${name}: expected [lo, hi] with lo <= hi`);
      }
    }
    this.allowedPosRange = options.allowedPosRange;
    this.allowedNegRange = options.allowedNegRange;
    this.distance = _checkDistance(options.distance ?? LP_NORMALIZED);
  }

  protected *_steps(embeddings: MinerInput, labels: readonly Label[], options?: MineOptions): _Steps<MinedIndices> {
    const { dist, same, smallerIsCloser } = yield* _prepare(embeddings, labels, options, this.distance);
    const b = dist.rows;
    // "far" = larger distance (or smaller similarity)
    const far: "min" | "max" = smallerIsCloser ? "max" : "min";
    const near: "min" | "max" = smallerIsCloser ? "min" : "max";
    const posWant = this.posStrategy === "easy" ? near : far;
    const negWant = this.negStrategy === "easy" ? far : near;
    let pos: RowPick | undefined;
    let neg: RowPick | undefined;
    if (this.posStrategy === "semihard") {
      neg = pickPerRow(dist, same, false, negWant, this.allowedNegRange, undefined);
      pos = pickPerRow(dist, same, true, posWant, this.allowedPosRange, neg.value);
    } else if (this.negStrategy === "semihard") {
      pos = pickPerRow(dist, same, true, posWant, this.allowedPosRange, undefined);
      neg = pickPerRow(dist, same, false, negWant, this.allowedNegRange, pos.value);
    } else {
      if (this.posStrategy !== "all") pos = pickPerRow(dist, same, true, posWant, this.allowedPosRange, undefined);
      if (this.negStrategy !== "all") neg = pickPerRow(dist, same, false, negWant, this.allowedNegRange, undefined);
    }
    const positivePairs: [number, number][] = [];
    const negativePairs: [number, number][] = [];
    const allPairs = (positives: boolean, out: [number, number][]) => {
      for (let i = 0; i < b; i++) {
        for (let j = 0; j < b; j++) if (j !== i && (same[i * b + j] !== 0) === positives) out.push([i, j]);
      }
    };
    if (pos && neg) {
      for (let a = 0; a < b; a++) {
        if (pos.index[a] >= 0 && neg.index[a] >= 0) {
          positivePairs.push([a, pos.index[a]]);
          negativePairs.push([a, neg.index[a]]);
        }
      }
    } else {
      if (pos) {
        for (let a = 0; a < b; a++) if (pos.index[a] >= 0) positivePairs.push([a, pos.index[a]]);
      } else {
        allPairs(true, positivePairs);
      }
      if (neg) {
        for (let a = 0; a < b; a++) if (neg.index[a] >= 0) negativePairs.push([a, neg.index[a]]);
      } else {
        allPairs(false, negativePairs);
      }
    }
    return { positivePairs, negativePairs };
  }
}
