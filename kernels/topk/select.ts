// deno-fmt-ignore-file (AssemblyScript: deno fmt would drop the @inline decorators)
// Bounded top-k selection shared by the scalar and SIMD builds: a threshold buffer with partial
// selection.
//
// Each query row owns a buffer of 2k (key, index) slots plus one control slot (row stride
// s = 2k + 1): keys at vals + row·s·4, indices at idx + row·s·4; slot 2k holds the threshold T
// (keys) and the count n (indices). Keys are the metric values, negated when the largest values
// are wanted, so the buffer always keeps the k smallest keys. A candidate is appended when its key
// is strictly below T (references are visited in increasing index order, so an equal key is a
// later, worse candidate): rejection costs one comparison, acceptance one store. When the buffer
// is full, a partial selection (quickselect on (key, index)) keeps the k best and sets T to the
// largest kept key: O(2k) work per k acceptances, so the cost per reference stays O(1) amortised
// for any k. `topkFinish` keeps the k best and sorts them in place: the first k slots of each row
// hold the result, best first, ties to the lower index, padding (+Inf, -1) last.
// The SIMD build tests four keys against T at once and skips groups with no candidate.

/** Row stride (slots) of the buffers for k. */
export function topkStride(k: i32): i32 {
  return 2 * k + 1;
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

// (ka, ia) before (kb, ib): smaller key, or equal key and smaller index.
// @ts-ignore: decorator
@inline function before(ka: f32, ia: i32, kb: f32, ib: i32): bool {
  return ka < kb || (ka == kb && ia < ib);
}

// @ts-ignore: decorator
@inline function swap(v: usize, x: usize, a: i32, b: i32): void {
  const pa = <usize> a << 2, pb = <usize> b << 2;
  const ka = load<f32>(v + pa), ia = load<i32>(x + pa);
  store<f32>(v + pa, load<f32>(v + pb));
  store<i32>(x + pa, load<i32>(x + pb));
  store<f32>(v + pb, ka);
  store<i32>(x + pb, ia);
}

// Rearrange slots [0, n) so that the m best (m < n) are in [0, m), in any order.
function selectBest(v: usize, x: usize, n: i32, m: i32): void {
  let lo = 0, hi = n - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const pk = load<f32>(v + (<usize> mid << 2)), pi = load<i32>(x + (<usize> mid << 2));
    let i = lo, j = hi;
    while (i <= j) {
      while (before(load<f32>(v + (<usize> i << 2)), load<i32>(x + (<usize> i << 2)), pk, pi)) i++;
      while (before(pk, pi, load<f32>(v + (<usize> j << 2)), load<i32>(x + (<usize> j << 2)))) j--;
      if (i <= j) {
        swap(v, x, i, j);
        i++;
        j--;
      }
    }
    if (m - 1 <= j) hi = j;
    else if (m - 1 >= i) lo = i;
    else return;
  }
}

// Keep the k best of a full buffer; returns the new threshold (largest kept key).
function compactRow(v: usize, x: usize, n: i32, k: i32): f32 {
  selectBest(v, x, n, k);
  let t: f32 = -Infinity;
  for (let p = 0; p < k; p++) t = max<f32>(t, load<f32>(v + (<usize> p << 2)));
  return t;
}

/**
 * Merge a block of computed values into the buffers. `block` holds rows [i0, i1) of values for
 * references [j0, j1) with row stride `ldb` floats. `elig` (0 = everyone) is one byte per
 * reference, non-zero when eligible.
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
): void {
  const sb = <usize> (2 * k + 1) << 2;
  const cb = <usize> (2 * k) << 2;
  const cap = 2 * k;
  const sign: f32 = largest ? -1 : 1;
  for (let i = i0; i < i1; i++) {
    const v = vals + <usize> i * sb;
    const x = idx + <usize> i * sb;
    const row = block + <usize> (i - i0) * (<usize> ldb << 2);
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
            store<f32>(v + (<usize> n << 2), key);
            store<i32>(x + (<usize> n << 2), j + u);
            if (++n == cap) {
              t = compactRow(v, x, n, k);
              n = k;
            }
          }
        }
      }
    }
    for (; j < j1; j++) {
      const key = sign * load<f32>(row + (<usize> (j - j0) << 2));
      if (key < t) {
        if (elig != 0 && load<u8>(elig + <usize> j) == 0) continue;
        store<f32>(v + (<usize> n << 2), key);
        store<i32>(x + (<usize> n << 2), j);
        if (++n == cap) {
          t = compactRow(v, x, n, k);
          n = k;
        }
      }
    }
    store<f32>(v + cb, t);
    store<i32>(x + cb, n);
  }
}

// Sift (key, j) down from slot `from` of the max-heap (by `before`) of n slots at v/x.
function siftDown(v: usize, x: usize, n: i32, key: f32, j: i32, from: i32): void {
  let p = from;
  for (;;) {
    const l = 2 * p + 1;
    if (l >= n) break;
    let c = l;
    let ck = load<f32>(v + (<usize> l << 2));
    let ci = load<i32>(x + (<usize> l << 2));
    const r = l + 1;
    if (r < n) {
      const rk = load<f32>(v + (<usize> r << 2));
      const ri = load<i32>(x + (<usize> r << 2));
      if (before(ck, ci, rk, ri)) {
        c = r;
        ck = rk;
        ci = ri;
      }
    }
    if (!before(key, j, ck, ci)) break;
    store<f32>(v + (<usize> p << 2), ck);
    store<i32>(x + (<usize> p << 2), ci);
    p = c;
  }
  store<f32>(v + (<usize> p << 2), key);
  store<i32>(x + (<usize> p << 2), j);
}

/** Keep the k best of rows [i0, i1) and sort them in place: best first, ties to the lower index. */
export function topkFinish(vals: usize, idx: usize, k: i32, i0: i32, i1: i32): void {
  const sb = <usize> (2 * k + 1) << 2;
  const cb = <usize> (2 * k) << 2;
  for (let i = i0; i < i1; i++) {
    const v = vals + <usize> i * sb;
    const x = idx + <usize> i * sb;
    let n = load<i32>(x + cb);
    if (n > k) {
      selectBest(v, x, n, k);
      n = k;
    }
    // Heap sort of [0, n).
    for (let p = (n >> 1) - 1; p >= 0; p--) {
      siftDown(v, x, n, load<f32>(v + (<usize> p << 2)), load<i32>(x + (<usize> p << 2)), p);
    }
    for (let m = n - 1; m > 0; m--) {
      const lk = load<f32>(v + (<usize> m << 2));
      const li = load<i32>(x + (<usize> m << 2));
      store<f32>(v + (<usize> m << 2), load<f32>(v));
      store<i32>(x + (<usize> m << 2), load<i32>(x));
      siftDown(v, x, m, lk, li, 0);
    }
    for (let p = n; p < k; p++) {
      store<f32>(v + (<usize> p << 2), Infinity);
      store<i32>(x + (<usize> p << 2), -1);
    }
  }
}
