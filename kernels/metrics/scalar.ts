// Retrieval-metric kernels, scalar build. Memory contract in README.md: `relevant` is Q×k u8
// row-major (non-zero = the neighbour at that rank is relevant), `counts` is Q i32 (R per
// query), `out` receives 6 f64: precision@k, recall@k, MRR, R-precision, MAP@R (each averaged
// over queries with R > 0) and that number of queries. The caller guarantees k >= R.

/** Averaged retrieval metrics; see the file header for the layout of `out`. */
export function retrieval_metrics(relevant: usize, counts: usize, q: i32, k: i32, out: usize): void {
  let precision: f64 = 0;
  let recall: f64 = 0;
  let mrr: f64 = 0;
  let rPrecision: f64 = 0;
  let mapAtR: f64 = 0;
  let queries = 0;
  for (let i = 0; i < q; i++) {
    const r = load<i32>(counts + (<usize> i << 2));
    if (r <= 0) continue;
    queries++;
    const row = relevant + <usize> i * <usize> k;
    let hits = 0;
    let hitsAtR = 0;
    let first = -1;
    let ap: f64 = 0;
    for (let j = 0; j < k; j++) {
      if (load<u8>(row + <usize> j) == 0) continue;
      hits++;
      if (first < 0) first = j;
      if (j < r) {
        hitsAtR++;
        ap += <f64> hitsAtR / <f64> (j + 1);
      }
    }
    precision += <f64> hits / <f64> k;
    recall += hits > 0 ? 1 : 0;
    mrr += first >= 0 ? 1 / <f64> (first + 1) : 0;
    rPrecision += <f64> hitsAtR / <f64> r;
    mapAtR += ap / <f64> r;
  }
  const n = <f64> queries;
  const scale: f64 = queries > 0 ? 1 : 0;
  const d: f64 = queries > 0 ? n : 1;
  store<f64>(out, (precision / d) * scale);
  store<f64>(out + 8, (recall / d) * scale);
  store<f64>(out + 16, (mrr / d) * scale);
  store<f64>(out + 24, (rPrecision / d) * scale);
  store<f64>(out + 32, (mapAtR / d) * scale);
  store<f64>(out + 40, n);
}
