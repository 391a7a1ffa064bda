/**
 * BatchHardMiner: the hardest positive and hardest negative of every anchor.
 *
 * @module
 */
import type { Distance } from "@likeness/losses";
import type { Label } from "@likeness/core";
import { _checkDistance, _prepare, _step, _SteppedMiner, type _Steps, LP_NORMALIZED } from "./_base.ts";
import type { MinedIndices, MineOptions, MinerDistance, MinerInput, MinerOptions } from "./types.ts";

/**
 * BatchHardMiner (pytorch-metric-learning 2.8.1 semantics): for every anchor a with at least
 * one positive p ≠ a and one negative, the triplet (a, farthest positive, closest negative);
 * anchors lacking either are skipped. Ties go to the lower index. Runs on the backend's
 * `batchHard` kernel.
 *
 * Difference from the peer: pytorch-metric-learning picks the farthest positive as the max of
 * `dist × mask`, which can return a non-positive index when every positive distance is 0 (or,
 * for similarities, negative); here the selection only ever considers valid pairs.
 *
 * @example
 * ```ts
 * import { BatchHardMiner } from "@likeness/miners";
 * const miner = new BatchHardMiner();
 * const emb = { data: new Float32Array([1, 0, 0.9, 0.1, 0, 1, 0.1, 0.9]), rows: 4, cols: 2 };
 * const { triplets } = await miner.mine(emb, [0, 0, 1, 1]);
 * console.log(triplets); // [[0, 1, 3], [1, 0, 3], [2, 3, 1], [3, 2, 1]]
 * ```
 */
export class BatchHardMiner extends _SteppedMiner {
  /** Class name. */
  readonly name = "BatchHardMiner";
  /** Distance. */
  readonly distance: MinerDistance | Distance;

  /**
   * @param options distance (L2 of normalised rows), backend
   * @throws {ValueError} UNKNOWN_NAME for an unknown metric
   */
  constructor(options: MinerOptions = {}) {
    super(options.backend);
    this.distance = _checkDistance(options.distance ?? LP_NORMALIZED);
  }

  protected *_steps(embeddings: MinerInput, labels: readonly Label[], options?: MineOptions): _Steps<MinedIndices> {
    const p = yield* _prepare(embeddings, labels, options, this.distance);
    const r = yield* _step((c) => c.ops.batchHard(p.dist, p.same, { smallerIsCloser: p.smallerIsCloser }));
    const triplets: [number, number, number][] = [];
    for (let a = 0; a < p.dist.rows; a++) {
      if (r.validPositive[a] && r.validNegative[a]) triplets.push([a, r.positive[a], r.negative[a]]);
    }
    return { triplets };
  }
}
