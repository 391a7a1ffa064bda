/**
 * Private fallback used until a `Backend` is available: the float64 references of
 * `@likeness/kernels/reference` (pairwise, normalisation, mining selection), with float32
 * matrices at the boundary as every backend has them.
 *
 * @module
 */
import type { Matrix } from "@likeness/core";
import {
  batchHardRef,
  multiSimilarityRef,
  normalizeRef,
  pairMarginRef,
  pairwiseRef,
  tripletMarginRef,
} from "@likeness/kernels/reference";
import type { MinerBackend } from "./types.ts";

function f32(m: { data: ArrayLike<number>; rows: number; cols: number }): Matrix {
  return { data: Float32Array.from(m.data), rows: m.rows, cols: m.cols };
}

/**
 * The plain-TS fallback backend (only the methods miners use).
 *
 * @returns a {@link MinerBackend}
 */
export function jsMinerBackend(): MinerBackend {
  return {
    pairwise: (q, r, metric) => Promise.resolve(f32(pairwiseRef(q, r, metric))),
    normalize: (m) => Promise.resolve(f32(normalizeRef(m))),
    batchHard: (dist, same, options) => Promise.resolve(batchHardRef(dist, same, options)),
    tripletMargin: (dist, same, options) => Promise.resolve(tripletMarginRef(dist, same, options)),
    pairMargin: (dist, same, options) => Promise.resolve(pairMarginRef(dist, same, options)),
    multiSimilarity: (dist, same, options) => Promise.resolve(multiSimilarityRef(dist, same, options)),
  };
}
