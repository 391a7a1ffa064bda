/**
 * PairMarginMiner: positive pairs that are too far and negative pairs that are too close.
 *
 * @module
 */
import { checkFiniteNumber } from "@likeness/core";
import type { Distance } from "@likeness/losses";
import type { Label } from "@likeness/core";
import { _checkDistance, _fromPairs, _prepare, _step, _SteppedMiner, type _Steps, LP_NORMALIZED } from "./_base.ts";
import type { MinedIndices, MineOptions, MinerDistance, MinerInput, MinerOptions } from "./types.ts";

/** Options of {@link PairMarginMiner}. */
export interface PairMarginMinerOptions extends MinerOptions {
  /** Positive pairs farther than this are kept (default 0.2). */
  posMargin?: number;
  /** Negative pairs closer than this are kept (default 0.8). */
  negMargin?: number;
}

/**
 * PairMarginMiner (pytorch-metric-learning 2.8.1 semantics): positive pairs (a, p), p ≠ a, with
 * d(a,p) > posMargin and negative pairs (a, n) with d(a,n) < negMargin; for similarities the
 * comparisons flip (s(a,p) < posMargin, s(a,n) > negMargin). Both orders of a pair are listed.
 * Runs on the backend's `pairMargin` kernel.
 *
 * @example
 * ```ts
 * import { PairMarginMiner } from "@likeness/miners";
 * const miner = new PairMarginMiner({ posMargin: 0.2, negMargin: 0.8 });
 * const emb = { data: new Float32Array([1, 0, 0.6, 0.8, 0, 1, 0.8, 0.6]), rows: 4, cols: 2 };
 * const { positivePairs, negativePairs } = await miner.mine(emb, [0, 0, 1, 1]);
 * console.log(positivePairs?.length, negativePairs?.length);
 * ```
 */
export class PairMarginMiner extends _SteppedMiner {
  /** Class name. */
  readonly name = "PairMarginMiner";
  /** Positive margin. */
  readonly posMargin: number;
  /** Negative margin. */
  readonly negMargin: number;
  /** Distance. */
  readonly distance: MinerDistance | Distance;

  /**
   * @param options posMargin (0.2), negMargin (0.8), distance (L2 of normalised rows), backend
   * @throws {ValueError} INVALID_ARGUMENT for non-finite margins; UNKNOWN_NAME for an unknown metric
   */
  constructor(options: PairMarginMinerOptions = {}) {
    super(options.backend);
    this.posMargin = checkFiniteNumber(options.posMargin ?? 0.2, "posMargin", "PairMarginMiner");
    this.negMargin = checkFiniteNumber(options.negMargin ?? 0.8, "negMargin", "PairMarginMiner");
    this.distance = _checkDistance(options.distance ?? LP_NORMALIZED);
  }

  protected *_steps(embeddings: MinerInput, labels: readonly Label[], options?: MineOptions): _Steps<MinedIndices> {
    const p = yield* _prepare(embeddings, labels, options, this.distance);
    const opts = { posMargin: this.posMargin, negMargin: this.negMargin, smallerIsCloser: p.smallerIsCloser };
    return _fromPairs(yield* _step((c) => c.ops.pairMargin(p.dist, p.same, opts)));
  }
}
