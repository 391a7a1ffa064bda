/**
 * Retrieval metrics straight from neighbour indices and integer labels (private): one pass over
 * typed arrays, only the metrics asked for, with exactly the arithmetic of `retrievalPerQuery`
 * and `summarizeRetrieval` (same operations in the same order, so the same float64 values).
 *
 * @module
 */
import type { PerQueryRetrieval } from "./retrieval.ts";

/** The per-query arrays of {@link PerQueryRetrieval}, by key. */
export type PerQueryKey = keyof PerQueryRetrieval;

/**
 * Per-query metrics for the `wanted` keys from `Q × k` neighbour indices (-1: none) and label ids
 * (a neighbour j is relevant when `refLabel[j] === queryLabel[i]`). Arrays not wanted are absent.
 *
 * @param indices neighbour indices, row-major `Q × k`
 * @param k neighbours per query
 * @param queryLabel label id per query
 * @param refLabel label id per reference
 * @param relevantCount R per query (non-negative integers)
 * @param wanted which per-query arrays to fill
 * @returns the wanted arrays
 */
export function fusedPerQuery(
  indices: Int32Array,
  k: number,
  queryLabel: Int32Array,
  refLabel: Int32Array,
  relevantCount: Int32Array,
  wanted: ReadonlySet<PerQueryKey>,
): Partial<PerQueryRetrieval> {
  const q = relevantCount.length;
  const out: Partial<PerQueryRetrieval> = {};
  for (const key of wanted) out[key] = new Float64Array(q);
  const { precisionAt1, precisionAtK, recallAtK, reciprocalRank, rPrecision, mapAtR, mapAtK, ndcgAtK } = out;
  // Only R-precision, MAP@R and precision@1: ranks past min(R, k) do not matter.
  const full = !!(precisionAtK || recallAtK || reciprocalRank || mapAtK || ndcgAtK);
  let gain: Float64Array | null = null;
  let ideal: Float64Array | null = null;
  if (ndcgAtK) {
    gain = new Float64Array(k);
    ideal = new Float64Array(k + 1);
    for (let j = 0; j < k; j++) {
      gain[j] = 1 / Math.log2(j + 2);
      ideal[j + 1] = ideal[j] + gain[j];
    }
  }
  for (let i = 0; i < q; i++) {
    const r = relevantCount[i];
    const rk = Math.min(r, k);
    const label = queryLabel[i];
    const row = i * k;
    const end = full ? k : rk;
    let hits = 0;
    let hitsAtR = 0;
    let first = -1;
    let apR = 0;
    let apK = 0;
    let dcg = 0;
    for (let j = 0; j < end; j++) {
      const n = indices[row + j];
      if (n < 0 || refLabel[n] !== label) continue;
      hits++;
      if (first < 0) first = j;
      apK += hits / (j + 1);
      if (gain) dcg += gain[j];
      if (j < rk) {
        hitsAtR++;
        apR += hitsAtR / (j + 1);
      }
    }
    if (precisionAt1) {
      const n = indices[row];
      precisionAt1[i] = n >= 0 && refLabel[n] === label ? 1 : 0;
    }
    if (precisionAtK) precisionAtK[i] = hits / k;
    if (recallAtK) recallAtK[i] = hits > 0 ? 1 : 0;
    if (reciprocalRank) reciprocalRank[i] = first >= 0 ? 1 / (first + 1) : 0;
    if (mapAtK) mapAtK[i] = hits > 0 ? apK / hits : 0;
    if (r === 0) {
      if (rPrecision) rPrecision[i] = NaN;
      if (mapAtR) mapAtR[i] = NaN;
      if (ndcgAtK) ndcgAtK[i] = NaN;
    } else {
      if (rPrecision) rPrecision[i] = hitsAtR / rk;
      if (mapAtR) mapAtR[i] = apR / rk;
      if (ndcgAtK) ndcgAtK[i] = dcg / ideal![rk];
    }
  }
  return out;
}

/**
 * Mean of `xs` over the queries with R > 0, in query order (per class first, then over classes,
 * when `groups` is given); 0 when no query has R > 0.
 *
 * @param xs one value per query
 * @param keep the queries with R > 0, in order
 * @param groups class id per query, or undefined
 * @returns the mean
 */
export function meanOfKept(xs: ArrayLike<number>, keep: readonly number[], groups?: ArrayLike<number>): number {
  if (keep.length === 0) return 0;
  if (!groups) {
    let s = 0;
    for (const i of keep) s += xs[i];
    return s / keep.length;
  }
  const sum = new Map<number, [number, number]>();
  for (const i of keep) {
    const e = sum.get(groups[i]) ?? [0, 0];
    e[0] += xs[i];
    e[1]++;
    sum.set(groups[i], e);
  }
  let s = 0;
  for (const [a, n] of sum.values()) s += a / n;
  return s / sum.size;
}
