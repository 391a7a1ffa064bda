// Retrieval-metric kernels, SIMD build. Same export and memory contract as scalar.ts (see
// README.md), identical results: each row is scanned 16 ranks at a time (i8x16 compare and
// bitmask); hits are popcounts and the MAP@R sum visits only the set bits, in rank order.
// The tail (k mod 16) is scalar.

/** Averaged retrieval metrics; see scalar.ts for the layout of `out`. */
export function retrieval_metrics(relevant: usize, counts: usize, q: i32, k: i32, out: usize): void {
  const zero = i8x16.splat(0);
  const k16 = k & ~15;
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
    let j = 0;
    for (; j < k16; j += 16) {
      let bits = i8x16.bitmask(i8x16.ne(v128.load(row + <usize> j), zero));
      if (bits == 0) continue;
      hits += popcnt(bits);
      if (first < 0) first = j + ctz(bits);
      while (bits != 0) {
        const at = j + ctz(bits);
        if (at >= r) break;
        bits &= bits - 1;
        hitsAtR++;
        ap += <f64> hitsAtR / <f64> (at + 1);
      }
    }
    for (; j < k; j++) {
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
