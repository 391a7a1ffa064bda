/**
 * MultiSimilarityMiner: informative pairs relative to the hardest pair of the other kind.
 *
 * @module
 */
import { checkFiniteNumber } from "@likeness/core";
import type { Distance } from "@likeness/losses";
import type { Label } from "@likeness/core";
import { _checkDistance, _fromPairs, _prepare, _step, _SteppedMiner, type _Steps } from "./_base.ts";
import { COSINE_SIMILARITY } from "./distances.ts";
import type { MinedIndices, MineOptions, MinerDistance, MinerInput, MinerOptions } from "./types.ts";

/** Options of {@link MultiSimilarityMiner}. */
export interface MultiSimilarityMinerOptions extends MinerOptions {
  /** Margin ε (default 0.1). */
  epsilon?: number;
}

/**
 * MultiSimilarityMiner (pytorch-metric-learning 2.8.1 semantics; default distance cosine
 * similarity). Per anchor a, on similarities: keeps negative (a, n) when s(a,n) + ε exceeds the
 * smallest positive similarity of a, and positive (a, p), p ≠ a, when s(a,p) − ε is below the
 * largest negative similarity of a. On distances the comparisons flip. An anchor without
 * positives keeps no negatives, one without negatives keeps no positives.
 * Runs on the backend's `multiSimilarity` kernel.
 *
 * @example
 * ```ts
 * import { MultiSimilarityMiner } from "@likeness/miners";
 * const miner = new MultiSimilarityMiner({ epsilon: 0.1 });
 * const emb = { data: new Float32Array([1, 0, 0.6, 0.8, 0, 1, 0.8, 0.6]), rows: 4, cols: 2 };
 * const { positivePairs, negativePairs } = await miner.mine(emb, [0, 0, 1, 1]);
 * console.log(positivePairs?.length, negativePairs?.length);
 * ```
 */
export class MultiSimilarityMiner extends _SteppedMiner {
  /** Class name. */
  readonly name = "MultiSimilarityMiner";
  /** Margin ε. */
  readonly epsilon: number;
  /** Distance. */
  readonly distance: MinerDistance | Distance;

  /**
   * @param options epsilon (0.1), distance (cosine similarity), backend
   * @throws {ValueError} INVALID_ARGUMENT for a non-finite epsilon; UNKNOWN_NAME for an unknown metric
   */
  constructor(options: MultiSimilarityMinerOptions = {}) {
    super(options.backend);
    this.epsilon = checkFiniteNumber(options.epsilon ?? 0.1, "epsilon", "MultiSimilarityMiner");
    this.distance = _checkDistance(options.distance ?? COSINE_SIMILARITY);
  }

  protected *_steps(embeddings: MinerInput, labels: readonly Label[], options?: MineOptions): _Steps<MinedIndices> {
    const p = yield* _prepare(embeddings, labels, options, this.distance);
    const opts = { epsilon: this.epsilon, smallerIsCloser: p.smallerIsCloser };
    return _fromPairs(yield* _step((c) => c.ops.multiSimilarity(p.dist, p.same, opts)));
  }
}
