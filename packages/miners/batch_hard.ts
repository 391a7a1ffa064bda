/**
 * BatchHardMiner: the hardest positive and hardest negative of every anchor.
 *
 * @module
 */
import type { Distance } from "@likeness/losses";
import type { Label } from "@likeness/core";
import { _checkDistance, _mine, _prepare, _step, type _Steps, _synchronous, LP_NORMALIZED } from "./_base.ts";
import type { MinedIndices, MineOptions, Miner, MinerDistance, MinerInput, MinerOptions, SyncMiner } from "./types.ts";

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
export class BatchHardMiner implements Miner {
  /** Class name. */
  readonly name = "BatchHardMiner";
  /** Distance. */
  readonly distance: MinerDistance | Distance;
  #backend: MinerOptions["backend"];

  /**
   * @param options distance (L2 of normalised rows), backend
   * @throws {ValueError} UNKNOWN_NAME for an unknown metric
   */
  constructor(options: MinerOptions = {}) {
    this.distance = _checkDistance(options.distance ?? LP_NORMALIZED);
    this.#backend = options.backend;
  }

  /**
   * Mine one triplet per valid anchor.
   *
   * @param embeddings B×D tensor or matrix
   * @param labels one label per row
   * @param options label matcher (default equality)
   * @returns `{ triplets }`, ordered by anchor
   * @throws {ShapeError} LABEL_MISMATCH when labels and rows differ
   * @throws {ValueError} NON_FINITE for NaN or infinite embeddings
   */
  mine(embeddings: MinerInput, labels: readonly Label[], options?: MineOptions): Promise<MinedIndices> {
    return _mine(this.#backend, this.#steps(embeddings, labels, options));
  }

  /** {@link Miner.synchronous}. */
  synchronous(): Promise<SyncMiner | undefined> {
    return _synchronous(this.#backend, (e, l, o) => this.#steps(e, l, o));
  }

  *#steps(embeddings: MinerInput, labels: readonly Label[], options?: MineOptions): _Steps<MinedIndices> {
    const p = yield* _prepare(embeddings, labels, options, this.distance);
    const r = yield* _step((c) => c.ops.batchHard(p.dist, p.same, { smallerIsCloser: p.smallerIsCloser }));
    const triplets: [number, number, number][] = [];
    for (let a = 0; a < p.dist.rows; a++) {
      if (r.validPositive[a] && r.validNegative[a]) triplets.push([a, r.positive[a], r.negative[a]]);
    }
    return { triplets };
  }
}
