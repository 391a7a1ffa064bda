/**
 * TripletMarginMiner: triplets by how much they violate a margin.
 *
 * @module
 */
import type { Distance } from "@likeness/losses";
import { checkFiniteNumber, checkName, type Label, SEMIHARD_ALIASES } from "@likeness/core";
import type { TripletType } from "@likeness/backend";
import { _checkDistance, _fromTriplets, _prepare, _step, _SteppedMiner, type _Steps, LP_NORMALIZED } from "./_base.ts";
import type { MinedIndices, MineOptions, MinerDistance, MinerInput, MinerOptions } from "./types.ts";

export type { TripletType };

/** Triplet types of {@link TripletMarginMiner}. */
export const TRIPLET_TYPES: readonly TripletType[] = ["all", "hard", "semihard", "easy"];

/** Options of {@link TripletMarginMiner}. */
export interface TripletMarginMinerOptions extends MinerOptions {
  /** Margin (default 0.2). */
  margin?: number;
  /** Which triplets to keep (default "all"): see {@link TripletMarginMiner}. */
  type?: TripletType;
}

/**
 * TripletMarginMiner (pytorch-metric-learning 2.8.1 semantics). With the triplet margin
 * m = d(a,n) − d(a,p) (for similarities s(a,p) − s(a,n)), keeps every triplet (a, p, n), p ≠ a a
 * positive and n a negative of a, where:
 * - `all`: m ≤ margin (violates the margin);
 * - `hard`: m ≤ 0 (the negative is at least as close as the positive);
 * - `semihard`: 0 < m ≤ margin;
 * - `easy`: m > margin (complement of `all`).
 * The enumeration and comparison run on the backend's `tripletMargin` kernel.
 *
 * @example
 * ```ts
 * import { TripletMarginMiner } from "@likeness/miners";
 * const miner = new TripletMarginMiner({ margin: 0.2, type: "semihard" });
 * const emb = { data: new Float32Array([1, 0, 0.9, 0.1, 0, 1, 0.1, 0.9]), rows: 4, cols: 2 };
 * const { triplets } = await miner.mine(emb, [0, 0, 1, 1]);
 * console.log(triplets?.length);
 * ```
 */
export class TripletMarginMiner extends _SteppedMiner {
  /** Class name. */
  readonly name = "TripletMarginMiner";
  /** Margin. */
  readonly margin: number;
  /** Triplet type. */
  readonly type: TripletType;
  /** Distance. */
  readonly distance: MinerDistance | Distance;

  /**
   * @param options margin (0.2), type ("all"), distance (L2 of normalised rows), backend
   * @throws {ValueError} INVALID_ARGUMENT for a non-finite margin; UNKNOWN_NAME for an unknown type or metric
   */
  constructor(options: TripletMarginMinerOptions = {}) {
    super(options.backend);
    this.margin = checkFiniteNumber(options.margin ?? 0.2, "margin", "TripletMarginMiner");
    this.type = checkName(options.type ?? "all", TRIPLET_TYPES, "triplet type", SEMIHARD_ALIASES);
    this.distance = _checkDistance(options.distance ?? LP_NORMALIZED);
  }

  protected *_steps(embeddings: MinerInput, labels: readonly Label[], options?: MineOptions): _Steps<MinedIndices> {
    const p = yield* _prepare(embeddings, labels, options, this.distance);
    const opts = { margin: this.margin, type: this.type, smallerIsCloser: p.smallerIsCloser };
    return _fromTriplets(yield* _step((c) => c.ops.tripletMargin(p.dist, p.same, opts)));
  }
}
