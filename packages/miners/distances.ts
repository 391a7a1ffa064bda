/**
 * The miners' standard distance specs (pytorch-metric-learning's defaults).
 *
 * @module
 */
import type { MinerDistance } from "./types.ts";

/**
 * pytorch-metric-learning's default distance: L2 between L2-normalised embeddings
 * (`LpDistance(normalize_embeddings=True, p=2, power=1)`); the default of every miner except
 * {@link MultiSimilarityMiner}.
 *
 * @example
 * ```ts
 * import { LP_NORMALIZED, TripletMarginMiner } from "@likeness/miners";
 * const miner = new TripletMarginMiner({ distance: LP_NORMALIZED });
 * ```
 */
export const LP_NORMALIZED: MinerDistance = Object.freeze({ metric: "l2", normalize: true });

/**
 * pytorch-metric-learning's `CosineSimilarity` (larger is closer); the default of
 * `MultiSimilarityMiner`.
 *
 * @example
 * ```ts
 * import { COSINE_SIMILARITY, PairMarginMiner } from "@likeness/miners";
 * const miner = new PairMarginMiner({ posMargin: 0.8, negMargin: 0.3, distance: COSINE_SIMILARITY });
 * ```
 */
export const COSINE_SIMILARITY: MinerDistance = Object.freeze({ metric: "cosine", normalize: true });
