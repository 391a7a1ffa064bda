/**
 * Plain-TS float64 references for the mining kernels: batch-hard, triplet-margin,
 * pair-margin and multi-similarity selection on a B×B distance (or similarity) matrix and a
 * B×B `same` mask (non-zero = positive pair; the diagonal is never a pair).
 *
 * Written for clarity: they are the spec and the test oracle of `kernels/mining/`. Comparisons
 * are done in float64 on the float32 inputs, exactly as the kernels do them.
 *
 * @module
 */
import type { Matrix } from "@likeness/core";
import type { BatchHardResult, MiningOptions, Pairs, Triplets, TripletType } from "@likeness/kernels/types";

/**
 * Hardest positive (farthest positive j ≠ i) and hardest negative (closest negative) per
 * anchor; for similarities (`smallerIsCloser: false`) farthest means smallest. Ties go to the
 * lower index.
 *
 * @param dist B×B distance or similarity matrix
 * @param same B×B mask, non-zero where (i, j) is a positive pair
 * @param options `smallerIsCloser` (default true)
 * @returns per-anchor indices, values and validity flags (-1 and NaN where invalid)
 * @example
 * ```ts
 * import { batchHardRef } from "@likeness/kernels/reference";
 * import assert from "node:assert/strict";
 * const dist = { data: new Float32Array([0, 1, 2, 1, 0, 3, 2, 3, 0]), rows: 3, cols: 3 };
 * const r = batchHardRef(dist, new Uint8Array([1, 1, 0, 1, 1, 0, 0, 0, 1]));
 * assert.deepEqual([...r.positive], [1, 0, -1]); // row 2 has no positive
 * assert.deepEqual([...r.negative], [2, 2, 0]);
 * ```
 */
export function batchHardRef(dist: Matrix, same: Uint8Array, options: MiningOptions = {}): BatchHardResult {
  const b = dist.rows;
  const closer = options.smallerIsCloser ?? true;
  const positive = new Int32Array(b).fill(-1);
  const negative = new Int32Array(b).fill(-1);
  const positiveDistance = new Float32Array(b).fill(NaN);
  const negativeDistance = new Float32Array(b).fill(NaN);
  const validPositive = new Uint8Array(b);
  const validNegative = new Uint8Array(b);
  for (let i = 0; i < b; i++) {
    for (let j = 0; j < b; j++) {
      if (j === i) continue;
      const d = dist.data[i * b + j];
      if (same[i * b + j] !== 0) {
        // hardest positive: farthest (largest distance, or smallest similarity)
        const p = positive[i];
        const better = p < 0 || (closer ? d > dist.data[i * b + p] : d < dist.data[i * b + p]);
        if (better) positive[i] = j;
      } else {
        // hardest negative: closest (smallest distance, or largest similarity)
        const n = negative[i];
        const better = n < 0 || (closer ? d < dist.data[i * b + n] : d > dist.data[i * b + n]);
        if (better) negative[i] = j;
      }
    }
    if (positive[i] >= 0) {
      validPositive[i] = 1;
      positiveDistance[i] = dist.data[i * b + positive[i]];
    }
    if (negative[i] >= 0) {
      validNegative[i] = 1;
      negativeDistance[i] = dist.data[i * b + negative[i]];
    }
  }
  return { positive, negative, positiveDistance, negativeDistance, validPositive, validNegative };
}

/**
 * Whether a triplet margin value passes a TripletMarginMiner type (pytorch-metric-learning).
 *
 * @param value triplet margin: d(a,n) - d(a,p) for distances, s(a,p) - s(a,n) for similarities
 * @param margin the miner's margin
 * @param type triplet type
 * @returns whether the triplet is kept
 * @example
 * ```ts
 * import { tripletKept } from "@likeness/kernels/reference";
 * import assert from "node:assert/strict";
 * assert.equal(tripletKept(0.1, 0.2, "semihard"), true);
 * ```
 */
export function tripletKept(value: number, margin: number, type: TripletType): boolean {
  switch (type) {
    case "all":
      return value <= margin;
    case "hard":
      return value <= margin && value <= 0;
    case "semihard":
      return value > 0 && value <= margin;
    case "easy":
      return value > margin;
  }
}

/**
 * Enumerate triplets (a, p, n), p a positive of a (p ≠ a), n a negative of a, kept by the
 * margin type; ordered by (a, p, n) ascending.
 *
 * @param dist B×B distance or similarity matrix
 * @param same B×B positive mask
 * @param options `margin`, `type`, `smallerIsCloser` (default true)
 * @returns flat [a, p, n, ...] and the count
 * @example
 * ```ts
 * import { tripletMarginRef } from "@likeness/kernels/reference";
 * import assert from "node:assert/strict";
 * const dist = { data: new Float32Array([0, 1, 2, 1, 0, 3, 2, 3, 0]), rows: 3, cols: 3 };
 * const t = tripletMarginRef(dist, new Uint8Array([1, 1, 0, 1, 1, 0, 0, 0, 1]), { margin: 2, type: "all" });
 * assert.equal(t.count, 2);
 * assert.deepEqual([...t.indices], [0, 1, 2, 1, 0, 2]);
 * ```
 */
export function tripletMarginRef(
  dist: Matrix,
  same: Uint8Array,
  options: MiningOptions & { margin: number; type: TripletType },
): Triplets {
  const b = dist.rows;
  const closer = options.smallerIsCloser ?? true;
  const out: number[] = [];
  for (let a = 0; a < b; a++) {
    for (let p = 0; p < b; p++) {
      if (p === a || same[a * b + p] === 0) continue;
      const dap = dist.data[a * b + p];
      for (let n = 0; n < b; n++) {
        if (n === a || same[a * b + n] !== 0) continue;
        const dan = dist.data[a * b + n];
        const value = closer ? dan - dap : dap - dan;
        if (tripletKept(value, options.margin, options.type)) out.push(a, p, n);
      }
    }
  }
  return { indices: Int32Array.from(out), count: out.length / 3 };
}

/**
 * PairMarginMiner: positive pairs farther than `posMargin` and negative pairs closer than
 * `negMargin` (for similarities: positives below `posMargin`, negatives above `negMargin`).
 * Pairs are (a, j) with a ≠ j in both orders, ordered by (a, j).
 *
 * @param dist B×B distance or similarity matrix
 * @param same B×B positive mask
 * @param options `posMargin`, `negMargin`, `smallerIsCloser` (default true)
 * @returns flat positive and negative pairs
 * @example
 * ```ts
 * import { pairMarginRef } from "@likeness/kernels/reference";
 * import assert from "node:assert/strict";
 * const dist = { data: new Float32Array([0, 1, 2, 1, 0, 3, 2, 3, 0]), rows: 3, cols: 3 };
 * const p = pairMarginRef(dist, new Uint8Array([1, 1, 0, 1, 1, 0, 0, 0, 1]), { posMargin: 0.5, negMargin: 2.5 });
 * assert.deepEqual([...p.positive], [0, 1, 1, 0]);
 * assert.deepEqual([...p.negative], [0, 2, 2, 0]);
 * ```
 */
export function pairMarginRef(
  dist: Matrix,
  same: Uint8Array,
  options: MiningOptions & { posMargin: number; negMargin: number },
): Pairs {
  const b = dist.rows;
  const closer = options.smallerIsCloser ?? true;
  const pos: number[] = [];
  const neg: number[] = [];
  for (let a = 0; a < b; a++) {
    for (let j = 0; j < b; j++) {
      if (j === a) continue;
      const d = dist.data[a * b + j];
      if (same[a * b + j] !== 0) {
        if (closer ? d > options.posMargin : d < options.posMargin) pos.push(a, j);
      } else if (closer ? d < options.negMargin : d > options.negMargin) {
        neg.push(a, j);
      }
    }
  }
  return { positive: Int32Array.from(pos), negative: Int32Array.from(neg) };
}

/**
 * MultiSimilarityMiner (pytorch-metric-learning). On similarities: keep negative (a, n) when
 * s(a,n) + ε > min over positives s(a,p), keep positive (a, p) when s(a,p) - ε < max over
 * negatives s(a,n). On distances the comparisons flip: negative when d(a,n) - ε < max d(a,p),
 * positive when d(a,p) + ε > min d(a,n). Pairs are ordered by (a, j).
 *
 * @param dist B×B distance or similarity matrix
 * @param same B×B positive mask
 * @param options `epsilon`, `smallerIsCloser` (default true)
 * @returns flat positive and negative pairs
 * @example
 * ```ts
 * import { multiSimilarityRef } from "@likeness/kernels/reference";
 * import assert from "node:assert/strict";
 * const sim = { data: new Float32Array([1, 0.5, 0.6, 0.5, 1, 0.1, 0.6, 0.1, 1]), rows: 3, cols: 3 };
 * const p = multiSimilarityRef(sim, new Uint8Array([1, 1, 0, 1, 1, 0, 0, 0, 1]), { epsilon: 0.1, smallerIsCloser: false });
 * assert.deepEqual([...p.positive], [0, 1]);
 * assert.deepEqual([...p.negative], [0, 2]);
 * ```
 */
export function multiSimilarityRef(
  dist: Matrix,
  same: Uint8Array,
  options: MiningOptions & { epsilon: number },
): Pairs {
  const b = dist.rows;
  const closer = options.smallerIsCloser ?? true;
  const eps = options.epsilon;
  const pos: number[] = [];
  const neg: number[] = [];
  for (let a = 0; a < b; a++) {
    let minPos = Infinity;
    let maxPos = -Infinity;
    let minNeg = Infinity;
    let maxNeg = -Infinity;
    for (let j = 0; j < b; j++) {
      if (j === a) continue;
      const d = dist.data[a * b + j];
      if (same[a * b + j] !== 0) {
        minPos = Math.min(minPos, d);
        maxPos = Math.max(maxPos, d);
      } else {
        minNeg = Math.min(minNeg, d);
        maxNeg = Math.max(maxNeg, d);
      }
    }
    for (let j = 0; j < b; j++) {
      if (j === a) continue;
      const d = dist.data[a * b + j];
      if (same[a * b + j] !== 0) {
        if (closer ? d + eps > minNeg : d - eps < maxNeg) pos.push(a, j);
      } else if (closer ? d - eps < maxPos : d + eps > minPos) {
        neg.push(a, j);
      }
    }
  }
  return { positive: Int32Array.from(pos), negative: Int32Array.from(neg) };
}
