// Mining kernels, SIMD build (WebAssembly fixed-width SIMD). Same exports and memory contract
// as scalar.ts (see README.md); results are identical, bit for bit. Every kernel is vectorised.
// Tails (B mod 4, B mod 8) are handled explicitly.

/**
 * First index i < n whose f32 value is NaN or ±Infinity, or -1. v - v is 0 for finite values
 * and NaN otherwise, and NaN survives sums: blocks of 64 are summed with SIMD, and the block
 * holding the first bad value is rescanned.
 */
export function first_nonfinite_f32(ptr: usize, n: i32): i32 {
  const zero = f32x4.splat(0);
  let i = 0;
  const n64 = n & ~63;
  for (; i < n64; i += 64) {
    let a = zero;
    let b = zero;
    for (let k = 0; k < 64; k += 8) {
      const p = ptr + (<usize> (i + k) << 2);
      const u = v128.load(p);
      const v = v128.load(p, 16);
      a = f32x4.add(a, f32x4.sub(u, u));
      b = f32x4.add(b, f32x4.sub(v, v));
    }
    if (v128.any_true(f32x4.ne(f32x4.add(a, b), zero))) break;
  }
  for (; i < n; i++) {
    const v = load<f32>(ptr + (<usize> i << 2));
    if (v - v != 0) return i;
  }
  return -1;
}

/**
 * Batch-hard (see scalar.ts), value first, index second. With m the lanes to maximise over
 * (positives for distances, negatives for similarities), the scan keeps max(x | ~m) and
 * min(x | m): OR-ing all-ones turns masked lanes into NaN, which `pmax`/`pmin`/`gt`/`lt` never
 * pick. The diagonal is hidden the same way (a NaN is stored there for the row and restored).
 * Rows are scanned 8 columns at a time in blocks of 64; per lane only the earliest block that
 * raised the best value is remembered, and that one block is rescanned for the first index
 * holding the row's best value, so ties go to the lower index. Columns past B & ~7 are scalar.
 * Each row is checked for NaN and ±Infinity first (while it is pulled into cache); returns the
 * first row holding one (outputs are then incomplete), or -1.
 */
export function batch_hard_f32(
  dist: usize,
  same: usize,
  b: i32,
  sign: f32,
  outPos: usize,
  outNeg: usize,
  outPosD: usize,
  outNegD: usize,
): i32 {
  const b8 = b & ~7;
  const fzero = f32x4.splat(0);
  const flip = sign < 0 ? i8x16.splat(-1) : i8x16.splat(0);
  const zero = i8x16.splat(0);
  const one = i32x4.splat(1);
  const ninf = f32x4.splat(-Infinity);
  const pinf = f32x4.splat(Infinity);
  const none = i32x4.splat(-1);
  for (let i = 0; i < b; i++) {
    const row = dist + (<usize> i * <usize> b << 2);
    const srow = same + <usize> i * <usize> b;
    // validate the row while it is pulled into cache: v - v is NaN exactly for NaN and ±Infinity
    let finA = fzero;
    let finB = fzero;
    for (let j = 0; j < b8; j += 8) {
      const xA = v128.load(row + (<usize> j << 2));
      const xB = v128.load(row + (<usize> j << 2), 16);
      finA = f32x4.add(finA, f32x4.sub(xA, xA));
      finB = f32x4.add(finB, f32x4.sub(xB, xB));
    }
    if (v128.any_true(f32x4.ne(f32x4.add(finA, finB), fzero))) return i;
    for (let j = b8; j < b; j++) {
      const x = load<f32>(row + (<usize> j << 2));
      if (x - x != 0) return i;
    }
    const diag = load<u32>(row + (<usize> i << 2));
    store<u32>(row + (<usize> i << 2), 0xffffffff);
    let maxA = ninf;
    let maxB = ninf;
    let minA = pinf;
    let minB = pinf;
    let kMaxA = none;
    let kMaxB = none;
    let kMinA = none;
    let kMinB = none;
    let kv = i32x4.splat(0);
    for (let j0 = 0; j0 < b8; j0 += 64) {
      const end = min(j0 + 64, b8);
      let bMaxA = ninf;
      let bMaxB = ninf;
      let bMinA = pinf;
      let bMinB = pinf;
      for (let j = j0; j < end; j += 8) {
        const m8 = v128.xor(i8x16.ne(v128.load64_zero(srow + <usize> j), zero), flip);
        const m16 = i16x8.extend_low_i8x16_s(m8);
        const mA = i32x4.extend_low_i16x8_s(m16);
        const mB = i32x4.extend_high_i16x8_s(m16);
        const xA = v128.load(row + (<usize> j << 2));
        const xB = v128.load(row + (<usize> j << 2), 16);
        bMaxA = f32x4.pmax(bMaxA, v128.or(xA, v128.not(mA)));
        bMaxB = f32x4.pmax(bMaxB, v128.or(xB, v128.not(mB)));
        bMinA = f32x4.pmin(bMinA, v128.or(xA, mA));
        bMinB = f32x4.pmin(bMinB, v128.or(xB, mB));
      }
      const uMaxA = f32x4.gt(bMaxA, maxA);
      const uMaxB = f32x4.gt(bMaxB, maxB);
      const uMinA = f32x4.lt(bMinA, minA);
      const uMinB = f32x4.lt(bMinB, minB);
      maxA = f32x4.pmax(maxA, bMaxA);
      maxB = f32x4.pmax(maxB, bMaxB);
      minA = f32x4.pmin(minA, bMinA);
      minB = f32x4.pmin(minB, bMinB);
      kMaxA = v128.bitselect(kv, kMaxA, uMaxA);
      kMaxB = v128.bitselect(kv, kMaxB, uMaxB);
      kMinA = v128.bitselect(kv, kMinA, uMinA);
      kMinB = v128.bitselect(kv, kMinB, uMinB);
      kv = i32x4.add(kv, one);
    }
    // the row's best values and the earliest block holding each
    const vMax = lanesMax(f32x4.pmax(maxA, maxB));
    const vMin = lanesMin(f32x4.pmin(minA, minB));
    let jMax = -1;
    let jMin = -1;
    if (vMax > -Infinity) {
      jMax = firstIndex(row, srow, earliestBlock(maxA, maxB, kMaxA, kMaxB, vMax) << 6, b8, vMax, true, flip);
    }
    if (vMin < Infinity) {
      jMin = firstIndex(row, srow, earliestBlock(minA, minB, kMinA, kMinB, vMin) << 6, b8, vMin, false, flip);
    }
    store<u32>(row + (<usize> i << 2), diag);
    // tail: higher indices than the vector part, so strict comparisons keep ties on the lower index
    let vp = vMax;
    let vn = vMin;
    for (let j = b8; j < b; j++) {
      if (j == i) continue;
      const x = load<f32>(row + (<usize> j << 2));
      const m = (load<u8>(srow + <usize> j) != 0) != (sign < 0);
      if (m) {
        if (jMax < 0 || x > vp) {
          vp = x;
          jMax = j;
        }
      } else if (jMin < 0 || x < vn) {
        vn = x;
        jMin = j;
      }
    }
    const p = sign < 0 ? jMin : jMax;
    const n = sign < 0 ? jMax : jMin;
    store<i32>(outPos + (<usize> i << 2), p);
    store<i32>(outNeg + (<usize> i << 2), n);
    store<f32>(outPosD + (<usize> i << 2), p >= 0 ? load<f32>(row + (<usize> p << 2)) : NaN);
    store<f32>(outNegD + (<usize> i << 2), n >= 0 ? load<f32>(row + (<usize> n << 2)) : NaN);
  }
  return -1;
}

/** Largest of the four lanes. */
function lanesMax(v: v128): f32 {
  return max(
    max(f32x4.extract_lane(v, 0), f32x4.extract_lane(v, 1)),
    max(f32x4.extract_lane(v, 2), f32x4.extract_lane(v, 3)),
  );
}

/** Smallest of the four lanes. */
function lanesMin(v: v128): f32 {
  return min(
    min(f32x4.extract_lane(v, 0), f32x4.extract_lane(v, 1)),
    min(f32x4.extract_lane(v, 2), f32x4.extract_lane(v, 3)),
  );
}

/** Smallest block index over the lanes of both accumulator sets whose best equals `v`. */
function earliestBlock(a: v128, b: v128, ka: v128, kb: v128, v: f32): i32 {
  const vv = f32x4.splat(v);
  const big = i32x4.splat(0x7fffffff);
  const ea = v128.bitselect(ka, big, f32x4.eq(a, vv));
  const eb = v128.bitselect(kb, big, f32x4.eq(b, vv));
  const e = i32x4.min_s(ea, eb);
  return min(
    min(i32x4.extract_lane(e, 0), i32x4.extract_lane(e, 1)),
    min(i32x4.extract_lane(e, 2), i32x4.extract_lane(e, 3)),
  );
}

/** First column j in [start, min(start + 64, end)) in the scanned lanes (m, or ~m) whose value equals v. */
function firstIndex(row: usize, srow: usize, start: i32, end: i32, v: f32, inM: bool, flip: v128): i32 {
  const vv = f32x4.splat(v);
  const zero = i8x16.splat(0);
  const stop = min(start + 64, end);
  for (let j = start; j < stop; j += 8) {
    let m8 = v128.xor(i8x16.ne(v128.load64_zero(srow + <usize> j), zero), flip);
    if (!inM) m8 = v128.not(m8);
    const m16 = i16x8.extend_low_i8x16_s(m8);
    const hitA = v128.and(f32x4.eq(v128.load(row + (<usize> j << 2)), vv), i32x4.extend_low_i16x8_s(m16));
    const hitB = v128.and(f32x4.eq(v128.load(row + (<usize> j << 2), 16), vv), i32x4.extend_high_i16x8_s(m16));
    const bits = i32x4.bitmask(hitA) | (i32x4.bitmask(hitB) << 4);
    if (bits != 0) return j + ctz(bits);
  }
  return -1;
}

/**
 * Triplet-margin enumeration (see scalar.ts). Per anchor the negatives are compacted once
 * (indices and f64 x values); per positive the kept negatives are found two at a time with
 * f64x2 comparisons and a bitmask, so counting is a popcount and writing is per set bit.
 */
export function triplet_margin_f32(
  dist: usize,
  same: usize,
  b: i32,
  sign: f64,
  lo: f64,
  hi: f64,
  scratch: usize,
  out: usize,
  cap: i32,
): f64 {
  const negIdx = scratch;
  const posIdx = negIdx + (<usize> b << 2);
  const negX = (posIdx + (<usize> b << 2) + 15) & ~15;
  const lov = f64x2.splat(lo);
  const hiv = f64x2.splat(hi);
  let count: i64 = 0;
  const cap64 = <i64> cap;
  for (let a = 0; a < b; a++) {
    const row = dist + (<usize> a * <usize> b << 2);
    const srow = same + <usize> a * <usize> b;
    let np = 0;
    let nn = 0;
    for (let j = 0; j < b; j++) {
      if (j == a) continue;
      if (load<u8>(srow + <usize> j) != 0) {
        store<i32>(posIdx + (<usize> np << 2), j);
        np++;
      } else {
        store<i32>(negIdx + (<usize> nn << 2), j);
        store<f64>(negX + (<usize> nn << 3), sign * <f64> load<f32>(row + (<usize> j << 2)));
        nn++;
      }
    }
    const nn4 = nn & ~3;
    for (let q = 0; q < np; q++) {
      const p = load<i32>(posIdx + (<usize> q << 2));
      const xp = sign * <f64> load<f32>(row + (<usize> p << 2));
      const xpv = f64x2.splat(xp);
      let m = 0;
      for (; m < nn4; m += 4) {
        const t0 = f64x2.sub(v128.load(negX + (<usize> m << 3)), xpv);
        const t1 = f64x2.sub(v128.load(negX + (<usize> m << 3), 16), xpv);
        const k0 = v128.and(f64x2.gt(t0, lov), f64x2.le(t0, hiv));
        const k1 = v128.and(f64x2.gt(t1, lov), f64x2.le(t1, hiv));
        let bits = i64x2.bitmask(k0) | (i64x2.bitmask(k1) << 2);
        if (bits == 0) continue;
        if (count + 4 <= cap64 || count < cap64) {
          while (bits != 0) {
            const l = ctz(bits);
            bits &= bits - 1;
            if (count < cap64) {
              const o = out + (<usize> count * 12);
              store<i32>(o, a);
              store<i32>(o + 4, p);
              store<i32>(o + 8, load<i32>(negIdx + (<usize> (m + l) << 2)));
            }
            count++;
          }
        } else {
          count += <i64> popcnt(bits);
        }
      }
      for (; m < nn; m++) {
        const t = load<f64>(negX + (<usize> m << 3)) - xp;
        if (t > lo && t <= hi) {
          if (count < cap64) {
            const o = out + (<usize> count * 12);
            store<i32>(o, a);
            store<i32>(o + 4, p);
            store<i32>(o + 8, load<i32>(negIdx + (<usize> m << 2)));
          }
          count++;
        }
      }
    }
  }
  return <f64> count;
}

/** Largest f32 ≤ t (so that, for every f32 x, x > result ⇔ x > t in f64). */
function f32AtOrBelow(t: f64): f32 {
  const f = <f32> t;
  if (<f64> f <= t) return f;
  if (f == 0) return reinterpret<f32>(<u32> 0x80000001);
  const bits = reinterpret<u32>(f);
  return reinterpret<f32>(f > 0 ? bits - 1 : bits + 1);
}

/** Smallest f32 ≥ t (so that, for every f32 x, x < result ⇔ x < t in f64). */
function f32AtOrAbove(t: f64): f32 {
  return -f32AtOrBelow(-t);
}

/** Write pairs (a, j0 + lane) for the set bits of `bits` while fewer than cap were written; returns the new count. */
function emitPairs(out: usize, count: i32, cap: i32, a: i32, j0: i32, bits: i32): i32 {
  while (bits != 0) {
    if (count < cap) {
      const o = out + (<usize> count << 3);
      store<i32>(o, a);
      store<i32>(o + 4, j0 + ctz(bits));
    }
    bits &= bits - 1;
    count++;
  }
  return count;
}

/** Positive-pair mask (i32x4, all ones where same != 0) of the 4 bytes at p. */
function sameMask4(p: usize): v128 {
  const s = i32x4.extend_low_i16x8_u(i16x8.extend_low_i8x16_u(v128.load32_zero(p)));
  return i32x4.ne(s, i32x4.splat(0));
}

/**
 * Pair-margin (see scalar.ts). The f64 thresholds are turned into the f32 thresholds that give
 * the same answer for every f32 value, so 4 columns are compared at once; the diagonal holds a
 * NaN while its row is scanned (restored after), which no comparison keeps.
 */
export function pair_margin_f32(
  dist: usize,
  same: usize,
  b: i32,
  sign: f64,
  posMargin: f64,
  negMargin: f64,
  outPos: usize,
  capPos: i32,
  outNeg: usize,
  capNeg: i32,
  counts: usize,
): void {
  const pm = f32AtOrBelow(sign * posMargin);
  const nm = f32AtOrAbove(sign * negMargin);
  const pmv = f32x4.splat(pm);
  const nmv = f32x4.splat(nm);
  const sf = <f32> sign;
  const signv = f32x4.splat(sf);
  const b4 = b & ~3;
  let cp = 0;
  let cn = 0;
  for (let a = 0; a < b; a++) {
    const row = dist + (<usize> a * <usize> b << 2);
    const srow = same + <usize> a * <usize> b;
    const diag = load<u32>(row + (<usize> a << 2));
    store<u32>(row + (<usize> a << 2), 0xffffffff);
    for (let j = 0; j < b4; j += 4) {
      const x = f32x4.mul(signv, v128.load(row + (<usize> j << 2)));
      const m = sameMask4(srow + <usize> j);
      const pb = i32x4.bitmask(v128.and(f32x4.gt(x, pmv), m));
      const nb = i32x4.bitmask(v128.andnot(f32x4.lt(x, nmv), m));
      if (pb != 0) cp = emitPairs(outPos, cp, capPos, a, j, pb);
      if (nb != 0) cn = emitPairs(outNeg, cn, capNeg, a, j, nb);
    }
    for (let j = b4; j < b; j++) {
      const x = sf * load<f32>(row + (<usize> j << 2));
      if (load<u8>(srow + <usize> j) != 0) {
        if (x > pm) cp = emitPairs(outPos, cp, capPos, a, j, 1);
      } else if (x < nm) {
        cn = emitPairs(outNeg, cn, capNeg, a, j, 1);
      }
    }
    store<u32>(row + (<usize> a << 2), diag);
  }
  store<i32>(counts, cp);
  store<i32>(counts + 4, cn);
}

/**
 * Multi-similarity (see scalar.ts). Pass 1 finds max over positives and min over negatives
 * with the NaN-mask trick of batch_hard_f32 (exact in f32); pass 2 compares x ± eps in f64,
 * 2 lanes per f64x2, 4 columns per step. The diagonal holds a NaN while its row is scanned.
 */
export function multi_similarity_f32(
  dist: usize,
  same: usize,
  b: i32,
  sign: f64,
  eps: f64,
  outPos: usize,
  capPos: i32,
  outNeg: usize,
  capNeg: i32,
  counts: usize,
): void {
  const sf = <f32> sign;
  const signv = f32x4.splat(sf);
  const epsv = f64x2.splat(eps);
  const ninf = f32x4.splat(-Infinity);
  const pinf = f32x4.splat(Infinity);
  const b4 = b & ~3;
  let cp = 0;
  let cn = 0;
  for (let a = 0; a < b; a++) {
    const row = dist + (<usize> a * <usize> b << 2);
    const srow = same + <usize> a * <usize> b;
    const diag = load<u32>(row + (<usize> a << 2));
    store<u32>(row + (<usize> a << 2), 0xffffffff);
    let maxP = ninf;
    let minN = pinf;
    for (let j = 0; j < b4; j += 4) {
      const x = f32x4.mul(signv, v128.load(row + (<usize> j << 2)));
      const m = sameMask4(srow + <usize> j);
      maxP = f32x4.pmax(maxP, v128.or(x, v128.not(m)));
      minN = f32x4.pmin(minN, v128.or(x, m));
    }
    let maxPos = <f64> lanesMax(maxP);
    let minNeg = <f64> lanesMin(minN);
    for (let j = b4; j < b; j++) {
      if (j == a) continue;
      const x = <f64> (sf * load<f32>(row + (<usize> j << 2)));
      if (load<u8>(srow + <usize> j) != 0) maxPos = max(maxPos, x);
      else minNeg = min(minNeg, x);
    }
    const minNegv = f64x2.splat(minNeg);
    const maxPosv = f64x2.splat(maxPos);
    for (let j = 0; j < b4; j += 4) {
      const x = f32x4.mul(signv, v128.load(row + (<usize> j << 2)));
      const lo = f64x2.promote_low_f32x4(x);
      const hi = f64x2.promote_low_f32x4(v128.shuffle<f32>(x, x, 2, 3, 0, 1));
      const mb = i32x4.bitmask(sameMask4(srow + <usize> j));
      const keepP = i64x2.bitmask(f64x2.gt(f64x2.add(lo, epsv), minNegv)) |
        (i64x2.bitmask(f64x2.gt(f64x2.add(hi, epsv), minNegv)) << 2);
      const keepN = i64x2.bitmask(f64x2.lt(f64x2.sub(lo, epsv), maxPosv)) |
        (i64x2.bitmask(f64x2.lt(f64x2.sub(hi, epsv), maxPosv)) << 2);
      const pb = keepP & mb;
      const nb = keepN & ~mb;
      if (pb != 0) cp = emitPairs(outPos, cp, capPos, a, j, pb);
      if (nb != 0) cn = emitPairs(outNeg, cn, capNeg, a, j, nb);
    }
    for (let j = b4; j < b; j++) {
      if (j == a) continue;
      const x = <f64> (sf * load<f32>(row + (<usize> j << 2)));
      if (load<u8>(srow + <usize> j) != 0) {
        if (x + eps > minNeg) cp = emitPairs(outPos, cp, capPos, a, j, 1);
      } else if (x - eps < maxPos) {
        cn = emitPairs(outNeg, cn, capNeg, a, j, 1);
      }
    }
    store<u32>(row + (<usize> a << 2), diag);
  }
  store<i32>(counts, cp);
  store<i32>(counts + 4, cn);
}
