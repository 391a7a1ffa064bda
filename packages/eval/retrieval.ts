/**
 * Retrieval metrics from a top-k relevance mask, per query and averaged, with
 * pytorch-metric-learning's AccuracyCalculator definitions.
 *
 * @module
 */
import { ShapeError, ValueError } from "@likeness/core";
import { meanOfKept } from "./_fused_retrieval.ts";

/** Per-query retrieval metrics (one value per query, in query order). */
export interface PerQueryRetrieval {
  /** 1 when the nearest neighbour is relevant. */
  precisionAt1: Float64Array;
  /** Relevant neighbours in the top k, over k. */
  precisionAtK: Float64Array;
  /** Hit rate: 1 when any of the top k is relevant. */
  recallAtK: Float64Array;
  /** 1 / rank of the first relevant neighbour within k (0 when none). */
  reciprocalRank: Float64Array;
  /** Relevant neighbours in the first min(R, k) ranks, over min(R, k) (NaN when R = 0). */
  rPrecision: Float64Array;
  /** MAP@R: mean over the first min(R, k) ranks of precision@i at relevant ranks (NaN when R = 0). */
  mapAtR: Float64Array;
  /** MAP@k as pml's `mean_average_precision`: mean precision@i over relevant ranks in k (0 when none). */
  mapAtK: Float64Array;
  /** NDCG@k with binary relevance, ideal DCG over min(R, k) relevant ranks (NaN when R = 0). */
  ndcgAtK: Float64Array;
}

/** Averaged retrieval metrics over the queries that have at least one relevant reference. */
export interface RetrievalSummary {
  /** precision@1. */
  precisionAt1: number;
  /** precision@k. */
  precisionAtK: number;
  /** recall@k (hit rate). */
  recallAtK: number;
  /** Mean reciprocal rank within k. */
  mrr: number;
  /** R-precision. */
  rPrecision: number;
  /** MAP@R. */
  mapAtR: number;
  /** MAP@k (pml `mean_average_precision`). */
  mapAtK: number;
  /** NDCG@k. */
  ndcgAtK: number;
  /** Number of queries averaged over (queries with R = 0 are skipped). */
  queries: number;
}

/**
 * Per-query retrieval metrics from a `Q × k` relevance mask and R (the number of relevant
 * references) per query. Precision, recall and reciprocal rank are defined for every query
 * (0 without relevant references); R-based metrics are NaN where R = 0.
 *
 * @param relevant `Q × k` mask, row-major; non-zero = the neighbour at that rank is relevant
 * @param relevantCount R per query (length Q)
 * @returns per-query metric arrays
 * @throws {ShapeError} SHAPE_MISMATCH when the mask is not a multiple of Q; EMPTY_INPUT for Q = 0 or k = 0
 * @example
 * ```ts
 * import { retrievalPerQuery } from "@likeness/eval";
 * import assert from "node:assert/strict";
 * const m = retrievalPerQuery(new Uint8Array([0, 1, 1, 1, 0, 0]), new Int32Array([2, 1]));
 * assert.deepEqual(m.reciprocalRank, new Float64Array([0.5, 1]));
 * ```
 */
export function retrievalPerQuery(relevant: ArrayLike<number>, relevantCount: ArrayLike<number>): PerQueryRetrieval {
  const q = relevantCount.length;
  if (q === 0) throw new ShapeError("Cannot compute retrieval metrics: no queries; pass at least one", "EMPTY_INPUT");
  if (relevant.length === 0 || relevant.length % q !== 0) {
    throw new ShapeError(
      `Cannot compute retrieval metrics: the relevance mask has ${relevant.length} entries, not a positive multiple ` +
        `of the ${q} queries; pass a Q × k mask`,
      relevant.length === 0 ? "EMPTY_INPUT" : "SHAPE_MISMATCH",
    );
  }
  const k = relevant.length / q;
  const out: PerQueryRetrieval = {
    precisionAt1: new Float64Array(q),
    precisionAtK: new Float64Array(q),
    recallAtK: new Float64Array(q),
    reciprocalRank: new Float64Array(q),
    rPrecision: new Float64Array(q),
    mapAtR: new Float64Array(q),
    mapAtK: new Float64Array(q),
    ndcgAtK: new Float64Array(q),
  };
  for (let i = 0; i < q; i++) {
    const r = relevantCount[i];
    if (!Number.isInteger(r) || r < 0) {
      throw new ValueError(
        "INVALID_ARGUMENT",
        `Cannot compute retrieval metrics: relevantCount[${i}] is ${r}; it must be a non-negative integer`,
      );
    }
    const rk = Math.min(r, k);
    let hits = 0;
    let hitsAtR = 0;
    let first = -1;
    let apR = 0;
    let apK = 0;
    let dcg = 0;
    for (let j = 0; j < k; j++) {
      if (!relevant[i * k + j]) continue;
      hits++;
      if (first < 0) first = j;
      apK += hits / (j + 1);
      dcg += 1 / Math.log2(j + 2);
      if (j < rk) {
        hitsAtR++;
        apR += hitsAtR / (j + 1);
      }
    }
    out.precisionAt1[i] = relevant[i * k] ? 1 : 0;
    out.precisionAtK[i] = hits / k;
    out.recallAtK[i] = hits > 0 ? 1 : 0;
    out.reciprocalRank[i] = first >= 0 ? 1 / (first + 1) : 0;
    out.mapAtK[i] = hits > 0 ? apK / hits : 0;
    if (r === 0) {
      out.rPrecision[i] = NaN;
      out.mapAtR[i] = NaN;
      out.ndcgAtK[i] = NaN;
    } else {
      out.rPrecision[i] = hitsAtR / rk;
      out.mapAtR[i] = apR / rk;
      let idcg = 0;
      for (let j = 0; j < rk; j++) idcg += 1 / Math.log2(j + 2);
      out.ndcgAtK[i] = dcg / idcg;
    }
  }
  return out;
}

/** Options for {@link summarizeRetrieval}. */
export interface SummaryOptions {
  /**
   * Class id per query: average per class first, then over classes (pml's `avg_of_avgs`).
   * Default: plain mean over queries.
   */
  groupBy?: ArrayLike<number>;
}

/**
 * Average per-query metrics over the queries with at least one relevant reference (pml skips
 * "lone" queries the same way). All metrics are 0 when no query has a relevant reference.
 *
 * @param perQuery output of {@link retrievalPerQuery}
 * @param relevantCount R per query
 * @param options optional per-class averaging
 * @returns averaged metrics and the number of queries used
 * @throws {ShapeError} LABEL_MISMATCH when `groupBy` has the wrong length
 * @example
 * ```ts
 * import { retrievalPerQuery, summarizeRetrieval } from "@likeness/eval";
 * import assert from "node:assert/strict";
 * const r = new Int32Array([2, 1]);
 * const s = summarizeRetrieval(retrievalPerQuery(new Uint8Array([0, 1, 1, 1, 0, 0]), r), r);
 * assert.equal(s.mrr, 0.75);
 * ```
 */
export function summarizeRetrieval(
  perQuery: PerQueryRetrieval,
  relevantCount: ArrayLike<number>,
  options: SummaryOptions = {},
): RetrievalSummary {
  const q = relevantCount.length;
  const groups = options.groupBy;
  if (groups && groups.length !== q) {
    throw new ShapeError(
      `Cannot average per class: groupBy has ${groups.length} entries but there are ${q} queries`,
      "LABEL_MISMATCH",
    );
  }
  const keep: number[] = [];
  for (let i = 0; i < q; i++) if (relevantCount[i] > 0) keep.push(i);
  const mean = (xs: Float64Array): number => meanOfKept(xs, keep, groups);
  return {
    precisionAt1: mean(perQuery.precisionAt1),
    precisionAtK: mean(perQuery.precisionAtK),
    recallAtK: mean(perQuery.recallAtK),
    mrr: mean(perQuery.reciprocalRank),
    rPrecision: mean(perQuery.rPrecision),
    mapAtR: mean(perQuery.mapAtR),
    mapAtK: mean(perQuery.mapAtK),
    ndcgAtK: mean(perQuery.ndcgAtK),
    queries: keep.length,
  };
}
