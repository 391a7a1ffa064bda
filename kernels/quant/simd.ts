// deno-fmt-ignore-file (AssemblyScript: deno fmt would drop the @inline decorators)
// Quantised-code kernels, SIMD build: int8 dot products as a 4 query × 2 code-row register tile,
// a tail of 1 to 3 query rows as a 2 × 2 tile and / or 1 query × 4 code rows (codes widened
// with i16x8.extend_*_i8x16_s, multiplied and pair-summed by i32x4.dot_i16x8_s)
// and Hamming distances with v128.xor + i8x16.popcnt. Entry point compiled by build.json
// (quant_simd, quant_simd_mt).
import { heapOffer, heapSift } from "./select";

export { heapFinish, heapInit } from "./select";
export { scanBlockRows } from "./common";

// @ts-ignore: decorator
@inline function hsum(v: v128): i32 {
  return i32x4.extract_lane(v, 0) + i32x4.extract_lane(v, 1) + i32x4.extract_lane(v, 2) + i32x4.extract_lane(v, 3);
}

// The four horizontal sums of a, b, c, d as one vector [Σa, Σb, Σc, Σd] (6 shuffles, 3 adds
// instead of 4 × (3 extracts + 3 adds)).
// @ts-ignore: decorator
@inline function sum4(a: v128, b: v128, c: v128, d: v128): v128 {
  const ab = i32x4.add(v128.shuffle<i32>(a, b, 0, 4, 1, 5), v128.shuffle<i32>(a, b, 2, 6, 3, 7));
  const cd = i32x4.add(v128.shuffle<i32>(c, d, 0, 4, 1, 5), v128.shuffle<i32>(c, d, 2, 6, 3, 7));
  return i32x4.add(v128.shuffle<i64>(ab, cd, 0, 2), v128.shuffle<i64>(ab, cd, 1, 3));
}

// Two query rows' sums over two code rows: [q0·r0, q0·r1] at o0, [q1·r0, q1·r1] at o1.
// @ts-ignore: decorator
@inline function store2x2(o0: usize, o1: usize, a00: v128, a01: v128, a10: v128, a11: v128): void {
  const v = sum4(a00, a01, a10, a11);
  v128.store64_lane(o0, v, 0);
  v128.store64_lane(o1, v, 1);
}

function int8Block(qa: usize, qb: usize, codes: usize, stride: i32, b0: i32, b1: i32, o0: usize, o1: usize): void {
  let j = b0;
  for (; j + 1 < b1; j += 2) {
    const c0 = codes + <usize> j * <usize> stride, c1 = c0 + <usize> stride;
    let a00 = i32x4.splat(0), a01 = i32x4.splat(0), a10 = i32x4.splat(0), a11 = i32x4.splat(0);
    for (let d = 0; d < stride; d += 16) {
      const r0 = v128.load(c0 + <usize> d), r1 = v128.load(c1 + <usize> d);
      const r0l = i16x8.extend_low_i8x16_s(r0), r0h = i16x8.extend_high_i8x16_s(r0);
      const r1l = i16x8.extend_low_i8x16_s(r1), r1h = i16x8.extend_high_i8x16_s(r1);
      const qo = <usize> d << 1;
      const xl = v128.load(qa + qo), xh = v128.load(qa + qo + 16);
      const yl = v128.load(qb + qo), yh = v128.load(qb + qo + 16);
      a00 = i32x4.add(a00, i32x4.add(i32x4.dot_i16x8_s(xl, r0l), i32x4.dot_i16x8_s(xh, r0h)));
      a01 = i32x4.add(a01, i32x4.add(i32x4.dot_i16x8_s(xl, r1l), i32x4.dot_i16x8_s(xh, r1h)));
      a10 = i32x4.add(a10, i32x4.add(i32x4.dot_i16x8_s(yl, r0l), i32x4.dot_i16x8_s(yh, r0h)));
      a11 = i32x4.add(a11, i32x4.add(i32x4.dot_i16x8_s(yl, r1l), i32x4.dot_i16x8_s(yh, r1h)));
    }
    const o = <usize> (j - b0) << 2;
    store2x2(o0 + o, o1 + o, a00, a01, a10, a11);
  }
  if (j < b1) {
    const c0 = codes + <usize> j * <usize> stride;
    let a0 = i32x4.splat(0), a1 = i32x4.splat(0);
    for (let d = 0; d < stride; d += 16) {
      const r0 = v128.load(c0 + <usize> d);
      const r0l = i16x8.extend_low_i8x16_s(r0), r0h = i16x8.extend_high_i8x16_s(r0);
      const qo = <usize> d << 1;
      a0 = i32x4.add(a0, i32x4.add(i32x4.dot_i16x8_s(v128.load(qa + qo), r0l), i32x4.dot_i16x8_s(v128.load(qa + qo + 16), r0h)));
      a1 = i32x4.add(a1, i32x4.add(i32x4.dot_i16x8_s(v128.load(qb + qo), r0l), i32x4.dot_i16x8_s(v128.load(qb + qo + 16), r0h)));
    }
    const o = <usize> (j - b0) << 2;
    store<i32>(o0 + o, hsum(a0));
    store<i32>(o1 + o, hsum(a1));
  }
}

// One query row against code rows [b0, b1), four at a time (4 accumulators, the query's two
// halves loaded once per 16 dimensions): a batch's last 1 or 3 rows cost their own work, not a
// 2- or 4-row tile's.
function int8Block1(qa: usize, codes: usize, stride: i32, b0: i32, b1: i32, o0: usize): void {
  let j = b0;
  for (; j + 3 < b1; j += 4) {
    const c0 = codes + <usize> j * <usize> stride, c1 = c0 + <usize> stride;
    const c2 = c1 + <usize> stride, c3 = c2 + <usize> stride;
    let a0 = i32x4.splat(0), a1 = i32x4.splat(0), a2 = i32x4.splat(0), a3 = i32x4.splat(0);
    for (let d = 0; d < stride; d += 16) {
      const qo = <usize> d << 1;
      const xl = v128.load(qa + qo), xh = v128.load(qa + qo + 16);
      const r0 = v128.load(c0 + <usize> d), r1 = v128.load(c1 + <usize> d);
      const r2 = v128.load(c2 + <usize> d), r3 = v128.load(c3 + <usize> d);
      a0 = i32x4.add(a0, i32x4.add(i32x4.dot_i16x8_s(xl, i16x8.extend_low_i8x16_s(r0)), i32x4.dot_i16x8_s(xh, i16x8.extend_high_i8x16_s(r0))));
      a1 = i32x4.add(a1, i32x4.add(i32x4.dot_i16x8_s(xl, i16x8.extend_low_i8x16_s(r1)), i32x4.dot_i16x8_s(xh, i16x8.extend_high_i8x16_s(r1))));
      a2 = i32x4.add(a2, i32x4.add(i32x4.dot_i16x8_s(xl, i16x8.extend_low_i8x16_s(r2)), i32x4.dot_i16x8_s(xh, i16x8.extend_high_i8x16_s(r2))));
      a3 = i32x4.add(a3, i32x4.add(i32x4.dot_i16x8_s(xl, i16x8.extend_low_i8x16_s(r3)), i32x4.dot_i16x8_s(xh, i16x8.extend_high_i8x16_s(r3))));
    }
    v128.store(o0 + (<usize> (j - b0) << 2), sum4(a0, a1, a2, a3));
  }
  for (; j < b1; j++) {
    const c0 = codes + <usize> j * <usize> stride;
    let a0 = i32x4.splat(0);
    for (let d = 0; d < stride; d += 16) {
      const qo = <usize> d << 1;
      const r0 = v128.load(c0 + <usize> d);
      a0 = i32x4.add(a0, i32x4.add(i32x4.dot_i16x8_s(v128.load(qa + qo), i16x8.extend_low_i8x16_s(r0)), i32x4.dot_i16x8_s(v128.load(qa + qo + 16), i16x8.extend_high_i8x16_s(r0))));
    }
    store<i32>(o0 + (<usize> (j - b0) << 2), hsum(a0));
  }
}

// Four query rows (q1..q3 may repeat q0 at a tail) against code rows [b0, b1) in pairs: 8
// accumulators; per 16 dimensions 2 code loads, 4 widenings, 8 query loads, 16 dot + 16 add.
function int8Block4(
  q0: usize, q1: usize, q2: usize, q3: usize, codes: usize, stride: i32, b0: i32, b1: i32,
  o0: usize, o1: usize, o2: usize, o3: usize,
): void {
  let j = b0;
  for (; j + 1 < b1; j += 2) {
    const c0 = codes + <usize> j * <usize> stride, c1 = c0 + <usize> stride;
    let a00 = i32x4.splat(0), a01 = i32x4.splat(0), a10 = i32x4.splat(0), a11 = i32x4.splat(0);
    let a20 = i32x4.splat(0), a21 = i32x4.splat(0), a30 = i32x4.splat(0), a31 = i32x4.splat(0);
    for (let d = 0; d < stride; d += 16) {
      const r0 = v128.load(c0 + <usize> d), r1 = v128.load(c1 + <usize> d);
      const r0l = i16x8.extend_low_i8x16_s(r0), r0h = i16x8.extend_high_i8x16_s(r0);
      const r1l = i16x8.extend_low_i8x16_s(r1), r1h = i16x8.extend_high_i8x16_s(r1);
      const qo = <usize> d << 1;
      let xl = v128.load(q0 + qo), xh = v128.load(q0 + qo + 16);
      a00 = i32x4.add(a00, i32x4.add(i32x4.dot_i16x8_s(xl, r0l), i32x4.dot_i16x8_s(xh, r0h)));
      a01 = i32x4.add(a01, i32x4.add(i32x4.dot_i16x8_s(xl, r1l), i32x4.dot_i16x8_s(xh, r1h)));
      xl = v128.load(q1 + qo);
      xh = v128.load(q1 + qo + 16);
      a10 = i32x4.add(a10, i32x4.add(i32x4.dot_i16x8_s(xl, r0l), i32x4.dot_i16x8_s(xh, r0h)));
      a11 = i32x4.add(a11, i32x4.add(i32x4.dot_i16x8_s(xl, r1l), i32x4.dot_i16x8_s(xh, r1h)));
      xl = v128.load(q2 + qo);
      xh = v128.load(q2 + qo + 16);
      a20 = i32x4.add(a20, i32x4.add(i32x4.dot_i16x8_s(xl, r0l), i32x4.dot_i16x8_s(xh, r0h)));
      a21 = i32x4.add(a21, i32x4.add(i32x4.dot_i16x8_s(xl, r1l), i32x4.dot_i16x8_s(xh, r1h)));
      xl = v128.load(q3 + qo);
      xh = v128.load(q3 + qo + 16);
      a30 = i32x4.add(a30, i32x4.add(i32x4.dot_i16x8_s(xl, r0l), i32x4.dot_i16x8_s(xh, r0h)));
      a31 = i32x4.add(a31, i32x4.add(i32x4.dot_i16x8_s(xl, r1l), i32x4.dot_i16x8_s(xh, r1h)));
    }
    const o = <usize> (j - b0) << 2;
    store2x2(o0 + o, o1 + o, a00, a01, a10, a11);
    store2x2(o2 + o, o3 + o, a20, a21, a30, a31);
  }
  if (j < b1) {
    int8Block(q0, q1, codes, stride, j, b1, o0 + (<usize> (j - b0) << 2), o1 + (<usize> (j - b0) << 2));
    int8Block(q2, q3, codes, stride, j, b1, o2 + (<usize> (j - b0) << 2), o3 + (<usize> (j - b0) << 2));
  }
}

function hammingBlock(qa: usize, qb: usize, bits: usize, stride: i32, b0: i32, b1: i32, o0: usize, o1: usize): void {
  const vend = stride & ~15;
  for (let j = b0; j < b1; j++) {
    const r = bits + <usize> j * <usize> stride;
    // i16 lanes gain at most 16 per 16-byte step: no overflow below 2,047 steps (262,000 bits).
    let a0 = i16x8.splat(0), a1 = i16x8.splat(0);
    for (let w = 0; w < vend; w += 16) {
      const x = v128.load(r + <usize> w);
      a0 = i16x8.add(a0, i16x8.extadd_pairwise_i8x16_u(i8x16.popcnt(v128.xor(x, v128.load(qa + <usize> w)))));
      a1 = i16x8.add(a1, i16x8.extadd_pairwise_i8x16_u(i8x16.popcnt(v128.xor(x, v128.load(qb + <usize> w)))));
    }
    let h0 = hsum(i32x4.extadd_pairwise_i16x8_u(a0)), h1 = hsum(i32x4.extadd_pairwise_i16x8_u(a1));
    if (vend < stride) {
      const x = load<u64>(r + <usize> vend);
      h0 += <i32> popcnt<i64>(x ^ load<u64>(qa + <usize> vend));
      h1 += <i32> popcnt<i64>(x ^ load<u64>(qb + <usize> vend));
    }
    const o = <usize> (j - b0) << 2;
    store<i32>(o0 + o, h0);
    store<i32>(o1 + o, h1);
  }
}

// A score that cannot enter a heap whose root key is `top` (mode 0, key -(a·qs), qs > 0): every
// a ≤ floor(-top / qs) - 1 has a·qs ≤ -top - qs, so its key is above top by far more than any
// rounding. +Infinity (a heap not yet full) lets every score through.
// @ts-ignore: decorator
@inline function dotReject(top: f64, qs: f64): i32 {
  const x = Math.floor(-top / qs) - 1;
  return x > -2147483000.0 ? (x < 2147483000.0 ? <i32> x : 2147483000) : -2147483647;
}

// heapOffer for mode 0 with a SIMD prefilter: 4 scores at a time are compared with the integer
// bound of dotReject, and only a group with a score above it goes through heapOffer's exact
// float64 test (same keys, same order of offers, so the heaps end the same).
function heapOfferDot(
  sc: usize, n: i32, b0: i32, qs: f64, elig: usize, m: i32, keys: usize, pos: usize, row: i32,
): void {
  const kb = keys + (<usize> row * <usize> m << 3), pb = pos + (<usize> row * <usize> m << 2);
  let top = load<f64>(kb);
  let bound = i32x4.splat(dotReject(top, qs));
  let t = 0;
  for (; t + 3 < n; t += 4) {
    if (!v128.any_true(i32x4.gt_s(v128.load(sc + (<usize> t << 2)), bound))) continue;
    for (let u = t; u < t + 4; u++) {
      const key = -(<f64> load<i32>(sc + (<usize> u << 2)) * qs);
      if (!(key < top)) continue;
      const p = b0 + u;
      if (elig != 0 && load<u8>(elig + <usize> p) == 0) continue;
      heapSift(kb, pb, m, key, p);
      top = load<f64>(kb);
    }
    bound = i32x4.splat(dotReject(top, qs));
  }
  for (; t < n; t++) {
    const key = -(<f64> load<i32>(sc + (<usize> t << 2)) * qs);
    if (!(key < top)) continue;
    const p = b0 + t;
    if (elig != 0 && load<u8>(elig + <usize> p) == 0) continue;
    heapSift(kb, pb, m, key, p);
    top = load<f64>(kb);
  }
}

// The scan: query rows in pairs over blocks of code rows (a block stays in cache while every
// query pair passes over it), each pair's integer scores (int8 dot products when `hamming` is 0,
// Hamming distances otherwise) handed to the per-row heaps of ./select.ts. `scratch` holds 4 × rb
// int32, private to the calling thread. Written once per build so both block kernels are direct
// calls.
function scan(
  hamming: i32, q: usize, qs: usize, codes: usize, sq: usize, stride: i32, mode: i32, j0: i32, j1: i32,
  elig: usize, m: i32, keys: usize, pos: usize, i0: i32, i1: i32, scratch: usize, rb: i32,
): void {
  const qstride = hamming ? stride : stride << 1;
  const rs = <usize> rb << 2;
  const group = hamming ? 2 : 4;
  for (let b0 = j0; b0 < j1; b0 += rb) {
    const b1 = min(b0 + rb, j1);
    for (let i = i0; i < i1; i += group) {
      const n = min(group, i1 - i);
      const qa = q + <usize> i * <usize> qstride;
      const qb = n > 1 ? qa + <usize> qstride : qa;
      if (hamming) hammingBlock(qa, qb, codes, stride, b0, b1, scratch, scratch + rs);
      else if (n == 4) {
        const qc = qb + <usize> qstride, qd = qc + <usize> qstride;
        int8Block4(qa, qb, qc, qd, codes, stride, b0, b1, scratch, scratch + rs, scratch + 2 * rs, scratch + 3 * rs);
      } else {
        // A tail of 1 to 3 rows: a pair tile and / or a single-row pass, no repeated rows.
        if (n >= 2) int8Block(qa, qb, codes, stride, b0, b1, scratch, scratch + rs);
        if (n != 2) {
          const t = <usize> (n - 1);
          int8Block1(qa + t * <usize> qstride, codes, stride, b0, b1, scratch + t * rs);
        }
      }
      for (let t = 0; t < n; t++) {
        const sc = hamming ? 0.0 : load<f64>(qs + (<usize> (i + t) << 3));
        if (mode == 0) heapOfferDot(scratch + <usize> t * rs, b1 - b0, b0, sc, elig, m, keys, pos, i + t);
        else heapOffer(scratch + <usize> t * rs, b1 - b0, b0, mode, sc, sq, elig, m, keys, pos, i + t);
      }
    }
  }
}

/** int8 dot products of one query row (int16 at q) with code rows [0, n) (int8, `stride` bytes each) into out (int32). */
export function int8Scores(q: usize, codes: usize, stride: i32, n: i32, out: usize): void {
  int8Block(q, q, codes, stride, 0, n, out, out);
}

/** Hamming distances of one query row's sign bits at q with bit rows [0, n) (`stride` bytes each) into out (int32). */
export function hammingScores(q: usize, bits: usize, stride: i32, n: i32, out: usize): void {
  hammingBlock(q, q, bits, stride, 0, n, out, out);
}

/**
 * Offer int8 code rows [j0, j1) to the heaps of query rows [i0, i1). q: int16 query codes, row
 * stride 2·stride bytes; qs: float64 query scale per row; codes: int8, `stride` bytes per row
 * (dimensions padded with zeros to a multiple of 16); sq: float32 squared norm per code row;
 * mode 0 (key -(dot·qs)) or 1 (key sq - 2·dot·qs); elig: one byte per code row or 0; heaps of m
 * (keys f64, pos i32) per query row; scratch: 2 × rb int32.
 */
export function int8Scan(
  q: usize, qs: usize, codes: usize, sq: usize, stride: i32, mode: i32, j0: i32, j1: i32,
  elig: usize, m: i32, keys: usize, pos: usize, i0: i32, i1: i32, scratch: usize, rb: i32,
): void {
  scan(0, q, qs, codes, sq, stride, mode, j0, j1, elig, m, keys, pos, i0, i1, scratch, rb);
}

/**
 * Offer bit rows [j0, j1) to the heaps of query rows [i0, i1) by Hamming distance; same
 * arguments as `int8Scan` (qs, sq and mode unused; q has the bit rows' `stride`, a multiple of 8).
 */
export function hammingScan(
  q: usize, qs: usize, bits: usize, sq: usize, stride: i32, mode: i32, j0: i32, j1: i32,
  elig: usize, m: i32, keys: usize, pos: usize, i0: i32, i1: i32, scratch: usize, rb: i32,
): void {
  scan(1, q, qs, bits, sq, stride, 2, j0, j1, elig, m, keys, pos, i0, i1, scratch, rb);
}
