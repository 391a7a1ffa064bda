// deno-fmt-ignore-file (AssemblyScript: deno fmt would drop the @inline decorators)
// Pairwise distance and similarity kernels, scalar WebAssembly (no SIMD): the fallback build
// and the readable twin of simd.ts. Same exports, same memory contract, same metric codes
// (0 dot, 1 cosine, 2 l2, 3 sqeuclidean, 4 l1). Each output sums in a single f32 accumulator
// in index order.

// @ts-ignore: decorator
@inline function op(kind: i32, x: f32, y: f32): f32 {
  if (kind == 0) return x * y;
  const t = x - y;
  if (kind == 1) return t * t;
  return abs<f32>(t);
}

// @ts-ignore: decorator
@inline function kindOf(metric: i32): i32 {
  return metric <= 1 ? 0 : metric <= 3 ? 1 : 2;
}

// 2 query rows × 4 reference rows, raw sums to o0[0..4) and o1[0..4).
function tile2x4(kind: i32, a0: usize, a1: usize, b0: usize, ld: usize, nb: usize, o0: usize, o1: usize): void {
  const b1 = b0 + ld;
  const b2 = b1 + ld;
  const b3 = b2 + ld;
  let s00: f32 = 0, s01: f32 = 0, s02: f32 = 0, s03: f32 = 0;
  let s10: f32 = 0, s11: f32 = 0, s12: f32 = 0, s13: f32 = 0;
  for (let k: usize = 0; k < nb; k += 4) {
    const x0 = load<f32>(a0 + k);
    const x1 = load<f32>(a1 + k);
    let y = load<f32>(b0 + k);
    s00 += op(kind, x0, y);
    s10 += op(kind, x1, y);
    y = load<f32>(b1 + k);
    s01 += op(kind, x0, y);
    s11 += op(kind, x1, y);
    y = load<f32>(b2 + k);
    s02 += op(kind, x0, y);
    s12 += op(kind, x1, y);
    y = load<f32>(b3 + k);
    s03 += op(kind, x0, y);
    s13 += op(kind, x1, y);
  }
  store<f32>(o0, s00);
  store<f32>(o0 + 4, s01);
  store<f32>(o0 + 8, s02);
  store<f32>(o0 + 12, s03);
  store<f32>(o1, s10);
  store<f32>(o1 + 4, s11);
  store<f32>(o1 + 8, s12);
  store<f32>(o1 + 12, s13);
}

function tile1x1(kind: i32, a0: usize, b0: usize, nb: usize): f32 {
  let s: f32 = 0;
  for (let k: usize = 0; k < nb; k += 4) s += op(kind, load<f32>(a0 + k), load<f32>(b0 + k));
  return s;
}

// Finish raw sums in place: cosine scales by inverse norms, l2 takes sqrt (clamped at 0).
function finish(metric: i32, o: usize, n: i32, qinv: f32, rinv: usize): void {
  if (metric == 1) {
    for (let j = 0; j < n; j++) {
      const p = o + (<usize> j << 2);
      store<f32>(p, load<f32>(p) * (qinv * load<f32>(rinv + (<usize> j << 2))));
    }
  } else if (metric == 2) {
    for (let j = 0; j < n; j++) {
      const p = o + (<usize> j << 2);
      store<f32>(p, sqrt<f32>(max<f32>(load<f32>(p), 0)));
    }
  }
}

/** Reference rows per cache block for dimension d (about 128 KiB of rows, a multiple of 4). */
export function blockRows(d: i32): i32 {
  const rows = (32768 / max(d, 1)) & ~3;
  return max(rows, 4);
}

/** Bytes of work memory `pairwiseRange` needs (none in the scalar build; same ABI as SIMD). */
export function workBytes(d: i32): i32 {
  return 0;
}

/** Nothing to pack in the scalar build (same ABI as the SIMD build). */
export function packBlock(r: usize, d: i32, jb: i32, je: i32, work: usize): void {}

/**
 * Query rows i and i + 1 (only i when `two` is 0) against references [jb, je): finished values
 * go to o0[0 .. je - jb) and o1[0 .. je - jb).
 */
export function blockPair(
  q: usize,
  r: usize,
  d: i32,
  metric: i32,
  qinv: usize,
  rinv: usize,
  i: i32,
  two: i32,
  jb: i32,
  je: i32,
  o0: usize,
  o1: usize,
  work: usize,
): void {
  const kind = kindOf(metric);
  const ld = <usize>d << 2;
  const nb = ld;
  const a0 = q + <usize>i * ld;
  const a1 = a0 + ld;
  const j4 = jb + ((je - jb) & ~3);
  let j = jb;
  if (two) {
    for (; j < j4; j += 4) {
      const oj = <usize>(j - jb) << 2;
      tile2x4(kind, a0, a1, r + <usize>j * ld, ld, nb, o0 + oj, o1 + oj);
    }
  }
  for (; j < je; j++) {
    const oj = <usize>(j - jb) << 2;
    const b = r + <usize>j * ld;
    store<f32>(o0 + oj, tile1x1(kind, a0, b, nb));
    if (two) store<f32>(o1 + oj, tile1x1(kind, a1, b, nb));
  }
  const rv = rinv + (<usize>jb << 2);
  finish(metric, o0, je - jb, metric == 1 ? load<f32>(qinv + (<usize>i << 2)) : 0, rv);
  if (two) finish(metric, o1, je - jb, metric == 1 ? load<f32>(qinv + (<usize>(i + 1) << 2)) : 0, rv);
}

/**
 * Pairwise values for query rows [i0, i1) × reference rows [j0, j1).
 * Element (i, j) goes to out + ((i - i0) * ldo + (j - j0)) * 4. `work` is unused here.
 */
export function pairwiseRange(
  q: usize,
  r: usize,
  d: i32,
  metric: i32,
  qinv: usize,
  rinv: usize,
  out: usize,
  ldo: i32,
  i0: i32,
  i1: i32,
  j0: i32,
  j1: i32,
  work: usize,
): void {
  const rb = blockRows(d);
  const ldoB = <usize>ldo << 2;
  for (let jb = j0; jb < j1; jb += rb) {
    const je = min(jb + rb, j1);
    for (let i = i0; i < i1; i += 2) {
      const o0 = out + <usize>(i - i0) * ldoB + (<usize>(jb - j0) << 2);
      blockPair(q, r, d, metric, qinv, rinv, i, i + 2 <= i1 ? 1 : 0, jb, je, o0, o0 + ldoB, work);
    }
  }
}

/** Full rows [i0, i1) of the Q×R matrix at `out` (row stride nr). */
export function pairwise(
  q: usize,
  r: usize,
  nr: i32,
  d: i32,
  metric: i32,
  qinv: usize,
  rinv: usize,
  out: usize,
  i0: i32,
  i1: i32,
  work: usize,
): void {
  pairwiseRange(q, r, d, metric, qinv, rinv, out + <usize> i0 * (<usize> nr << 2), nr, i0, i1, 0, nr, work);
}

/** L2 norm of each row (`inverse` = 1: 1/norm instead, 0 for zero rows). */
export function norms(x: usize, rows: i32, d: i32, out: usize, inverse: i32): void {
  const nb = <usize> d << 2;
  for (let i = 0; i < rows; i++) {
    const a = x + <usize> i * nb;
    let s: f32 = 0;
    for (let k: usize = 0; k < nb; k += 4) {
      const v = load<f32>(a + k);
      s += v * v;
    }
    const n = sqrt<f32>(s);
    store<f32>(out + (<usize> i << 2), inverse ? (n > 0 ? <f32> 1 / n : 0) : n);
  }
}

/** Rows scaled to unit L2 norm; zero rows stay zero. `out` may equal `x`. */
export function normalize(x: usize, rows: i32, d: i32, out: usize): void {
  const nb = <usize> d << 2;
  for (let i = 0; i < rows; i++) {
    const a = x + <usize> i * nb;
    const o = out + <usize> i * nb;
    let s: f32 = 0;
    for (let k: usize = 0; k < nb; k += 4) {
      const v = load<f32>(a + k);
      s += v * v;
    }
    const n = sqrt<f32>(s);
    const inv: f32 = n > 0 ? <f32> 1 / n : 0;
    for (let k: usize = 0; k < nb; k += 4) store<f32>(o + k, load<f32>(a + k) * inv);
  }
}
