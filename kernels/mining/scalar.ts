// Mining kernels, scalar build. Memory contract in README.md: every pointer is a byte offset
// into linear memory laid out by the JS wrapper (packages/kernels/mining.ts); nothing here
// allocates. `dist` is B×B f32 row-major, `same` is B×B u8 (non-zero = positive pair); the
// diagonal is never a pair. `sign` is +1 for distances, -1 for similarities: every rule is
// written for distances on x = sign * d, which flips similarity comparisons exactly.

/** First index i < n whose f32 value is NaN or ±Infinity, or -1. */
export function first_nonfinite_f32(ptr: usize, n: i32): i32 {
  for (let i = 0; i < n; i++) {
    const v = load<f32>(ptr + (<usize> i << 2));
    if (v - v != 0) return i;
  }
  return -1;
}

/**
 * Batch-hard: per anchor i the hardest positive (argmax x over same != 0, j != i) and the
 * hardest negative (argmin x over same == 0, j != i), ties to the lower index. Writes indices
 * (-1 when none) and the raw values d (NaN when none). Returns the first row holding a NaN or
 * ±Infinity (outputs are then incomplete), or -1.
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
  for (let i = 0; i < b; i++) {
    const row = dist + (<usize> i * <usize> b << 2);
    const srow = same + <usize> i * <usize> b;
    let bestP: f32 = -Infinity;
    let bestN: f32 = Infinity;
    let p = -1;
    let n = -1;
    for (let j = 0; j < b; j++) {
      const x = sign * load<f32>(row + (<usize> j << 2));
      if (x - x != 0) return i;
      if (j == i) continue;
      if (load<u8>(srow + <usize> j) != 0) {
        if (x > bestP) {
          bestP = x;
          p = j;
        }
      } else if (x < bestN) {
        bestN = x;
        n = j;
      }
    }
    store<i32>(outPos + (<usize> i << 2), p);
    store<i32>(outNeg + (<usize> i << 2), n);
    store<f32>(outPosD + (<usize> i << 2), p >= 0 ? load<f32>(row + (<usize> p << 2)) : NaN);
    store<f32>(outNegD + (<usize> i << 2), n >= 0 ? load<f32>(row + (<usize> n << 2)) : NaN);
  }
  return -1;
}

/**
 * Triplet-margin enumeration: (a, p, n) with p positive and n negative of a, kept when
 * lo < t <= hi, t = x(a,n) - x(a,p) in f64. Writes [a, p, n] i32 triples to `out` while fewer
 * than `cap` were written, returns the total count (so cap = 0 only counts).
 * `scratch` holds 3 × B i32 (negative indices, positive indices) plus B f64, 16-byte aligned.
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
  let count: i64 = 0;
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
    for (let q = 0; q < np; q++) {
      const p = load<i32>(posIdx + (<usize> q << 2));
      const xp = sign * <f64> load<f32>(row + (<usize> p << 2));
      for (let m = 0; m < nn; m++) {
        const t = load<f64>(negX + (<usize> m << 3)) - xp;
        if (t > lo && t <= hi) {
          if (count < <i64> cap) {
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

/**
 * Pair-margin: positive pairs (a, j) with x > sign * posMargin, negative pairs with
 * x < sign * negMargin (f64 comparisons). Writes up to capPos / capNeg pairs, stores the total
 * counts as two i32 at `counts`.
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
  const pm = sign * posMargin;
  const nm = sign * negMargin;
  let cp = 0;
  let cn = 0;
  for (let a = 0; a < b; a++) {
    const row = dist + (<usize> a * <usize> b << 2);
    const srow = same + <usize> a * <usize> b;
    for (let j = 0; j < b; j++) {
      if (j == a) continue;
      const x = sign * <f64> load<f32>(row + (<usize> j << 2));
      if (load<u8>(srow + <usize> j) != 0) {
        if (x > pm) {
          if (cp < capPos) {
            store<i32>(outPos + (<usize> cp << 3), a);
            store<i32>(outPos + (<usize> cp << 3) + 4, j);
          }
          cp++;
        }
      } else if (x < nm) {
        if (cn < capNeg) {
          store<i32>(outNeg + (<usize> cn << 3), a);
          store<i32>(outNeg + (<usize> cn << 3) + 4, j);
        }
        cn++;
      }
    }
  }
  store<i32>(counts, cp);
  store<i32>(counts + 4, cn);
}

/**
 * Multi-similarity: per anchor, positives (a, p) with x(a,p) + eps > min over negatives x, and
 * negatives (a, n) with x(a,n) - eps < max over positives x (f64). Output as pair_margin_f32.
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
  let cp = 0;
  let cn = 0;
  for (let a = 0; a < b; a++) {
    const row = dist + (<usize> a * <usize> b << 2);
    const srow = same + <usize> a * <usize> b;
    let maxPos: f64 = -Infinity;
    let minNeg: f64 = Infinity;
    for (let j = 0; j < b; j++) {
      if (j == a) continue;
      const x = sign * <f64> load<f32>(row + (<usize> j << 2));
      if (load<u8>(srow + <usize> j) != 0) maxPos = max(maxPos, x);
      else minNeg = min(minNeg, x);
    }
    for (let j = 0; j < b; j++) {
      if (j == a) continue;
      const x = sign * <f64> load<f32>(row + (<usize> j << 2));
      if (load<u8>(srow + <usize> j) != 0) {
        if (x + eps > minNeg) {
          if (cp < capPos) {
            store<i32>(outPos + (<usize> cp << 3), a);
            store<i32>(outPos + (<usize> cp << 3) + 4, j);
          }
          cp++;
        }
      } else if (x - eps < maxPos) {
        if (cn < capNeg) {
          store<i32>(outNeg + (<usize> cn << 3), a);
          store<i32>(outNeg + (<usize> cn << 3) + 4, j);
        }
        cn++;
      }
    }
  }
  store<i32>(counts, cp);
  store<i32>(counts + 4, cn);
}
