// deno-fmt-ignore-file (AssemblyScript: deno fmt would drop the @inline decorators)
// Pairwise distance and similarity kernels, WebAssembly SIMD (f32x4).
//
// Built twice: with `--enable simd` (multiply then add) and with `--enable relaxed-simd` too
// (`f32x4.relaxed_madd`, which V8 lowers to one FMA). Every pointer is a byte offset into
// linear memory that the caller (JS) laid out; nothing here allocates.
//
// Metric codes: 0 dot, 1 cosine, 2 l2, 3 sqeuclidean, 4 l1.
// Inner kinds: 0 products (dot, cosine), 1 squared differences (l2, sqeuclidean), 2 absolute
// differences (l1). L2 is computed directly from differences (not |q|²+|r|²-2q·r) so that
// d(a, a) is exactly 0 and near neighbours keep their relative accuracy.

// @ts-ignore: decorator
@inline function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(f32x4.mul(a, b), c);
}

// Horizontal sums of four vectors, returned as one vector [Σa, Σb, Σc, Σd].
// @ts-ignore: decorator
@inline function hsum4(a: v128, b: v128, c: v128, d: v128): v128 {
  const ab = f32x4.add(v128.shuffle<f32>(a, b, 0, 4, 1, 5), v128.shuffle<f32>(a, b, 2, 6, 3, 7));
  const cd = f32x4.add(v128.shuffle<f32>(c, d, 0, 4, 1, 5), v128.shuffle<f32>(c, d, 2, 6, 3, 7));
  return f32x4.add(v128.shuffle<f32>(ab, cd, 0, 1, 4, 5), v128.shuffle<f32>(ab, cd, 2, 3, 6, 7));
}

// @ts-ignore: decorator
@inline function hsum(a: v128): f32 {
  // The order hsum4 adds in, (l0 + l2) + (l1 + l3): a score comes out the same whichever tile
  // computed it, so it does not depend on where its row falls in a block.
  return (f32x4.extract_lane(a, 0) + f32x4.extract_lane(a, 2)) +
    (f32x4.extract_lane(a, 1) + f32x4.extract_lane(a, 3));
}

// Scalar element operation for tails.
/** Inner kind of a metric code. */
// @ts-ignore: decorator
@inline function kindOf(metric: i32): i32 {
  return metric <= 1 ? 0 : metric <= 3 ? 1 : 2;
}

// Scalar element operation for tails.
// @ts-ignore: decorator
@inline function op(kind: i32, x: f32, y: f32): f32 {
  if (kind == 0) return x * y;
  const t = x - y;
  if (kind == 1) return t * t;
  return abs<f32>(t);
}

// 2 query rows × 4 reference rows. `n4`: bytes of the multiple-of-4 prefix, `nb`: bytes per row.
// Writes 4 raw sums at o0 (row a0) and 4 at o1 (row a1).
function tile2x4(kind: i32, a0: usize, a1: usize, b0: usize, ld: usize, n4: usize, nb: usize, o0: usize, o1: usize): void {
  const b1 = b0 + ld;
  const b2 = b1 + ld;
  const b3 = b2 + ld;
  let s00 = f32x4.splat(0);
  let s01 = s00;
  let s02 = s00;
  let s03 = s00;
  let s10 = s00;
  let s11 = s00;
  let s12 = s00;
  let s13 = s00;
  let k: usize = 0;
  if (kind == 0) {
    for (; k < n4; k += 16) {
      const x0 = v128.load(a0 + k);
      const x1 = v128.load(a1 + k);
      let y = v128.load(b0 + k);
      s00 = madd(x0, y, s00);
      s10 = madd(x1, y, s10);
      y = v128.load(b1 + k);
      s01 = madd(x0, y, s01);
      s11 = madd(x1, y, s11);
      y = v128.load(b2 + k);
      s02 = madd(x0, y, s02);
      s12 = madd(x1, y, s12);
      y = v128.load(b3 + k);
      s03 = madd(x0, y, s03);
      s13 = madd(x1, y, s13);
    }
  } else if (kind == 1) {
    for (; k < n4; k += 16) {
      const x0 = v128.load(a0 + k);
      const x1 = v128.load(a1 + k);
      let y = v128.load(b0 + k);
      let t = f32x4.sub(x0, y);
      s00 = madd(t, t, s00);
      t = f32x4.sub(x1, y);
      s10 = madd(t, t, s10);
      y = v128.load(b1 + k);
      t = f32x4.sub(x0, y);
      s01 = madd(t, t, s01);
      t = f32x4.sub(x1, y);
      s11 = madd(t, t, s11);
      y = v128.load(b2 + k);
      t = f32x4.sub(x0, y);
      s02 = madd(t, t, s02);
      t = f32x4.sub(x1, y);
      s12 = madd(t, t, s12);
      y = v128.load(b3 + k);
      t = f32x4.sub(x0, y);
      s03 = madd(t, t, s03);
      t = f32x4.sub(x1, y);
      s13 = madd(t, t, s13);
    }
  } else {
    for (; k < n4; k += 16) {
      const x0 = v128.load(a0 + k);
      const x1 = v128.load(a1 + k);
      let y = v128.load(b0 + k);
      s00 = f32x4.add(s00, f32x4.abs(f32x4.sub(x0, y)));
      s10 = f32x4.add(s10, f32x4.abs(f32x4.sub(x1, y)));
      y = v128.load(b1 + k);
      s01 = f32x4.add(s01, f32x4.abs(f32x4.sub(x0, y)));
      s11 = f32x4.add(s11, f32x4.abs(f32x4.sub(x1, y)));
      y = v128.load(b2 + k);
      s02 = f32x4.add(s02, f32x4.abs(f32x4.sub(x0, y)));
      s12 = f32x4.add(s12, f32x4.abs(f32x4.sub(x1, y)));
      y = v128.load(b3 + k);
      s03 = f32x4.add(s03, f32x4.abs(f32x4.sub(x0, y)));
      s13 = f32x4.add(s13, f32x4.abs(f32x4.sub(x1, y)));
    }
  }
  v128.store(o0, hsum4(s00, s01, s02, s03));
  v128.store(o1, hsum4(s10, s11, s12, s13));
  // Explicit tail: the last d % 4 elements, scalar.
  for (; k < nb; k += 4) {
    const x0 = load<f32>(a0 + k);
    const x1 = load<f32>(a1 + k);
    let y = load<f32>(b0 + k);
    store<f32>(o0, load<f32>(o0) + op(kind, x0, y));
    store<f32>(o1, load<f32>(o1) + op(kind, x1, y));
    y = load<f32>(b1 + k);
    store<f32>(o0 + 4, load<f32>(o0 + 4) + op(kind, x0, y));
    store<f32>(o1 + 4, load<f32>(o1 + 4) + op(kind, x1, y));
    y = load<f32>(b2 + k);
    store<f32>(o0 + 8, load<f32>(o0 + 8) + op(kind, x0, y));
    store<f32>(o1 + 8, load<f32>(o1 + 8) + op(kind, x1, y));
    y = load<f32>(b3 + k);
    store<f32>(o0 + 12, load<f32>(o0 + 12) + op(kind, x0, y));
    store<f32>(o1 + 12, load<f32>(o1 + 12) + op(kind, x1, y));
  }
}

// 2 query rows × 6 reference rows, products only (dot, cosine): 12 accumulators, 2 query and 1
// reference vector live, 15 of the 16 SIMD registers V8 allocates on x64; 8 loads per 12
// multiply-adds instead of 6 per 8 (the 2 × 4 tile), which measured 0.95 of the FMA peak on V8
// against 0.85 (kernels/pairwise/README.md). Writes 6 raw sums at o0 (row a0) and 6 at o1.
function tile2x6(a0: usize, a1: usize, b0: usize, ld: usize, n4: usize, nb: usize, o0: usize, o1: usize): void {
  const b1 = b0 + ld;
  const b2 = b1 + ld;
  const b3 = b2 + ld;
  const b4 = b3 + ld;
  const b5 = b4 + ld;
  let s00 = f32x4.splat(0);
  let s01 = s00;
  let s02 = s00;
  let s03 = s00;
  let s04 = s00;
  let s05 = s00;
  let s10 = s00;
  let s11 = s00;
  let s12 = s00;
  let s13 = s00;
  let s14 = s00;
  let s15 = s00;
  let k: usize = 0;
  for (; k < n4; k += 16) {
    const x0 = v128.load(a0 + k);
    const x1 = v128.load(a1 + k);
    let y = v128.load(b0 + k);
    s00 = madd(x0, y, s00);
    s10 = madd(x1, y, s10);
    y = v128.load(b1 + k);
    s01 = madd(x0, y, s01);
    s11 = madd(x1, y, s11);
    y = v128.load(b2 + k);
    s02 = madd(x0, y, s02);
    s12 = madd(x1, y, s12);
    y = v128.load(b3 + k);
    s03 = madd(x0, y, s03);
    s13 = madd(x1, y, s13);
    y = v128.load(b4 + k);
    s04 = madd(x0, y, s04);
    s14 = madd(x1, y, s14);
    y = v128.load(b5 + k);
    s05 = madd(x0, y, s05);
    s15 = madd(x1, y, s15);
  }
  v128.store(o0, hsum4(s00, s01, s02, s03));
  v128.store(o1, hsum4(s10, s11, s12, s13));
  const last = hsum4(s04, s05, s14, s15); // [a0·b4, a0·b5, a1·b4, a1·b5]
  v128.store64_lane(o0 + 16, last, 0);
  v128.store64_lane(o1 + 16, last, 1);
  // Explicit tail: the last d % 4 elements, scalar.
  for (; k < nb; k += 4) {
    const x0 = load<f32>(a0 + k);
    const x1 = load<f32>(a1 + k);
    for (let u: usize = 0; u < 6; u++) {
      const y = load<f32>(b0 + u * ld + k);
      store<f32>(o0 + (u << 2), load<f32>(o0 + (u << 2)) + x0 * y);
      store<f32>(o1 + (u << 2), load<f32>(o1 + (u << 2)) + x1 * y);
    }
  }
}

// 1 query row × 4 reference rows (odd last query row).
function tile1x4(kind: i32, a0: usize, b0: usize, ld: usize, n4: usize, nb: usize, o0: usize): void {
  const b1 = b0 + ld;
  const b2 = b1 + ld;
  const b3 = b2 + ld;
  let s0 = f32x4.splat(0);
  let s1 = s0;
  let s2 = s0;
  let s3 = s0;
  let k: usize = 0;
  if (kind == 0) {
    for (; k < n4; k += 16) {
      const x0 = v128.load(a0 + k);
      s0 = madd(x0, v128.load(b0 + k), s0);
      s1 = madd(x0, v128.load(b1 + k), s1);
      s2 = madd(x0, v128.load(b2 + k), s2);
      s3 = madd(x0, v128.load(b3 + k), s3);
    }
  } else if (kind == 1) {
    for (; k < n4; k += 16) {
      const x0 = v128.load(a0 + k);
      let t = f32x4.sub(x0, v128.load(b0 + k));
      s0 = madd(t, t, s0);
      t = f32x4.sub(x0, v128.load(b1 + k));
      s1 = madd(t, t, s1);
      t = f32x4.sub(x0, v128.load(b2 + k));
      s2 = madd(t, t, s2);
      t = f32x4.sub(x0, v128.load(b3 + k));
      s3 = madd(t, t, s3);
    }
  } else {
    for (; k < n4; k += 16) {
      const x0 = v128.load(a0 + k);
      s0 = f32x4.add(s0, f32x4.abs(f32x4.sub(x0, v128.load(b0 + k))));
      s1 = f32x4.add(s1, f32x4.abs(f32x4.sub(x0, v128.load(b1 + k))));
      s2 = f32x4.add(s2, f32x4.abs(f32x4.sub(x0, v128.load(b2 + k))));
      s3 = f32x4.add(s3, f32x4.abs(f32x4.sub(x0, v128.load(b3 + k))));
    }
  }
  v128.store(o0, hsum4(s0, s1, s2, s3));
  for (; k < nb; k += 4) {
    const x0 = load<f32>(a0 + k);
    store<f32>(o0, load<f32>(o0) + op(kind, x0, load<f32>(b0 + k)));
    store<f32>(o0 + 4, load<f32>(o0 + 4) + op(kind, x0, load<f32>(b1 + k)));
    store<f32>(o0 + 8, load<f32>(o0 + 8) + op(kind, x0, load<f32>(b2 + k)));
    store<f32>(o0 + 12, load<f32>(o0 + 12) + op(kind, x0, load<f32>(b3 + k)));
  }
}

// 1 × 1 (last reference rows when R is not a multiple of 4).
function tile1x1(kind: i32, a0: usize, b0: usize, n4: usize, nb: usize): f32 {
  let s = f32x4.splat(0);
  let k: usize = 0;
  if (kind == 0) {
    for (; k < n4; k += 16) s = madd(v128.load(a0 + k), v128.load(b0 + k), s);
  } else if (kind == 1) {
    for (; k < n4; k += 16) {
      const t = f32x4.sub(v128.load(a0 + k), v128.load(b0 + k));
      s = madd(t, t, s);
    }
  } else {
    for (; k < n4; k += 16) s = f32x4.add(s, f32x4.abs(f32x4.sub(v128.load(a0 + k), v128.load(b0 + k))));
  }
  let r = hsum(s);
  for (; k < nb; k += 4) r += op(kind, load<f32>(a0 + k), load<f32>(b0 + k));
  return r;
}

// Finish raw sums in place: cosine scales by inverse norms, l2 takes sqrt (clamped at 0).
function finish(metric: i32, o: usize, n: i32, qinv: f32, rinv: usize): void {
  if (metric == 1) {
    const s = f32x4.splat(qinv);
    let j = 0;
    for (; j + 4 <= n; j += 4) {
      const p = o + (<usize> j << 2);
      v128.store(p, f32x4.mul(v128.load(p), f32x4.mul(s, v128.load(rinv + (<usize> j << 2)))));
    }
    for (; j < n; j++) {
      const p = o + (<usize> j << 2);
      store<f32>(p, load<f32>(p) * (qinv * load<f32>(rinv + (<usize> j << 2))));
    }
  } else if (metric == 2) {
    const zero = f32x4.splat(0);
    let j = 0;
    for (; j + 4 <= n; j += 4) {
      const p = o + (<usize> j << 2);
      v128.store(p, f32x4.sqrt(f32x4.max(v128.load(p), zero)));
    }
    for (; j < n; j++) {
      const p = o + (<usize> j << 2);
      store<f32>(p, sqrt<f32>(max<f32>(load<f32>(p), 0)));
    }
  }
}

/**
 * Reference rows per cache block for dimension d: about 128 KiB of rows, a multiple of 12 (whole
 * 2 × 6 and 2 × 4 tiles) when that leaves at least 12, else of 4.
 */
export function blockRows(d: i32): i32 {
  const rows = 32768 / max(d, 1);
  return rows >= 12 ? rows - rows % 12 : max(rows & ~3, 4);
}

/** Bytes of work memory `pairwiseRange` needs: none (kept in the ABI for packed variants). */
export function workBytes(d: i32): i32 {
  return 0;
}

/** Nothing to pack: the tiles read row-major references directly (packing measured slower on V8). */
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
  const n4 = <usize>(d & ~3) << 2;
  const a0 = q + <usize>i * ld;
  const a1 = a0 + ld;
  const j4 = jb + ((je - jb) & ~3);
  let j = jb;
  if (two) {
    if (kind == 0) {
      for (; j + 6 <= je; j += 6) {
        const oj = <usize>(j - jb) << 2;
        tile2x6(a0, a1, r + <usize>j * ld, ld, n4, nb, o0 + oj, o1 + oj);
      }
    }
    for (; j + 4 <= je; j += 4) {
      const oj = <usize>(j - jb) << 2;
      tile2x4(kind, a0, a1, r + <usize>j * ld, ld, n4, nb, o0 + oj, o1 + oj);
    }
    for (; j < je; j++) {
      const oj = <usize>(j - jb) << 2;
      const b = r + <usize>j * ld;
      store<f32>(o0 + oj, tile1x1(kind, a0, b, n4, nb));
      store<f32>(o1 + oj, tile1x1(kind, a1, b, n4, nb));
    }
  } else {
    for (; j < j4; j += 4) tile1x4(kind, a0, r + <usize>j * ld, ld, n4, nb, o0 + (<usize>(j - jb) << 2));
    for (; j < je; j++) store<f32>(o0 + (<usize>(j - jb) << 2), tile1x1(kind, a0, r + <usize>j * ld, n4, nb));
  }
  const rv = rinv + (<usize>jb << 2);
  finish(metric, o0, je - jb, metric == 1 ? load<f32>(qinv + (<usize>i << 2)) : 0, rv);
  if (two) finish(metric, o1, je - jb, metric == 1 ? load<f32>(qinv + (<usize>(i + 1) << 2)) : 0, rv);
}

/**
 * Pairwise values for query rows [i0, i1) × reference rows [j0, j1).
 * Element (i, j) goes to out + ((i - i0) * ldo + (j - j0)) * 4. `qinv`/`rinv` hold inverse
 * norms (0 for zero rows) and are read only for cosine. `work`: `workBytes(d)` bytes private to
 * the calling thread (none needed by this build).
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
    packBlock(r, d, jb, je, work);
    for (let i = i0; i < i1; i += 2) {
      const o0 = out + <usize>(i - i0) * ldoB + (<usize>(jb - j0) << 2);
      blockPair(q, r, d, metric, qinv, rinv, i, i + 2 <= i1 ? 1 : 0, jb, je, o0, o0 + ldoB, work);
    }
  }
}

/** Full rows [i0, i1) of the Q×R matrix at `out` (row stride nr); `work`: `workBytes(d)` bytes. */
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
  pairwiseRange(q, r, d, metric, qinv, rinv, out + <usize>i0 * (<usize>nr << 2), nr, i0, i1, 0, nr, work);
}

// Sum of squares of one row.
function sumsq(a: usize, n4: usize, nb: usize): f32 {
  let s0 = f32x4.splat(0);
  let k: usize = 0;
  for (; k < n4; k += 16) {
    const x = v128.load(a + k);
    s0 = madd(x, x, s0);
  }
  let s = hsum(s0);
  for (; k < nb; k += 4) {
    const x = load<f32>(a + k);
    s += x * x;
  }
  return s;
}

/** L2 norm of each row (`inverse` = 1: 1/norm instead, 0 for zero rows). */
export function norms(x: usize, rows: i32, d: i32, out: usize, inverse: i32): void {
  const nb = <usize> d << 2;
  const n4 = <usize> (d & ~3) << 2;
  for (let i = 0; i < rows; i++) {
    const n = sqrt<f32>(sumsq(x + <usize> i * nb, n4, nb));
    store<f32>(out + (<usize> i << 2), inverse ? (n > 0 ? <f32> 1 / n : 0) : n);
  }
}

/** Rows scaled to unit L2 norm; zero rows stay zero. `out` may equal `x`. */
export function normalize(x: usize, rows: i32, d: i32, out: usize): void {
  const nb = <usize> d << 2;
  const n4 = <usize> (d & ~3) << 2;
  for (let i = 0; i < rows; i++) {
    const a = x + <usize> i * nb;
    const o = out + <usize> i * nb;
    const n = sqrt<f32>(sumsq(a, n4, nb));
    const inv: f32 = n > 0 ? <f32> 1 / n : 0;
    const s = f32x4.splat(inv);
    let k: usize = 0;
    for (; k < n4; k += 16) v128.store(o + k, f32x4.mul(v128.load(a + k), s));
    for (; k < nb; k += 4) store<f32>(o + k, load<f32>(a + k) * inv);
  }
}
