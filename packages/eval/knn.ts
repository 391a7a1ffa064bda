/**
 * Exact k-nearest-neighbour search used by the evaluation metrics: a plain-TS float64
 * reference, or any `Backend` from `@likeness/backend` when one is passed.
 *
 * @module
 */
import { checkOneOf, checkPositiveInt, type Matrix, ShapeError, toMatrix, ValueError } from "@likeness/core";
import { indexOptionsOf } from "./_index_option.ts";
import {
  type Backend,
  createIndex,
  type HnswParams,
  type IndexKind,
  type IndexOptions,
  largerIsCloser,
  MAX_K,
  type Metric,
  METRICS,
  type TopKResult,
  type VectorIndex,
} from "@likeness/backend";

/** The part of a `Backend` that the evaluation needs: exact top-k. */
export type TopKProvider = Pick<Backend, "topk">;

/**
 * Which resident index holds the references: a kind name (`"hnsw"`) or the kind with its
 * parameters (`{ kind: "hnsw", hnsw: { efSearch: 200 } }`, `{ kind: "int8", oversample: 8 }`).
 * `flat` is exact; `hnsw`, `int8` and `binary` are approximate: their neighbours, and so every
 * metric computed from them, can differ from the exact ones (`hnsw` with `efSearch` ≥ the
 * reference count searches every row and gives the exact neighbours).
 */
export type EvalIndexOption = IndexKind | {
  /** Index kind. */
  kind: IndexKind;
  /** `hnsw` parameters (M, efConstruction, efSearch, seed; ranges as in `createIndex`). */
  hnsw?: HnswParams;
  /** `int8` / `binary`: rerank k × oversample candidates in float32. */
  oversample?: number;
};

/** Embeddings as nested rows or a row-major {@link Matrix}. */
export type EmbeddingsInput = number[][] | Matrix;

/** Options for {@link exactKnn}. */
export interface KnnOptions {
  /** Neighbours per query (required, ≤ eligible references). */
  k: number;
  /** Metric (default `cosine`; `dot`/`cosine` are similarities, the rest distances). */
  metric?: Metric;
  /**
   * Query row i is reference row i and must not be its own neighbour (pml's
   * `ref_includes_query`). Requires as many query rows as reference rows. Default false.
   */
  excludeSelf?: boolean;
  /**
   * Anything with the `Backend.topk` method — a `Backend` from `@likeness/backend` or the
   * dense kernels of `@likeness/kernels` — to search with (default: the float64 reference in
   * this package). A full `Backend` (one with `info`) searches through a resident vector index
   * built once for the reference set (`createIndex` of `@likeness/backend`), so the references are
   * copied and normalised once and the queries run in batches on its threads.
   */
  backend?: TopKProvider;
  /**
   * Search the references through a resident index of this kind (built once per call, with the
   * `backend` when it is a full `Backend`): `"flat"` is exact, `"hnsw"` (with `{ kind: "hnsw",
   * hnsw: { M, efConstruction, efSearch, seed } }`), `"int8"` and `"binary"` are **approximate**.
   * Default: no index (the float64 reference, or the backend's flat index).
   */
  index?: EvalIndexOption;
}

/** Query rows per index search (bounds the result lists in WebAssembly memory). */
const INDEX_BATCH_FLOATS = 1 << 24;

/**
 * Value of `metric` between row `i` of `a` and row `j` of `b`, in float64.
 *
 * @param a first matrix
 * @param i row of a
 * @param b second matrix
 * @param j row of b
 * @param metric metric name
 * @returns the similarity (dot, cosine) or distance (l2, sqeuclidean, l1)
 * @example
 * ```ts
 * import { metricValue } from "@likeness/eval";
 * const m = { data: new Float32Array([3, 4, 0, 0]), rows: 2, cols: 2 };
 * console.log(metricValue(m, 0, m, 1, "l2")); // 5
 * ```
 */
export function metricValue(a: Matrix, i: number, b: Matrix, j: number, metric: Metric): number {
  const d = a.cols;
  const ao = i * d;
  const bo = j * d;
  const x = a.data;
  const y = b.data;
  switch (metric) {
    case "dot": {
      let s = 0;
      for (let t = 0; t < d; t++) s += x[ao + t] * y[bo + t];
      return s;
    }
    case "cosine": {
      let s = 0;
      let na = 0;
      let nb = 0;
      for (let t = 0; t < d; t++) {
        s += x[ao + t] * y[bo + t];
        na += x[ao + t] * x[ao + t];
        nb += y[bo + t] * y[bo + t];
      }
      return na === 0 || nb === 0 ? 0 : s / Math.sqrt(na * nb);
    }
    case "l1": {
      let s = 0;
      for (let t = 0; t < d; t++) s += Math.abs(x[ao + t] - y[bo + t]);
      return s;
    }
    default: {
      let s = 0;
      for (let t = 0; t < d; t++) {
        const v = x[ao + t] - y[bo + t];
        s += v * v;
      }
      return metric === "l2" ? Math.sqrt(s) : s;
    }
  }
}

/**
 * Exact top-k neighbours of every query row among the reference rows, best first, ties to the
 * lower reference index. With `excludeSelf`, query i never retrieves reference i. With an
 * approximate `index` option (`"hnsw"`, `"int8"`, `"binary"`) the neighbours are approximate.
 *
 * @param query Q×D query embeddings
 * @param reference R×D reference embeddings
 * @param options k, metric, excludeSelf, backend, index
 * @returns `Q × k` indices and metric values
 * @throws {ShapeError} SHAPE_MISMATCH when column counts differ or excludeSelf with Q ≠ R
 * @throws {ValueError} K_TOO_LARGE when k exceeds the eligible references (or 4096 with an index);
 *   UNKNOWN_NAME for a bad metric or index kind; INVALID_ARGUMENT for index parameters out of range
 * @example
 * ```ts
 * import { exactKnn } from "@likeness/eval";
 * const r = await exactKnn([[0, 1]], [[0, 1], [1, 0]], { k: 1, metric: "cosine" });
 * console.log(r.indices); // Int32Array [0]
 * const h = await exactKnn([[0, 1]], [[0, 1], [1, 0]], { k: 1, index: { kind: "hnsw", hnsw: { efSearch: 16 } } });
 * console.log(h.indices); // Int32Array [0]
 * ```
 */
export async function exactKnn(
  query: EmbeddingsInput,
  reference: EmbeddingsInput,
  options: KnnOptions,
): Promise<TopKResult> {
  const q = toMatrix(query, "query");
  const r = toMatrix(reference, "reference");
  const metric = checkOneOf(options.metric ?? "cosine", METRICS, "metric");
  const k = checkPositiveInt(options.k, "k");
  const excludeSelf = options.excludeSelf ?? false;
  if (q.cols !== r.cols) {
    throw new ShapeError(
      `Cannot search neighbours: query has ${q.cols} columns but reference has ${r.cols}; embed both with the same model`,
    );
  }
  if (excludeSelf && q.rows !== r.rows) {
    throw new ShapeError(
      `Cannot exclude self matches: query has ${q.rows} rows but reference has ${r.rows}; with referenceIncludesQuery ` +
        `query row i must be reference row i (pass the reference as the query)`,
    );
  }
  const eligible = r.rows - (excludeSelf ? 1 : 0);
  if (k > eligible) {
    throw new ValueError(
      "K_TOO_LARGE",
      `Cannot retrieve k=${k} neighbours: only ${eligible} eligible references; lower k to at most ${eligible}`,
      { details: { k, eligible } },
    );
  }
  if (options.index !== undefined) {
    const index = indexOptionsOf(options.index);
    const backend = options.backend && "info" in options.backend ? options.backend as Backend : undefined;
    return await indexKnn({ ...index, dim: r.cols, metric, capacity: r.rows }, backend, q, r, k, excludeSelf);
  }
  if (options.backend) return await backendKnn(options.backend, q, r, metric, k, excludeSelf);
  return referenceKnn(q, r, metric, k, excludeSelf);
}

/** One query row against every reference row, in float64, into `out`. */
function rowValues(
  q: Matrix,
  i: number,
  r: Matrix,
  metric: Metric,
  refNorms: Float64Array | null,
  out: Float64Array,
): void {
  const d = q.cols;
  const x = q.data;
  const y = r.data;
  const qo = i * d;
  let qn = 0;
  if (metric === "cosine") {
    for (let t = 0; t < d; t++) qn += x[qo + t] * x[qo + t];
    qn = Math.sqrt(qn);
  }
  for (let j = 0, ro = 0; j < r.rows; j++, ro += d) {
    let s = 0;
    if (metric === "dot" || metric === "cosine") {
      for (let t = 0; t < d; t++) s += x[qo + t] * y[ro + t];
      if (metric === "cosine") {
        const den = qn * refNorms![j];
        s = den === 0 ? 0 : s / den;
      }
    } else if (metric === "l1") {
      for (let t = 0; t < d; t++) s += Math.abs(x[qo + t] - y[ro + t]);
    } else {
      for (let t = 0; t < d; t++) {
        const v = x[qo + t] - y[ro + t];
        s += v * v;
      }
      if (metric === "l2") s = Math.sqrt(s);
    }
    out[j] = s;
  }
}

/** Rearrange `idx[lo..hi]` so that its first `k` entries are the k best (unordered). */
function selectBest(idx: Int32Array, k: number, before: (a: number, b: number) => number): void {
  let lo = 0;
  let hi = idx.length - 1;
  while (hi > lo) {
    const pivot = idx[(lo + hi) >>> 1];
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (before(idx[i], pivot) < 0) i++;
      while (before(idx[j], pivot) > 0) j--;
      if (i <= j) {
        const t = idx[i];
        idx[i] = idx[j];
        idx[j] = t;
        i++;
        j--;
      }
    }
    if (k - 1 <= j) hi = j;
    else if (k - 1 >= i) lo = i;
    else return;
  }
}

function referenceKnn(q: Matrix, r: Matrix, metric: Metric, k: number, excludeSelf: boolean): TopKResult {
  const larger = largerIsCloser(metric);
  const indices = new Int32Array(q.rows * k);
  const values = new Float32Array(q.rows * k);
  const rowVals = new Float64Array(r.rows);
  let refNorms: Float64Array | null = null;
  if (metric === "cosine") {
    refNorms = new Float64Array(r.rows);
    for (let j = 0; j < r.rows; j++) {
      let s = 0;
      for (let t = 0; t < r.cols; t++) s += r.data[j * r.cols + t] ** 2;
      refNorms[j] = Math.sqrt(s);
    }
  }
  // Better value first, ties to the lower index; the excluded self index sorts last.
  let self = -1;
  const before = (a: number, b: number) => {
    if (a === self || b === self) return a === b ? 0 : a === self ? 1 : -1;
    return (larger ? rowVals[b] - rowVals[a] : rowVals[a] - rowVals[b]) || a - b;
  };
  const order = new Int32Array(r.rows);
  for (let i = 0; i < q.rows; i++) {
    rowValues(q, i, r, metric, refNorms, rowVals);
    self = excludeSelf ? i : -1;
    for (let j = 0; j < r.rows; j++) order[j] = j;
    if (k < r.rows) selectBest(order, k, before);
    const best = order.subarray(0, k).sort(before);
    for (let t = 0; t < k; t++) {
      indices[i * k + t] = best[t];
      values[i * k + t] = rowVals[best[t]];
    }
  }
  return { indices, values, rows: q.rows, k };
}

async function backendKnn(
  backend: TopKProvider,
  q: Matrix,
  r: Matrix,
  metric: Metric,
  k: number,
  excludeSelf: boolean,
): Promise<TopKResult> {
  if ("info" in backend && k <= MAX_K) {
    return await indexKnn({ dim: r.cols, metric, capacity: r.rows }, backend as Backend, q, r, k, excludeSelf);
  }
  if (!excludeSelf) return await backend.topk(q, r, { k, metric });
  return dropSelf(await backend.topk(q, r, { k: k + 1, metric }), k, true);
}

/** The references in a resident index of the given kind, searched for every query, then disposed. */
async function indexKnn(
  options: IndexOptions,
  backend: Backend | undefined,
  q: Matrix,
  r: Matrix,
  k: number,
  excludeSelf: boolean,
): Promise<TopKResult> {
  // Kinds without `exclude` search k + 1 and drop the query's own row.
  const wide = excludeSelf && options.kind !== undefined && options.kind !== "flat";
  const kk = wide ? k + 1 : k;
  if (kk > MAX_K) {
    throw new ValueError(
      "K_TOO_LARGE",
      `Cannot search a ${options.kind} index for k=${kk}: at most ${MAX_K}; lower k or leave out the index option`,
      { details: { k: kk, max: MAX_K } },
    );
  }
  const index = await createIndex(options, backend);
  try {
    await index.add(r);
    const out = await searchAll(index, q, kk, excludeSelf && !wide);
    return wide ? dropSelf(out, k, true) : out;
  } finally {
    index.dispose();
  }
}

/**
 * Search every query row (in batches), as a `TopKResult` with reference positions as indices (the
 * index assigns ids 0, 1, ... in add order). With `excludeSelf` (flat kind), query row i skips id
 * i inside the kernel's scan.
 */
async function searchAll(index: VectorIndex, q: Matrix, k: number, excludeSelf: boolean): Promise<TopKResult> {
  const batch = Math.max(1, Math.floor(INDEX_BATCH_FLOATS / (2 * k)));
  const part = (i0: number, i1: number) =>
    index.search({ data: q.data.subarray(i0 * q.cols, i1 * q.cols), rows: i1 - i0, cols: q.cols }, {
      k,
      exclude: excludeSelf ? Int32Array.from({ length: i1 - i0 }, (_, t) => i0 + t) : undefined,
    });
  if (q.rows <= batch) {
    const r = await part(0, q.rows);
    return { indices: r.ids, values: r.values, rows: q.rows, k };
  }
  const indices = new Int32Array(q.rows * k);
  const values = new Float32Array(q.rows * k);
  for (let i0 = 0; i0 < q.rows; i0 += batch) {
    const i1 = Math.min(q.rows, i0 + batch);
    const r = await part(i0, i1);
    indices.set(r.ids, i0 * k);
    values.set(r.values, i0 * k);
  }
  return { indices, values, rows: q.rows, k };
}

/** From `k + 1` neighbours per query, drop query i's own index i (or the last one when it is absent). */
function dropSelf(wide: TopKResult, k: number, excludeSelf: boolean): TopKResult {
  if (!excludeSelf) return wide;
  const q = { rows: wide.rows };
  const indices = new Int32Array(q.rows * k);
  const values = new Float32Array(q.rows * k);
  for (let i = 0; i < q.rows; i++) {
    let t = 0;
    for (let s = 0; s <= k && t < k; s++) {
      const j = wide.indices[i * (k + 1) + s];
      if (j === i) continue;
      indices[i * k + t] = j;
      values[i * k + t] = wide.values[i * (k + 1) + s];
      t++;
    }
  }
  return { indices, values, rows: q.rows, k };
}
