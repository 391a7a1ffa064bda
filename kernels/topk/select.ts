// deno-fmt-ignore-file (AssemblyScript: deno fmt would drop the @inline decorators)
// Bounded top-k selection shared by the scalar and SIMD builds.
//
// Each query row owns k (key, index) pairs in linear memory, kept as a binary max-heap on
// (key, index): the root is the worst of the k best so far. Keys are the metric values, negated
// when the largest values are wanted, so the heap always keeps the k smallest keys. A candidate
// enters only when its key is strictly smaller than the root's key (references are visited in
// increasing index order, so an equal key is a later, worse candidate): rejection costs one
// comparison, acceptance O(log k), and for any k <= 4096 the cost per reference stays O(1)
// amortised (about k·ln(R/k) acceptances for R references in random order). `topkFinish`
// heap-sorts each row in place: best first, ties to the lower index, padding (+Inf, -1) last.
// The SIMD build tests four keys against the root at once and skips blocks with no candidate.

/** Fill rows [i0, i1) of the k-lists with (+Infinity, -1) (a valid heap). */
export function topkInit(vals: usize, idx: usize, k: i32, i0: i32, i1: i32): void {
  const kb = <usize> k << 2;
  for (let i = i0; i < i1; i++) {
    const v = vals + <usize> i * kb;
    const x = idx + <usize> i * kb;
    for (let t: usize = 0; t < kb; t += 4) {
      store<f32>(v + t, Infinity);
      store<i32>(x + t, -1);
    }
  }
}

// (ka, ia) worse than (kb, ib): larger key, or equal key and larger index.
// @ts-ignore: decorator
@inline function worse(ka: f32, ia: i32, kb: f32, ib: i32): bool {
  return ka > kb || (ka == kb && ia > ib);
}

// Replace the root of the heap (n entries at v/x) by (key, j) and sift it down.
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
      if (worse(rk, ri, ck, ci)) {
        c = r;
        ck = rk;
        ci = ri;
      }
    }
    if (!worse(ck, ci, key, j)) break;
    store<f32>(v + (<usize> p << 2), ck);
    store<i32>(x + (<usize> p << 2), ci);
    p = c;
  }
  store<f32>(v + (<usize> p << 2), key);
  store<i32>(x + (<usize> p << 2), j);
}

/** Offer one candidate (key, j) to the heap at v/x of size k; returns the new root key. */
// @ts-ignore: decorator
@inline function offer(v: usize, x: usize, k: i32, key: f32, j: i32): f32 {
  siftDown(v, x, k, key, j, 0);
  return load<f32>(v);
}

/**
 * Merge a block of computed values into the k-heaps. `block` holds rows [i0, i1) of values for
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
  const kb = <usize> k << 2;
  const sign: f32 = largest ? -1 : 1;
  for (let i = i0; i < i1; i++) {
    const v = vals + <usize> i * kb;
    const x = idx + <usize> i * kb;
    const row = block + <usize> (i - i0) * (<usize> ldb << 2);
    let worst = load<f32>(v);
    let j = j0;
    if (ASC_FEATURE_SIMD) {
      const s4 = f32x4.splat(sign);
      for (; j + 4 <= j1; j += 4) {
        const keys = f32x4.mul(s4, v128.load(row + (<usize> (j - j0) << 2)));
        if (!v128.any_true(f32x4.lt(keys, f32x4.splat(worst)))) continue;
        for (let t = 0; t < 4; t++) {
          const key = sign * load<f32>(row + (<usize> (j + t - j0) << 2));
          if (key < worst) {
            if (elig != 0 && load<u8>(elig + <usize> (j + t)) == 0) continue;
            worst = offer(v, x, k, key, j + t);
          }
        }
      }
    }
    for (; j < j1; j++) {
      const key = sign * load<f32>(row + (<usize> (j - j0) << 2));
      if (key < worst) {
        if (elig != 0 && load<u8>(elig + <usize> j) == 0) continue;
        worst = offer(v, x, k, key, j);
      }
    }
  }
}

/** Sort rows [i0, i1) of the k-heaps in place: best (smallest key) first, ties to the lower index. */
export function topkFinish(vals: usize, idx: usize, k: i32, i0: i32, i1: i32): void {
  const kb = <usize> k << 2;
  for (let i = i0; i < i1; i++) {
    const v = vals + <usize> i * kb;
    const x = idx + <usize> i * kb;
    for (let n = k - 1; n > 0; n--) {
      // Move the worst (root) to position n, then restore the heap on [0, n).
      const rk = load<f32>(v);
      const ri = load<i32>(x);
      const lk = load<f32>(v + (<usize> n << 2));
      const li = load<i32>(x + (<usize> n << 2));
      store<f32>(v + (<usize> n << 2), rk);
      store<i32>(x + (<usize> n << 2), ri);
      siftDown(v, x, n, lk, li, 0);
    }
  }
}
