// deno-fmt-ignore-file (AssemblyScript: deno fmt would drop the @inline decorators)
// Bounded selection of the m smallest (key, position) pairs per query row, shared by the scalar
// and SIMD builds of the quantised-code kernels. Keys are float64 (the int8 scores are exact
// integers times a positive float64 scale, so float64 keeps every tie the JS reference sees).
//
// Each query row owns m keys at keys + row·m·8 and m positions at pos + row·m·4, kept as a
// max-heap on (key, position): the root is the worst kept pair. A candidate enters only when its
// key is strictly below the root's (positions are visited in increasing order, so an equal key is
// a later, worse candidate): rejection costs one comparison against a value held in a local.
// `heapFinish` sorts each row ascending by (key, position): best first, ties to the lower
// position, padding (+Inf, -1) last when fewer than m positions were eligible.

/** Fill the heaps of rows [i0, i1) with (+Infinity, -1). */
export function heapInit(keys: usize, pos: usize, m: i32, i0: i32, i1: i32): void {
  for (let i = i0; i < i1; i++) {
    const kb = keys + (<usize> i * <usize> m << 3), pb = pos + (<usize> i * <usize> m << 2);
    for (let t = 0; t < m; t++) {
      store<f64>(kb + (<usize> t << 3), Infinity);
      store<i32>(pb + (<usize> t << 2), -1);
    }
  }
}

// (ka, pa) worse than (kb, pb): larger key, or equal key and larger position.
// @ts-ignore: decorator
@inline function worse(ka: f64, pa: i32, kb: f64, pb: i32): bool {
  return ka > kb || (ka == kb && pa > pb);
}

/** Sift (key, p) down from the root of a heap of `size` entries (the root is replaced). */
export function heapSift(kb: usize, pb: usize, size: i32, key: f64, p: i32): void {
  let i = 0;
  for (;;) {
    const l = 2 * i + 1;
    if (l >= size) break;
    let c = l;
    let ck = load<f64>(kb + (<usize> l << 3)), cp = load<i32>(pb + (<usize> l << 2));
    if (l + 1 < size) {
      const rk = load<f64>(kb + (<usize> (l + 1) << 3)), rp = load<i32>(pb + (<usize> (l + 1) << 2));
      if (worse(rk, rp, ck, cp)) {
        c = l + 1;
        ck = rk;
        cp = rp;
      }
    }
    if (!worse(ck, cp, key, p)) break;
    store<f64>(kb + (<usize> i << 3), ck);
    store<i32>(pb + (<usize> i << 2), cp);
    i = c;
  }
  store<f64>(kb + (<usize> i << 3), key);
  store<i32>(pb + (<usize> i << 2), p);
}

/**
 * Offer positions b0 + [0, n), with integer scores at `sc` (int32, one per position), to row
 * `row`'s heap; ineligible positions (elig byte 0) are skipped. The key of score a at position p
 * is, by `mode`: 0 (int8, larger dot is closer) `-(a·qs)`; 1 (int8, distances) `sq[p] - 2·(a·qs)`
 * with `sq` float32 squared norms; 2 (Hamming) `a`. Float64 throughout, in that order, so the keys
 * are bit-identical to the plain-TS path's.
 */
export function heapOffer(
  sc: usize, n: i32, b0: i32, mode: i32, qs: f64, sq: usize, elig: usize, m: i32, keys: usize, pos: usize, row: i32,
): void {
  const kb = keys + (<usize> row * <usize> m << 3), pb = pos + (<usize> row * <usize> m << 2);
  let top = load<f64>(kb);
  for (let t = 0; t < n; t++) {
    const a = <f64> load<i32>(sc + (<usize> t << 2));
    const p = b0 + t;
    const key = mode == 0 ? -(a * qs) : mode == 1 ? <f64> load<f32>(sq + (<usize> p << 2)) - 2 * (a * qs) : a;
    if (!(key < top)) continue;
    if (elig != 0 && load<u8>(elig + <usize> p) == 0) continue;
    heapSift(kb, pb, m, key, p);
    top = load<f64>(kb);
  }
}

/** Sort the heaps of rows [i0, i1) ascending by (key, position). */
export function heapFinish(keys: usize, pos: usize, m: i32, i0: i32, i1: i32): void {
  for (let i = i0; i < i1; i++) {
    const kb = keys + (<usize> i * <usize> m << 3), pb = pos + (<usize> i * <usize> m << 2);
    for (let size = m - 1; size > 0; size--) {
      const k = load<f64>(kb + (<usize> size << 3)), p = load<i32>(pb + (<usize> size << 2));
      store<f64>(kb + (<usize> size << 3), load<f64>(kb));
      store<i32>(pb + (<usize> size << 2), load<i32>(pb));
      heapSift(kb, pb, size, k, p);
    }
  }
}
