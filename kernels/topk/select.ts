// deno-fmt-ignore-file (AssemblyScript: deno fmt would drop the @inline decorators)
// Bounded top-k selection shared by the scalar and SIMD builds: a threshold buffer with radix
// partial selection.
//
// Each query row owns a buffer of 2k (key, index) slots plus one control slot (row stride
// s = 2k + 1): keys at vals + row·s·4, indices at idx + row·s·4; slot 2k holds the threshold T
// (keys) and the count n (indices). Keys are the metric values, negated when the largest values
// are wanted, so the buffer always keeps the k smallest keys. A candidate is appended when its key
// is strictly below T (references are visited in increasing index order, so an equal key is a
// later, worse candidate): rejection costs one comparison, acceptance one store. The buffer stays
// in increasing index order. When it is full, a radix selection over the keys' order-preserving
// bit patterns (8-bit digits from the top, stopping at the first digit that separates the k best)
// finds the k best, and a stable filter keeps them (so among equal keys the lower indices stay) and
// sets T to the largest kept key: O(2k) branch-light work per k acceptances, so the cost per
// reference stays O(1) amortised for any k. `topkFinish` keeps the k best, sorts them with a
// stable LSD radix sort (ties keep index order, so the lower index comes first) and writes the
// metric values (the key, negated back when `largest`): the first k slots of each row hold the
// result, best first, padding (NaN, -1) last.
// The SIMD build tests four keys against T at once and skips groups with no candidate.
// `hist` is TOPK_WORK_BYTES of memory private to the calling thread (digit histograms).

/** Bytes of the histograms (four copies of 257 counters, rounded to 16) in the per-thread work memory. */
export const TOPK_HIST_BYTES: i32 = 4128;
/** Bytes of the full-row score area after the histograms (see `fullRowGroup`). */
export const TOPK_ROWS_BYTES: i32 = 1 << 20;
/** Bytes of per-thread work memory `topk` needs after the pairwise scratch. */
export const TOPK_WORK_BYTES: i32 = TOPK_HIST_BYTES + TOPK_ROWS_BYTES;

/** Row stride (slots) of the buffers for k. */
export function topkStride(k: i32): i32 {
  return 2 * k + 1;
}

/** Bytes of per-thread work memory `topk` needs (histograms, then the full-row score area). */
export function topkWorkBytes(): i32 {
  return TOPK_WORK_BYTES;
}

/** Query rows per group of the streaming mode: their buffers (16·k bytes each) fit in about 512 KiB. */
export function topkGroupRows(k: i32): i32 {
  return max(2, (524288 / (k << 4)) & ~1);
}

/** Empty the buffers of rows [i0, i1) (threshold +Infinity, count 0). */
export function topkInit(vals: usize, idx: usize, k: i32, i0: i32, i1: i32): void {
  const sb = <usize> (2 * k + 1) << 2;
  const cb = <usize> (2 * k) << 2;
  for (let i = i0; i < i1; i++) {
    store<f32>(vals + <usize> i * sb + cb, Infinity);
    store<i32>(idx + <usize> i * sb + cb, 0);
  }
}

// Order-preserving unsigned image of a (non-NaN) key; -0 maps like +0, so they tie as `<` does.
// @ts-ignore: decorator
@inline function sortable(key: f32): u32 {
  let b = reinterpret<u32>(key);
  b = select<u32>(0, b, b == 0x80000000);
  return b ^ (<u32> (<i32> b >> 31) | 0x80000000);
}

// Slots a compaction kept (set by compactRow; a global is private to each thread's instance).
let kept: i32 = 0;

// Histogram bins of one selection pass.
const BINS: i32 = 256;

// Bucket of a key in the range starting at fa (clamped to [0, BINS), so keys outside the range
// land on an edge bucket; callers mask them out).
// @ts-ignore: decorator
@inline function bucket(key: f32, fa: f64, scale: f64): i32 {
  return <i32> min<f64>(<f64> (BINS - 1), max<f64>(0, (<f64> key - fa) * scale));
}

// Keep the m best (m < n) of slots [0, n), or up to m + slack of the best when that saves
// passes, in their order (stable); sets `kept` and returns the largest kept key.
// Selection by value buckets: the keys' range [a, b] is cut into BINS equal buckets (float64
// arithmetic, monotonic in the key, so equal keys share a bucket); one histogram pass finds the
// bucket holding the m-th best. When every key up to that bucket fits m + slack, those are kept;
// otherwise the range narrows to that bucket's keys and the pass repeats (at least two buckets
// hold keys, so it ends); a range of one value keeps its lowest-index slots (ties to the lower
// index). Branch-free inner loops.
function compactRow(v: usize, x: usize, n: i32, m: i32, slack: i32, hist: usize): f32 {
  let a: f32 = Infinity;
  let b: f32 = -Infinity;
  let p = 0;
  if (ASC_FEATURE_SIMD) {
    let a4 = f32x4.splat(Infinity);
    let b4 = f32x4.splat(-Infinity);
    for (; p + 4 <= n; p += 4) {
      const k4 = v128.load(v + (<usize> p << 2));
      a4 = f32x4.min(a4, k4);
      b4 = f32x4.max(b4, k4);
    }
    a = min<f32>(min<f32>(f32x4.extract_lane(a4, 0), f32x4.extract_lane(a4, 1)), min<f32>(f32x4.extract_lane(a4, 2), f32x4.extract_lane(a4, 3)));
    b = max<f32>(max<f32>(f32x4.extract_lane(b4, 0), f32x4.extract_lane(b4, 1)), max<f32>(f32x4.extract_lane(b4, 2), f32x4.extract_lane(b4, 3)));
  }
  for (; p < n; p++) {
    const key = load<f32>(v + (<usize> p << 2));
    a = min<f32>(a, key);
    b = max<f32>(b, key);
  }
  let below = 0;
  if (a == -Infinity) {
    // -Infinity keys (an overflowed `largest` dot product): counted below a finite range.
    let a2: f32 = Infinity;
    for (let q = 0; q < n; q++) {
      const key = load<f32>(v + (<usize> q << 2));
      below += <i32> (key == -Infinity);
      a2 = select<f32>(a2, min<f32>(a2, key), key == -Infinity);
    }
    if (below >= m || a2 == Infinity) {
      below = 0;
      b = a;
    } else {
      a = a2;
    }
  }
  let bin = 0;
  let fits = false;
  let scale: f64 = 0;
  while (a < b) {
    scale = <f64> BINS / (<f64> b - <f64> a);
    const fa = <f64> a;
    memory.fill(hist, 0, <usize> BINS << 2);
    for (let q = 0; q < n; q++) {
      const key = load<f32>(v + (<usize> q << 2));
      const h = hist + (<usize> bucket(key, fa, scale) << 2);
      store<i32>(h, load<i32>(h) + (<i32> (key >= a) & <i32> (key <= b)));
    }
    let c = below;
    let j = 0;
    let inBin = 0;
    for (;; j++) {
      inBin = load<i32>(hist + (<usize> j << 2));
      if (c + inBin >= m) break;
      c += inBin;
    }
    below = c;
    bin = j;
    if (below + inBin <= m + slack) {
      fits = true;
      break;
    }
    // Narrow to the keys of bucket j.
    let na: f32 = Infinity;
    let nb: f32 = -Infinity;
    for (let q = 0; q < n; q++) {
      const key = load<f32>(v + (<usize> q << 2));
      const inj = (<i32> (key >= a) & <i32> (key <= b) & <i32> (bucket(key, fa, scale) == j)) != 0;
      na = select<f32>(min<f32>(na, key), na, inj);
      nb = select<f32>(max<f32>(nb, key), nb, inj);
    }
    a = na;
    b = nb;
  }
  // Keep keys below a; then either the keys of [a, b] up to bucket `bin` (fits) or, when one
  // value is left (a == b), its first m - below slots.
  const need = m - below;
  const fa = <f64> a;
  let w = 0;
  let eq = 0;
  let t: f32 = -Infinity;
  for (let q = 0; q < n; q++) {
    const key = load<f32>(v + (<usize> q << 2));
    let take: i32;
    if (fits) {
      take = <i32> (key < a) | (<i32> (key <= b) & <i32> (bucket(key, fa, scale) <= bin));
    } else {
      const same = <i32> (key == a);
      take = <i32> (key < a) | (same & <i32> (eq < need));
      eq += same;
    }
    store<f32>(v + (<usize> w << 2), key);
    store<i32>(x + (<usize> w << 2), load<i32>(x + (<usize> q << 2)));
    t = select<f32>(max<f32>(t, key), t, take != 0);
    w += take;
  }
  kept = w;
  return t;
}

/**
 * Query rows per group in full-row mode for nr references and k, or 0 for streaming mode. Full
 * rows pay when k is a sizeable share of the references (k ≥ nr / 32): each row's scores are kept
 * whole (`TOPK_ROWS_BYTES` per thread for the group), a histogram of them gives a threshold that
 * lets about k + 2 buckets' worth of candidates in, and no compaction runs.
 */
export function fullRowGroup(nr: i32, k: i32): i32 {
  if (<i64> k * 32 < <i64> nr) return 0;
  const g = min<i32>(32, TOPK_ROWS_BYTES / max<i32>(1, nr << 2)) & ~1;
  return g >= 2 ? g : 0;
}

/**
 * Prepare one full row of values (`row`, nr floats) for `topkSelect` from a threshold: mask the
 * ineligible and excluded references (their value becomes the worst, never taken) and return a
 * key threshold T such that at least min(k, takeable) keys lie below it (+Infinity when the
 * histogram cannot tell: non-finite keys, or fewer than k takeable). `hist`: TOPK_HIST_BYTES.
 */
export function rowThreshold(row: usize, nr: i32, k: i32, largest: i32, elig: usize, skip: i32, hist: usize): f32 {
  const sign: f32 = largest ? -1 : 1;
  const worst: f32 = largest ? -Infinity : Infinity;
  if (elig != 0) {
    for (let j = 0; j < nr; j++) {
      const at = row + (<usize> j << 2);
      store<f32>(at, select<f32>(load<f32>(at), worst, load<u8>(elig + <usize> j) != 0));
    }
  }
  if (skip >= 0 && skip < nr) store<f32>(row + (<usize> skip << 2), worst);
  // Range of the finite keys (keys are sign × value; +Infinity keys are never taken).
  let a: f32 = Infinity;
  let b: f32 = -Infinity;
  let j = 0;
  if (ASC_FEATURE_SIMD) {
    const s4 = f32x4.splat(sign);
    const inf4 = f32x4.splat(Infinity);
    let a4 = inf4;
    let b4 = f32x4.splat(-Infinity);
    for (; j + 4 <= nr; j += 4) {
      const k4 = f32x4.mul(s4, v128.load(row + (<usize> j << 2)));
      a4 = f32x4.min(a4, k4);
      b4 = f32x4.max(b4, v128.bitselect(k4, f32x4.splat(-Infinity), f32x4.ne(k4, inf4)));
    }
    a = min<f32>(min<f32>(f32x4.extract_lane(a4, 0), f32x4.extract_lane(a4, 1)), min<f32>(f32x4.extract_lane(a4, 2), f32x4.extract_lane(a4, 3)));
    b = max<f32>(max<f32>(f32x4.extract_lane(b4, 0), f32x4.extract_lane(b4, 1)), max<f32>(f32x4.extract_lane(b4, 2), f32x4.extract_lane(b4, 3)));
  }
  for (; j < nr; j++) {
    const key = sign * load<f32>(row + (<usize> j << 2));
    a = min<f32>(a, key);
    b = select<f32>(max<f32>(b, key), b, key != Infinity);
  }
  // NaN or infinite ends, or a single value: no threshold.
  if (!(a > -Infinity) || !(b < Infinity) || !(a < b)) return Infinity;
  const scale = <f32> BINS / (b - a);
  if (!(scale < Infinity)) return Infinity;
  memory.fill(hist, 0, TOPK_HIST_BYTES);
  j = 0;
  if (ASC_FEATURE_SIMD) {
    const s4 = f32x4.splat(sign);
    const a4 = f32x4.splat(a);
    const c4 = f32x4.splat(scale);
    const top = i32x4.splat(BINS);
    for (; j + 4 <= nr; j += 4) {
      const k4 = f32x4.mul(s4, v128.load(row + (<usize> j << 2)));
      // Bucket, or BINS for keys outside [a, b] (+Infinity, the masked ones): not counted.
      const ok = v128.and(f32x4.ge(k4, a4), f32x4.le(k4, f32x4.splat(b)));
      let bk = i32x4.min_s(i32x4.trunc_sat_f32x4_s(f32x4.mul(f32x4.sub(k4, a4), c4)), i32x4.splat(BINS - 1));
      bk = v128.bitselect(bk, top, ok);
      const h0 = hist + (<usize> i32x4.extract_lane(bk, 0) << 2);
      store<i32>(h0, load<i32>(h0) + 1);
      const h1 = hist + 1028 + (<usize> i32x4.extract_lane(bk, 1) << 2);
      store<i32>(h1, load<i32>(h1) + 1);
      const h2 = hist + 2056 + (<usize> i32x4.extract_lane(bk, 2) << 2);
      store<i32>(h2, load<i32>(h2) + 1);
      const h3 = hist + 3084 + (<usize> i32x4.extract_lane(bk, 3) << 2);
      store<i32>(h3, load<i32>(h3) + 1);
    }
  }
  for (; j < nr; j++) {
    const key = sign * load<f32>(row + (<usize> j << 2));
    const ok = (key >= a) & (key <= b);
    const bk = ok ? min<i32>(BINS - 1, <i32> ((key - a) * scale)) : BINS;
    const h = hist + (<usize> bk << 2);
    store<i32>(h, load<i32>(h) + 1);
  }
  // Copies at byte offsets 0, 1028, 2056, 3084 hold BINS + 1 counters each (the last: not counted).
  let c = 0;
  for (let q = 0; q < BINS; q++) {
    const at = hist + (<usize> q << 2);
    c += load<i32>(at) + load<i32>(at + 1028) + load<i32>(at + 2056) + load<i32>(at + 3084);
    // One bucket of margin beyond the one holding the k-th key.
    if (c >= k) return q + 2 >= BINS ? Infinity : a + <f32> (q + 2) / scale;
  }
  return Infinity;
}

/**
 * Merge a block of computed values into the buffers. `block` holds rows [i0, i1) of values for
 * references [j0, j1) with row stride `ldb` floats. `elig` (0 = everyone) is one byte per
 * reference, non-zero when eligible. `excl` (0 = none) holds one int32 per query row: a reference
 * index (minus `exclBase`) that row never takes (its own row when queries are the references).
 */
export function topkSelect(
  block: usize,
  ldb: i32,
  i0: i32,
  i1: i32,
  j0: i32,
  j1: i32,
  elig: usize,
  k: i32,
  largest: i32,
  vals: usize,
  idx: usize,
  excl: usize,
  exclBase: i32,
  hist: usize,
): void {
  const sb = <usize> (2 * k + 1) << 2;
  const cb = <usize> (2 * k) << 2;
  const cap = 2 * k;
  // A compaction may keep up to k + k/4 (fewer passes); the buffer still frees >= 3k/4 slots.
  const slack = k >> 2;
  const sign: f32 = largest ? -1 : 1;
  for (let i = i0; i < i1; i++) {
    const v = vals + <usize> i * sb;
    const x = idx + <usize> i * sb;
    const row = block + <usize> (i - i0) * (<usize> ldb << 2);
    const skip = excl != 0 ? load<i32>(excl + (<usize> i << 2)) - exclBase : -1;
    let t = load<f32>(v + cb);
    let n = load<i32>(x + cb);
    let j = j0;
    if (ASC_FEATURE_SIMD) {
      const s4 = f32x4.splat(sign);
      for (; j + 4 <= j1; j += 4) {
        const keys = f32x4.mul(s4, v128.load(row + (<usize> (j - j0) << 2)));
        if (!v128.any_true(f32x4.lt(keys, f32x4.splat(t)))) continue;
        for (let u = 0; u < 4; u++) {
          const key = sign * load<f32>(row + (<usize> (j + u - j0) << 2));
          if (key < t) {
            if (elig != 0 && load<u8>(elig + <usize> (j + u)) == 0) continue;
            if (j + u == skip) continue;
            store<f32>(v + (<usize> n << 2), key);
            store<i32>(x + (<usize> n << 2), j + u);
            if (++n == cap) {
              t = compactRow(v, x, n, k, slack, hist);
              n = kept;
            }
          }
        }
      }
    }
    for (; j < j1; j++) {
      const key = sign * load<f32>(row + (<usize> (j - j0) << 2));
      if (key < t) {
        if (elig != 0 && load<u8>(elig + <usize> j) == 0) continue;
        if (j == skip) continue;
        store<f32>(v + (<usize> n << 2), key);
        store<i32>(x + (<usize> n << 2), j);
        if (++n == cap) {
          t = compactRow(v, x, n, k, slack, hist);
          n = kept;
        }
      }
    }
    store<f32>(v + cb, t);
    store<i32>(x + cb, n);
  }
}

/**
 * Top-k of query row i from its full row of values (`row`, nr floats; changed in place): a
 * histogram threshold, one `topkSelect` pass (again with no threshold in the rare case the
 * threshold let fewer than k in) and `topkFinish`. `hist`: TOPK_HIST_BYTES.
 */
export function topkRow(
  row: usize,
  nr: i32,
  i: i32,
  elig: usize,
  k: i32,
  largest: i32,
  vals: usize,
  idx: usize,
  excl: usize,
  exclBase: i32,
  hist: usize,
): void {
  const skip = excl != 0 ? load<i32>(excl + (<usize> i << 2)) - exclBase : -1;
  const t = rowThreshold(row, nr, k, largest, elig, skip, hist);
  const sb = <usize> (2 * k + 1) << 2;
  const cb = <usize> (2 * k) << 2;
  const v = vals + <usize> i * sb;
  const x = idx + <usize> i * sb;
  store<f32>(v + cb, t);
  store<i32>(x + cb, 0);
  topkSelect(row, nr, i, i + 1, 0, nr, 0, k, largest, vals, idx, 0, 0, hist);
  if (t != Infinity && load<i32>(x + cb) < k) {
    store<f32>(v + cb, Infinity);
    store<i32>(x + cb, 0);
    topkSelect(row, nr, i, i + 1, 0, nr, 0, k, largest, vals, idx, 0, 0, hist);
  }
  const n = load<i32>(x + cb);
  if (2 * n <= nr) {
    // The row's values are spent: sort every candidate with the row as scratch, keep the first k.
    sortSlots(v, x, n, row, row + (<usize> n << 2), hist);
    emit(v, x, min<i32>(n, k), k, largest);
  } else {
    topkFinish(vals, idx, k, largest, i, i + 1, hist);
  }
}

// Stable insertion sort of slots [0, n) by key (an equal key stays behind, as `<` ties -0 and +0).
function insertionSort(v: usize, x: usize, n: i32): void {
  for (let p = 1; p < n; p++) {
    const key = load<f32>(v + (<usize> p << 2));
    const j = load<i32>(x + (<usize> p << 2));
    let q = p;
    while (q > 0) {
      const prev = load<f32>(v + (<usize> (q - 1) << 2));
      if (!(key < prev)) break;
      store<f32>(v + (<usize> q << 2), prev);
      store<i32>(x + (<usize> q << 2), load<i32>(x + (<usize> (q - 1) << 2)));
      q--;
    }
    store<f32>(v + (<usize> q << 2), key);
    store<i32>(x + (<usize> q << 2), j);
  }
}

// Stable LSD radix sort of slots [0, n) on `sortable` keys (four 8-bit digits; a digit that every
// key shares is skipped), with n slots at tv/tx as the second buffer.
function radixSort(v: usize, x: usize, n: i32, tv: usize, tx: usize, hist: usize): void {
  memory.fill(hist, 0, 4096);
  for (let p = 0; p < n; p++) {
    const u = sortable(load<f32>(v + (<usize> p << 2)));
    for (let d = 0; d < 4; d++) {
      const h = hist + (<usize> d << 10) + (<usize> ((u >> (d << 3)) & 255) << 2);
      store<i32>(h, load<i32>(h) + 1);
    }
  }
  const u0 = sortable(load<f32>(v));
  let sv = v, sx = x;
  let dv = tv, dx = tx;
  for (let d = 0; d < 4; d++) {
    const h = hist + (<usize> d << 10);
    const shift = d << 3;
    if (load<i32>(h + (<usize> ((u0 >> shift) & 255) << 2)) == n) continue;
    let sum = 0;
    for (let b = 0; b < 256; b++) {
      const c = load<i32>(h + (<usize> b << 2));
      store<i32>(h + (<usize> b << 2), sum);
      sum += c;
    }
    for (let p = 0; p < n; p++) {
      const key = load<f32>(sv + (<usize> p << 2));
      const hb = h + (<usize> ((sortable(key) >> shift) & 255) << 2);
      const o = load<i32>(hb);
      store<i32>(hb, o + 1);
      store<f32>(dv + (<usize> o << 2), key);
      store<i32>(dx + (<usize> o << 2), load<i32>(sx + (<usize> p << 2)));
    }
    const tv2 = sv, tx2 = sx;
    sv = dv;
    sx = dx;
    dv = tv2;
    dx = tx2;
  }
  if (sv != v) {
    memory.copy(v, sv, <usize> n << 2);
    memory.copy(x, sx, <usize> n << 2);
  }
}

// Stable sort of slots [0, n) by key (slots in index order, so ties end up lowest index first),
// with n slots at tv/tx as scratch. Value buckets (BINS over the keys' range, a stable scatter),
// then one insertion sort, which only moves keys within their bucket; a bucket with many keys
// (a skewed range) or a non-finite key takes the radix sort instead.
function sortSlots(v: usize, x: usize, n: i32, tv: usize, tx: usize, hist: usize): void {
  if (n <= 24) {
    insertionSort(v, x, n);
    return;
  }
  let a: f32 = Infinity;
  let b: f32 = -Infinity;
  for (let p = 0; p < n; p++) {
    const key = load<f32>(v + (<usize> p << 2));
    a = min<f32>(a, key);
    b = max<f32>(b, key);
  }
  if (!(a < b)) return; // one value: index order is the order
  if (!(a > -Infinity)) {
    radixSort(v, x, n, tv, tx, hist);
    return;
  }
  const fa = <f64> a;
  const scale = <f64> BINS / (<f64> b - fa);
  memory.fill(hist, 0, <usize> BINS << 2);
  for (let p = 0; p < n; p++) {
    const h = hist + (<usize> bucket(load<f32>(v + (<usize> p << 2)), fa, scale) << 2);
    store<i32>(h, load<i32>(h) + 1);
  }
  let sum = 0;
  let most = 0;
  for (let q = 0; q < BINS; q++) {
    const c = load<i32>(hist + (<usize> q << 2));
    store<i32>(hist + (<usize> q << 2), sum);
    sum += c;
    most = max<i32>(most, c);
  }
  if (most > 48) {
    radixSort(v, x, n, tv, tx, hist);
    return;
  }
  for (let p = 0; p < n; p++) {
    const key = load<f32>(v + (<usize> p << 2));
    const h = hist + (<usize> bucket(key, fa, scale) << 2);
    const o = load<i32>(h);
    store<i32>(h, o + 1);
    store<f32>(tv + (<usize> o << 2), key);
    store<i32>(tx + (<usize> o << 2), load<i32>(x + (<usize> p << 2)));
  }
  insertionSort(tv, tx, n);
  memory.copy(v, tv, <usize> n << 2);
  memory.copy(x, tx, <usize> n << 2);
}

// Slots [0, n) sorted: write k places of metric values (`-key` when `largest`), NaN / -1 past n.
function emit(v: usize, x: usize, n: i32, k: i32, largest: i32): void {
  if (largest) {
    for (let p = 0; p < n; p++) store<f32>(v + (<usize> p << 2), -load<f32>(v + (<usize> p << 2)));
  }
  for (let p = n; p < k; p++) {
    store<f32>(v + (<usize> p << 2), NaN);
    store<i32>(x + (<usize> p << 2), -1);
  }
}

/**
 * Keep the k best of rows [i0, i1), sort them in place (best first, ties to the lower index) and
 * write their metric values (`-key` when `largest`); places past the candidates get NaN / -1.
 */
export function topkFinish(vals: usize, idx: usize, k: i32, largest: i32, i0: i32, i1: i32, hist: usize): void {
  const sb = <usize> (2 * k + 1) << 2;
  const cb = <usize> (2 * k) << 2;
  for (let i = i0; i < i1; i++) {
    const v = vals + <usize> i * sb;
    const x = idx + <usize> i * sb;
    let n = load<i32>(x + cb);
    if (n > k) {
      compactRow(v, x, n, k, 0, hist);
      n = k;
    }
    sortSlots(v, x, n, v + (<usize> k << 2), x + (<usize> k << 2), hist);
    emit(v, x, n, k, largest);
  }
}
