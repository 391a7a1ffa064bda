/**
 * `computeAccuracy`: pytorch-metric-learning's AccuracyCalculator semantics over query and
 * reference embeddings — k nearest neighbours, lone-query skipping, self-match exclusion,
 * retrieval metrics and k-means clustering metrics.
 *
 * @module
 */
import {
  checkLabels,
  checkLabelValues,
  checkOneOf,
  checkPositiveInt,
  equalLabels,
  type Label,
  labelIds,
  type LabelMatcher,
  LikenessError,
  type Matrix,
  toMatrix,
  ValueError,
} from "@likeness/core";
import type { Metric } from "@likeness/backend";
import { type EmbeddingsInput, type EvalIndexOption, exactKnn, type TopKProvider } from "./knn.ts";
import { type PerQueryRetrieval, retrievalPerQuery, summarizeRetrieval } from "./retrieval.ts";
import { fusedPerQuery, meanOfKept, type PerQueryKey } from "./_fused_retrieval.ts";
import { adjustedMutualInfo, kmeans, normalizedMutualInfo } from "./clustering.ts";

/** Metric names, as pytorch-metric-learning spells them (plus `precision_at_k`, `recall_at_k`, `ndcg_at_k`). */
export type AccuracyMetricName =
  | "precision_at_1"
  | "precision_at_k"
  | "recall_at_k"
  | "mean_reciprocal_rank"
  | "r_precision"
  | "mean_average_precision_at_r"
  | "mean_average_precision"
  | "ndcg_at_k"
  | "NMI"
  | "AMI";

/**
 * Every metric name {@link computeAccuracy} knows.
 *
 * @example
 * ```ts
 * import { ACCURACY_METRICS } from "@likeness/eval";
 * console.log(ACCURACY_METRICS.includes("r_precision")); // true
 * ```
 */
export const ACCURACY_METRICS: readonly AccuracyMetricName[] = [
  "precision_at_1",
  "precision_at_k",
  "recall_at_k",
  "mean_reciprocal_rank",
  "r_precision",
  "mean_average_precision_at_r",
  "mean_average_precision",
  "ndcg_at_k",
  "NMI",
  "AMI",
];

/** Embeddings with one label per row. */
export interface LabeledEmbeddings {
  /** N×D embeddings. */
  embeddings: EmbeddingsInput;
  /** One label per row. */
  labels: readonly Label[];
}

/** Options for {@link computeAccuracy}. */
export interface AccuracyOptions {
  /** Metric for the neighbour search (default `cosine`). */
  metric?: Metric;
  /**
   * Neighbours per query: a number, `"max_bin_count"` (the largest number of references that
   * match one reference label, minus 1 when the reference includes the query — the default
   * here) or `"all"` (every eligible reference; pml's `k=None`).
   */
  k?: number | "max_bin_count" | "all";
  /**
   * The query rows are the reference rows (query i = reference i); a query never retrieves
   * itself and R excludes it (pml's `ref_includes_query`). Default: true when no reference is
   * given, else false.
   */
  referenceIncludesQuery?: boolean;
  /** Metrics to compute (default: all; NMI and AMI are left out with a custom `labelMatch`). */
  include?: readonly AccuracyMetricName[];
  /** Metrics to leave out. */
  exclude?: readonly AccuracyMetricName[];
  /** Label matching (default equality); for multi-label data pass e.g. `sharesAnyLabel`. */
  labelMatch?: LabelMatcher;
  /** Average per class then over classes (pml `avg_of_avgs`; equality labels only). Default false. */
  avgOfAvgs?: boolean;
  /** Seed of the k-means behind NMI and AMI (default 0). */
  seed?: number;
  /** A `Backend` (or dense kernels) whose exact top-k to use (default: the float64 reference). */
  backend?: TopKProvider;
  /**
   * Hold the references in a resident index of this kind (`exactKnn`'s option): `"hnsw"` or
   * `{ kind: "hnsw", hnsw: { efSearch } }` for large reference sets. **Approximate**: the metrics
   * are computed from approximate neighbours (equal to the exact ones when `efSearch` ≥ the
   * reference count); `k` is at most 4096 then. Default: exact search.
   */
  index?: EvalIndexOption;
}

/** Result of {@link computeAccuracy}. */
export interface AccuracyResult {
  /** The requested metrics. */
  metrics: Partial<Record<AccuracyMetricName, number>>;
  /** The k used for the neighbour search. */
  k: number;
  /** Queries averaged over (not lone). */
  queries: number;
  /** Queries skipped because no reference matches their label. */
  loneQueries: number;
  /** Per-query retrieval values (all queries, lone ones included; NaN when only NMI/AMI were asked for). */
  perQuery: PerQueryRetrieval;
  /** R (relevant references) per query. */
  relevantCount: Int32Array;
  /** Neighbour indices, `queries × k` row-major (empty when only NMI/AMI were asked for). */
  knnIndices: Int32Array;
}

const CLUSTERING: readonly AccuracyMetricName[] = ["NMI", "AMI"];

/**
 * Evaluate embeddings as pytorch-metric-learning's AccuracyCalculator does: each query
 * retrieves its k nearest references; a neighbour is relevant when its label matches the
 * query's; queries without any matching reference ("lone" labels) are skipped; R is the
 * number of matching references (minus the query itself when the reference includes it).
 * NMI and AMI cluster the queries with seeded k-means into as many clusters as query labels.
 * Ties in distance go to the lower reference index.
 *
 * @param query query embeddings and labels
 * @param reference reference embeddings and labels (default: the query, with self matches excluded)
 * @param options metric, k, referenceIncludesQuery, include/exclude, labelMatch, avgOfAvgs, seed, backend,
 *   index (approximate search through an `hnsw` index)
 * @returns metrics keyed by pml's names, k, counts and per-query values
 * @throws {ShapeError} LABEL_MISMATCH, SHAPE_MISMATCH, EMPTY_INPUT for inconsistent inputs
 * @throws {ValueError} NON_FINITE, UNKNOWN_NAME, K_TOO_LARGE, INVALID_ARGUMENT for bad values or options
 * @throws {LikenessError} UNSUPPORTED for NMI/AMI or avgOfAvgs with a custom label matcher
 * @example
 * ```ts
 * import { computeAccuracy } from "@likeness/eval";
 * const r = await computeAccuracy({ embeddings: [[0, 1], [0, 0.9], [1, 0], [0.9, 0]], labels: [0, 0, 1, 1] });
 * console.log(r.metrics.precision_at_1); // 1
 * ```
 */
export async function computeAccuracy(
  query: LabeledEmbeddings,
  reference?: LabeledEmbeddings,
  options: AccuracyOptions = {},
): Promise<AccuracyResult> {
  const q = toMatrix(query?.embeddings, "query embeddings");
  checkLabels(query.labels, q.rows, "query embeddings");
  checkLabelValues(query.labels, "evaluate", { what: "query labels" });
  const ref = reference ?? query;
  const r: Matrix = reference ? toMatrix(reference.embeddings, "reference embeddings") : q;
  checkLabels(ref.labels, r.rows, "reference embeddings");
  checkLabelValues(ref.labels, "evaluate", { what: "reference labels" });
  const selfIncluded = options.referenceIncludesQuery ?? reference === undefined;
  const match = options.labelMatch ?? equalLabels;
  const custom = options.labelMatch !== undefined && options.labelMatch !== equalLabels;
  const metric = options.metric ?? "cosine";

  for (const name of [...(options.include ?? []), ...(options.exclude ?? [])]) {
    checkOneOf(name, ACCURACY_METRICS, "accuracy metric");
  }
  let wanted = options.include && options.include.length > 0
    ? [...options.include]
    : ACCURACY_METRICS.filter((m) => !(custom && CLUSTERING.includes(m)));
  wanted = wanted.filter((m) => !(options.exclude ?? []).includes(m));
  if (custom && wanted.some((m) => CLUSTERING.includes(m))) {
    throw new LikenessError(
      "UNSUPPORTED",
      "Cannot compute NMI/AMI with a custom labelMatch (clusters need categorical labels); exclude NMI and AMI",
    );
  }
  if (custom && options.avgOfAvgs) {
    throw new LikenessError(
      "UNSUPPORTED",
      "Cannot average per class (avgOfAvgs) with a custom labelMatch; use equality labels or avgOfAvgs: false",
    );
  }

  // R per query, and the match count per reference row (for max_bin_count).
  const relevantCount = new Int32Array(q.rows);
  let maxBin = 0;
  // Equality labels as integer ids: references first, then queries (same label, same id).
  let refIds: Int32Array | null = null;
  let queryIds: Int32Array | null = null;
  if (!custom) {
    const ids = labelIds([...ref.labels, ...query.labels]);
    // Scalar labels: equal ids exactly when equalLabels holds (array labels keep the matcher).
    if (ref.labels.every(isScalar) && query.labels.every(isScalar)) {
      refIds = ids.subarray(0, r.rows);
      queryIds = ids.subarray(r.rows);
    }
    const refCounts = new Map<number, number>();
    for (let j = 0; j < r.rows; j++) refCounts.set(ids[j], (refCounts.get(ids[j]) ?? 0) + 1);
    for (const c of refCounts.values()) maxBin = Math.max(maxBin, c);
    for (let i = 0; i < q.rows; i++) {
      relevantCount[i] = (refCounts.get(ids[r.rows + i]) ?? 0) - (selfIncluded ? 1 : 0);
    }
  } else {
    for (let j = 0; j < r.rows; j++) {
      let c = 0;
      for (let t = 0; t < r.rows; t++) if (t === j || match(ref.labels[j], ref.labels[t])) c++;
      maxBin = Math.max(maxBin, c);
    }
    for (let i = 0; i < q.rows; i++) {
      let c = 0;
      for (let j = 0; j < r.rows; j++) {
        if (selfIncluded && i === j) continue;
        if (match(query.labels[i], ref.labels[j])) c++;
      }
      relevantCount[i] = c;
    }
  }

  const eligible = r.rows - (selfIncluded ? 1 : 0);
  const kOpt = options.k ?? "max_bin_count";
  let k: number;
  if (kOpt === "max_bin_count") k = maxBin - (selfIncluded ? 1 : 0);
  else if (kOpt === "all") k = eligible;
  else if (typeof kOpt === "number") k = checkPositiveInt(kOpt, "k");
  else {throw new ValueError(
      "UNKNOWN_NAME",
      `Unknown k ${JSON.stringify(kOpt)}: use a number, "max_bin_count" or "all"`,
    );}
  const needKnn = wanted.some((m) => !CLUSTERING.includes(m));
  if (k < 1 && needKnn) {
    throw new ValueError(
      "INVALID_ARGUMENT",
      `Cannot evaluate: every reference label occurs once, so max_bin_count gives k=0; pass k explicitly or more references per label`,
    );
  }
  k = Math.max(1, Math.min(k, eligible));

  const knn = needKnn
    ? await exactKnn(q, r, { k, metric, excludeSelf: selfIncluded, backend: options.backend, index: options.index })
    : { indices: new Int32Array(0), values: new Float32Array(0), rows: q.rows, k: 0 };
  const kk = knn.k;
  const groupBy = options.avgOfAvgs ? labelIds(query.labels) : undefined;
  const keep: number[] = [];
  for (let i = 0; i < q.rows; i++) if (relevantCount[i] > 0) keep.push(i);
  let perQuery: PerQueryRetrieval;
  const all: Record<string, number> = {};
  if (!needKnn) {
    perQuery = emptyPerQuery(q.rows);
  } else if (refIds && queryIds) {
    // Equality labels: the asked-for metrics in one pass over the neighbour indices; the other
    // per-query arrays are computed (identically) on first access.
    const asked = new Set<PerQueryKey>();
    for (const name of wanted) if (name in PER_QUERY_KEY) asked.add(PER_QUERY_KEY[name]);
    const eager = fusedPerQuery(knn.indices, kk, queryIds, refIds, relevantCount, asked);
    for (const name of wanted) {
      if (name in PER_QUERY_KEY) all[name] = meanOfKept(eager[PER_QUERY_KEY[name]]!, keep, groupBy);
    }
    perQuery = lazyPerQuery(eager, () => {
      const relevant = new Uint8Array(q.rows * kk);
      for (let i = 0; i < q.rows; i++) {
        for (let t = 0; t < kk; t++) {
          const j = knn.indices[i * kk + t];
          relevant[i * kk + t] = j >= 0 && refIds![j] === queryIds![i] ? 1 : 0;
        }
      }
      return retrievalPerQuery(relevant, relevantCount);
    });
  } else {
    const relevant = new Uint8Array(q.rows * kk);
    for (let i = 0; i < q.rows; i++) {
      for (let t = 0; t < kk; t++) {
        const j = knn.indices[i * kk + t];
        relevant[i * kk + t] = j >= 0 && match(query.labels[i], ref.labels[j]) ? 1 : 0;
      }
    }
    perQuery = retrievalPerQuery(relevant, relevantCount);
  }
  if (needKnn && !(refIds && queryIds)) {
    const s = summarizeRetrieval(perQuery, relevantCount, { groupBy });
    Object.assign(all, {
      precision_at_1: s.precisionAt1,
      precision_at_k: s.precisionAtK,
      recall_at_k: s.recallAtK,
      mean_reciprocal_rank: s.mrr,
      r_precision: s.rPrecision,
      mean_average_precision_at_r: s.mapAtR,
      mean_average_precision: s.mapAtK,
      ndcg_at_k: s.ndcgAtK,
    });
  }
  const metrics: Partial<Record<AccuracyMetricName, number>> = {};
  for (const name of wanted) if (name in all) metrics[name] = all[name];
  if (wanted.some((m) => CLUSTERING.includes(m))) {
    const truth = labelIds(query.labels);
    const clusters = new Set(truth).size;
    const assign = kmeans(q, clusters, { seed: options.seed ?? 0 }).assignments;
    if (wanted.includes("NMI")) metrics.NMI = normalizedMutualInfo(truth, assign);
    if (wanted.includes("AMI")) metrics.AMI = adjustedMutualInfo(truth, assign);
  }
  return {
    metrics,
    k,
    queries: keep.length,
    loneQueries: q.rows - keep.length,
    perQuery,
    relevantCount,
    knnIndices: knn.indices,
  };
}

/** Per-query array behind each retrieval metric name. */
const PER_QUERY_KEY: Record<string, PerQueryKey> = {
  precision_at_1: "precisionAt1",
  precision_at_k: "precisionAtK",
  recall_at_k: "recallAtK",
  mean_reciprocal_rank: "reciprocalRank",
  r_precision: "rPrecision",
  mean_average_precision_at_r: "mapAtR",
  mean_average_precision: "mapAtK",
  ndcg_at_k: "ndcgAtK",
};

/** The eager arrays as they are; the rest from `compute()` on first access (once). */
function lazyPerQuery(eager: Partial<PerQueryRetrieval>, compute: () => PerQueryRetrieval): PerQueryRetrieval {
  let rest: PerQueryRetrieval | undefined;
  const out = {} as PerQueryRetrieval;
  for (const key of Object.values(PER_QUERY_KEY)) {
    Object.defineProperty(out, key, {
      enumerable: true,
      get: () => eager[key] ?? (rest ??= compute())[key],
    });
  }
  return out;
}

function isScalar(l: Label): boolean {
  return typeof l === "number" || typeof l === "string";
}

function emptyPerQuery(n: number): PerQueryRetrieval {
  const nan = () => new Float64Array(n).fill(NaN);
  return {
    precisionAt1: nan(),
    precisionAtK: nan(),
    recallAtK: nan(),
    reciprocalRank: nan(),
    rPrecision: nan(),
    mapAtR: nan(),
    mapAtK: nan(),
    ndcgAtK: nan(),
  };
}
