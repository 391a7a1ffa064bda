/**
 * Plain-TS float64 reference for the retrieval-metric kernels: precision@k, recall@k (hit
 * rate), MRR within k, R-precision and MAP@R from a top-k relevance mask.
 *
 * @module
 */
import type { RetrievalMetrics } from "@likeness/kernels/types";

/**
 * Retrieval metrics from a `Q × k` relevance mask (non-zero = the neighbour at that rank is
 * relevant) and the number of relevant references `R` per query. Queries with `R = 0` are
 * skipped; `queries` is the number averaged over. MAP@R follows pytorch-metric-learning's
 * AccuracyCalculator: the mean over the first R ranks of precision@i at relevant ranks, over R.
 * The caller guarantees `k ≥ R` for every query with R > 0 (the kernels' wrapper checks it).
 *
 * @param relevant `Q × k` mask, row-major
 * @param relevantCount R per query (length Q)
 * @param k neighbours per query
 * @returns the averaged metrics (all 0 when no query has R > 0)
 * @example
 * ```ts
 * import { retrievalMetricsRef } from "@likeness/kernels/reference";
 * import assert from "node:assert/strict";
 * const m = retrievalMetricsRef(new Uint8Array([0, 1, 1, 1, 0, 0]), new Int32Array([2, 1]), 3);
 * assert.ok(Math.abs(m.mrr - 0.75) < 1e-12 && Math.abs(m.mapAtR - 0.625) < 1e-12);
 * ```
 */
export function retrievalMetricsRef(relevant: Uint8Array, relevantCount: Int32Array, k: number): RetrievalMetrics {
  const q = relevantCount.length;
  let precision = 0;
  let recall = 0;
  let mrr = 0;
  let rPrecision = 0;
  let mapAtR = 0;
  let queries = 0;
  for (let i = 0; i < q; i++) {
    const r = relevantCount[i];
    if (r <= 0) continue;
    queries++;
    let hits = 0;
    let hitsAtR = 0;
    let firstRank = -1;
    let ap = 0;
    for (let j = 0; j < k; j++) {
      if (relevant[i * k + j] === 0) continue;
      hits++;
      if (firstRank < 0) firstRank = j;
      if (j < r) {
        hitsAtR++;
        ap += hitsAtR / (j + 1);
      }
    }
    precision += hits / k;
    recall += hits > 0 ? 1 : 0;
    mrr += firstRank >= 0 ? 1 / (firstRank + 1) : 0;
    rPrecision += hitsAtR / r;
    mapAtR += ap / r;
  }
  if (queries === 0) return { precisionAtK: 0, recallAtK: 0, mrr: 0, rPrecision: 0, mapAtR: 0, queries: 0 };
  return {
    precisionAtK: precision / queries,
    recallAtK: recall / queries,
    mrr: mrr / queries,
    rPrecision: rPrecision / queries,
    mapAtR: mapAtR / queries,
    queries,
  };
}
