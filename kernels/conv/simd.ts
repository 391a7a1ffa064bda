// deno-fmt-ignore-file (AssemblyScript: deno fmt would drop the @inline decorators)
// Convolution-gradient kernels, WebAssembly SIMD build. Same exports, memory contract and
// bit-identical results as scalar.ts (see README.md): each filter tap is an outer-product
// accumulation dW_tap (ci×co) += Xᵀ·dY over one output row, computed in register tiles of
// 4 input channels × 8 output channels (f32x4 multiply then add, the scalar build's order).
// Tails: co mod 8 ≥ 4 takes a 4×4 tile, co mod 4 a scalar column, ci mod 4 single rows.
import { endCol, firstCol } from "./common";
import {
  jA, jB, jCi, jCo, jH, jHo, jKh, jKw, jOut, jPl, jPt, jSh, jSw, jW, jWo, OP_FILTER_PARTS, OP_INPUT, OP_POOL_GRAD,
  OP_SUM_PARTS,
  readConvJob, sumParts,
} from "./common";
import { addInto, transposeTaps } from "./scalar";

export { transposeTaps };

/**
 * dW[r, c, i, j] = Σ_{b, oh, ow} x[b, oh·sh − pt + r, ow·sw − pl + c, i] · dy[b, oh, ow, j].
 * x: n×h×w×ci f32 (NHWC), dy: n×ho×wo×co f32, dw: kh×kw×ci×co f32 (HWIO, overwritten),
 * part: kh×kw×ci×co f32 scratch. Sums are three-level (row partials into a per-image partial,
 * image partials into dw) to keep f32 rounding error low.
 */
export function conv2d_backprop_filter_f32(
  x: usize, dy: usize, dw: usize, part: usize,
  n: i32, h: i32, w: i32, ci: i32, ho: i32, wo: i32, co: i32,
  kh: i32, kw: i32, sh: i32, sw: i32, pt: i32, pl: i32,
): void {
  const total = <i32>kh * kw * ci * co;
  memory.fill(dw, 0, <usize>total << 2);
  for (let b = 0; b < n; b++) {
    filterImage(x, dy, part, b, h, w, ci, ho, wo, co, kh, kw, sh, sw, pt, pl);
    addInto(dw, part, total);
  }
}

/** Image b's partial of dW (its sum over oh, ow) into part (kh×kw×ci×co, overwritten). */
export function filterImage(
  x: usize, dy: usize, part: usize, b: i32,
  h: i32, w: i32, ci: i32, ho: i32, wo: i32, co: i32,
  kh: i32, kw: i32, sh: i32, sw: i32, pt: i32, pl: i32,
): void {
  const total = <i32>kh * kw * ci * co;
  const xs: usize = (<usize>sw * <usize>ci) << 2;
  const ds: usize = <usize>co << 2;
  memory.fill(part, 0, <usize>total << 2);
  for (let oh = 0; oh < ho; oh++) {
    const dyRow = dy + ((<usize>(b * ho + oh) * <usize>wo * <usize>co) << 2);
    for (let r = 0; r < kh; r++) {
      const ih = oh * sh - pt + r;
      if (ih < 0 || ih >= h) continue;
      const xRow = x + ((<usize>(b * h + ih) * <usize>w * <usize>ci) << 2);
      for (let c = 0; c < kw; c++) {
        const lo = firstCol(c, sw, pl);
        const hi = endCol(c, sw, pl, w, wo);
        if (lo >= hi) continue;
        const xp = xRow + ((<usize>(lo * sw - pl + c) * <usize>ci) << 2);
        const dp = dyRow + ((<usize>lo * <usize>co) << 2);
        const wt = part + ((<usize>(r * kw + c) * <usize>ci * <usize>co) << 2);
        tap(xp, dp, hi - lo, xs, ds, wt, ci, co);
      }
    }
  }
}

function tap(xp: usize, dp: usize, cnt: i32, xs: usize, ds: usize, wt: usize, ci: i32, co: i32): void {
  const wrow: usize = <usize>co << 2;
  const ci4 = ci & ~3;
  const co8 = co & ~7;
  const co4 = co & ~3;
  let i = 0;
  for (; i < ci4; i += 4) {
    const wr = wt + <usize>i * wrow;
    const px = xp + (<usize>i << 2);
    let j = 0;
    for (; j < co8; j += 8) tile4x8(px, dp + (<usize>j << 2), cnt, xs, ds, wr + (<usize>j << 2), wrow);
    for (; j < co4; j += 4) tile4x4(px, dp + (<usize>j << 2), cnt, xs, ds, wr + (<usize>j << 2), wrow);
    for (; j < co; j++) {
      for (let t = 0; t < 4; t++) col(px + (<usize>t << 2), dp + (<usize>j << 2), cnt, xs, ds, wr + <usize>t * wrow + (<usize>j << 2));
    }
  }
  for (; i < ci; i++) {
    const wr = wt + <usize>i * wrow;
    const px = xp + (<usize>i << 2);
    let j = 0;
    for (; j < co4; j += 4) tile1x4(px, dp + (<usize>j << 2), cnt, xs, ds, wr + (<usize>j << 2));
    for (; j < co; j++) col(px, dp + (<usize>j << 2), cnt, xs, ds, wr + (<usize>j << 2));
  }
}

@inline function madd(acc: v128, a: v128, b: v128): v128 {
  return f32x4.add(acc, f32x4.mul(a, b));
}

/** 4 input channels × 8 output channels. */
function tile4x8(px: usize, pd: usize, cnt: i32, xs: usize, ds: usize, w: usize, wrow: usize): void {
  const w1 = w + wrow;
  const w2 = w1 + wrow;
  const w3 = w2 + wrow;
  const z = f32x4.splat(0);
  let a00 = z, a01 = z, a10 = z, a11 = z, a20 = z, a21 = z, a30 = z, a31 = z;
  for (let k = 0; k < cnt; k++) {
    const d0 = v128.load(pd);
    const d1 = v128.load(pd, 16);
    const x0 = f32x4.splat(load<f32>(px));
    const x1 = f32x4.splat(load<f32>(px, 4));
    const x2 = f32x4.splat(load<f32>(px, 8));
    const x3 = f32x4.splat(load<f32>(px, 12));
    a00 = madd(a00, x0, d0); a01 = madd(a01, x0, d1);
    a10 = madd(a10, x1, d0); a11 = madd(a11, x1, d1);
    a20 = madd(a20, x2, d0); a21 = madd(a21, x2, d1);
    a30 = madd(a30, x3, d0); a31 = madd(a31, x3, d1);
    px += xs;
    pd += ds;
  }
  acc(w, a00, 0); acc(w, a01, 16);
  acc(w1, a10, 0); acc(w1, a11, 16);
  acc(w2, a20, 0); acc(w2, a21, 16);
  acc(w3, a30, 0); acc(w3, a31, 16);
}

/** part[w + off .. +16) += a. */
@inline function acc(w: usize, a: v128, off: usize): void {
  v128.store(w + off, f32x4.add(v128.load(w + off), a));
}

/** 4 input channels × 4 output channels. */
function tile4x4(px: usize, pd: usize, cnt: i32, xs: usize, ds: usize, w: usize, wrow: usize): void {
  const w1 = w + wrow;
  const w2 = w1 + wrow;
  const w3 = w2 + wrow;
  const z = f32x4.splat(0);
  let a0 = z, a1 = z, a2 = z, a3 = z;
  for (let k = 0; k < cnt; k++) {
    const d = v128.load(pd);
    a0 = madd(a0, f32x4.splat(load<f32>(px)), d);
    a1 = madd(a1, f32x4.splat(load<f32>(px, 4)), d);
    a2 = madd(a2, f32x4.splat(load<f32>(px, 8)), d);
    a3 = madd(a3, f32x4.splat(load<f32>(px, 12)), d);
    px += xs;
    pd += ds;
  }
  acc(w, a0, 0); acc(w1, a1, 0); acc(w2, a2, 0); acc(w3, a3, 0);
}

/** 1 input channel × 4 output channels. */
function tile1x4(px: usize, pd: usize, cnt: i32, xs: usize, ds: usize, w: usize): void {
  let a = f32x4.splat(0);
  for (let k = 0; k < cnt; k++) {
    a = madd(a, f32x4.splat(load<f32>(px)), v128.load(pd));
    px += xs;
    pd += ds;
  }
  acc(w, a, 0);
}

/** 1 input channel × 1 output channel (scalar tail). */
function col(px: usize, pd: usize, cnt: i32, xs: usize, ds: usize, w: usize): void {
  let s: f32 = 0;
  for (let k = 0; k < cnt; k++) {
    s = s + load<f32>(px) * load<f32>(pd);
    px += xs;
    pd += ds;
  }
  store<f32>(w, load<f32>(w) + s);
}

/**
 * out[s, :] = Σ_{i : ids[i] = s} x[i, :]; rows whose id is outside [0, segments) are dropped.
 * x: n×inner f32, ids: n i32, out: segments×inner f32 (overwritten). 4 lanes at a time, scalar tail.
 */
export function unsorted_segment_sum_f32(x: usize, ids: usize, out: usize, n: i32, inner: i32, segments: i32): void {
  memory.fill(out, 0, (<usize>segments * <usize>inner) << 2);
  const rowBytes: usize = <usize>inner << 2;
  const inner4 = inner & ~3;
  for (let i = 0; i < n; i++) {
    const s = load<i32>(ids + (<usize>i << 2));
    if (s < 0 || s >= segments) continue;
    const src = x + <usize>i * rowBytes;
    const dst = out + <usize>s * rowBytes;
    let j = 0;
    for (; j < inner4; j += 4) {
      const o = <usize>j << 2;
      v128.store(dst + o, f32x4.add(v128.load(dst + o), v128.load(src + o)));
    }
    for (; j < inner; j++) {
      const o = <usize>j << 2;
      store<f32>(dst + o, load<f32>(dst + o) + load<f32>(src + o));
    }
  }
}

/**
 * dx[b, ih, iw, i] = Σ_{r, c, j} dy[b, oh, ow, j] · W[r, c, i, j] over the (oh, ow) with
 * oh·sh − pt + r = ih and ow·sw − pl + c = iw. dy: n×ho×wo×co, w: kh×kw×ci×co (HWIO),
 * dx: n×h×w×ci (overwritten), wt: kh×kw×co×ci scratch (W transposed per tap). Per tap and
 * output row, DX (cnt×ci) += DY (cnt×co) · Wtᵀ in register tiles of 4 positions × 8 channels.
 */
export function conv2d_backprop_input_f32(
  dy: usize, w: usize, dx: usize, wt: usize,
  n: i32, h: i32, wd: i32, ci: i32, ho: i32, wo: i32, co: i32,
  kh: i32, kw: i32, sh: i32, sw: i32, pt: i32, pl: i32,
): void {
  transposeTaps(w, wt, kh * kw, ci, co);
  inputImages(dy, wt, dx, 0, n, h, wd, ci, ho, wo, co, kh, kw, sh, sw, pt, pl);
}

/** dx of images [b0, b1) (overwritten) from dy and the taps already transposed into wt. */
export function inputImages(
  dy: usize, wt: usize, dx: usize, b0: i32, b1: i32,
  h: i32, wd: i32, ci: i32, ho: i32, wo: i32, co: i32,
  kh: i32, kw: i32, sh: i32, sw: i32, pt: i32, pl: i32,
): void {
  const img: usize = (<usize>h * <usize>wd * <usize>ci) << 2;
  memory.fill(dx + <usize>b0 * img, 0, <usize>(b1 - b0) * img);
  const xs: usize = (<usize>sw * <usize>ci) << 2;
  const ds: usize = <usize>co << 2;
  for (let b = b0; b < b1; b++) {
    for (let oh = 0; oh < ho; oh++) {
      const dyRow = dy + ((<usize>(b * ho + oh) * <usize>wo * <usize>co) << 2);
      for (let r = 0; r < kh; r++) {
        const ih = oh * sh - pt + r;
        if (ih < 0 || ih >= h) continue;
        const xRow = dx + ((<usize>(b * h + ih) * <usize>wd * <usize>ci) << 2);
        for (let c = 0; c < kw; c++) {
          const lo = firstCol(c, sw, pl);
          const hi = endCol(c, sw, pl, wd, wo);
          if (lo >= hi) continue;
          const xp = xRow + ((<usize>(lo * sw - pl + c) * <usize>ci) << 2);
          const dp = dyRow + ((<usize>lo * <usize>co) << 2);
          const wtap = wt + ((<usize>(r * kw + c) * <usize>ci * <usize>co) << 2);
          tapInput(dp, xp, hi - lo, ds, xs, wtap, ci, co);
        }
      }
    }
  }
}

function tapInput(dp: usize, xp: usize, cnt: i32, ds: usize, xs: usize, wt: usize, ci: i32, co: i32): void {
  const wrow: usize = <usize>ci << 2;
  const ci8 = ci & ~7;
  const ci4 = ci & ~3;
  const k4 = cnt & ~3;
  let k = 0;
  for (; k < k4; k += 4) {
    const x = xp + <usize>k * xs;
    const d = dp + <usize>k * ds;
    let i = 0;
    for (; i < ci8; i += 8) in4x8(d, ds, x, xs, wt + (<usize>i << 2), wrow, co, i);
    for (; i < ci4; i += 4) in4x4(d, ds, x, xs, wt + (<usize>i << 2), wrow, co, i);
    for (; i < ci; i++) {
      for (let p = 0; p < 4; p++) inCol(d + <usize>p * ds, x + <usize>p * xs + (<usize>i << 2), wt + (<usize>i << 2), wrow, co);
    }
  }
  for (; k < cnt; k++) {
    const x = xp + <usize>k * xs;
    const d = dp + <usize>k * ds;
    let i = 0;
    for (; i < ci4; i += 4) in1x4(d, x + (<usize>i << 2), wt + (<usize>i << 2), wrow, co);
    for (; i < ci; i++) inCol(d, x + (<usize>i << 2), wt + (<usize>i << 2), wrow, co);
  }
}

/** 4 positions × 8 input channels (from channel i). */
function in4x8(d: usize, ds: usize, x: usize, xs: usize, pw: usize, wrow: usize, co: i32, i: i32): void {
  const o: usize = <usize>i << 2;
  const x0 = x + o;
  const x1 = x0 + xs;
  const x2 = x1 + xs;
  const x3 = x2 + xs;
  let a00 = v128.load(x0), a01 = v128.load(x0, 16);
  let a10 = v128.load(x1), a11 = v128.load(x1, 16);
  let a20 = v128.load(x2), a21 = v128.load(x2, 16);
  let a30 = v128.load(x3), a31 = v128.load(x3, 16);
  const d1 = d + ds;
  const d2 = d1 + ds;
  const d3 = d2 + ds;
  for (let j = 0; j < co; j++) {
    const w0 = v128.load(pw);
    const w1 = v128.load(pw, 16);
    const jo: usize = <usize>j << 2;
    const s0 = f32x4.splat(load<f32>(d + jo));
    const s1 = f32x4.splat(load<f32>(d1 + jo));
    const s2 = f32x4.splat(load<f32>(d2 + jo));
    const s3 = f32x4.splat(load<f32>(d3 + jo));
    a00 = madd(a00, s0, w0); a01 = madd(a01, s0, w1);
    a10 = madd(a10, s1, w0); a11 = madd(a11, s1, w1);
    a20 = madd(a20, s2, w0); a21 = madd(a21, s2, w1);
    a30 = madd(a30, s3, w0); a31 = madd(a31, s3, w1);
    pw += wrow;
  }
  v128.store(x0, a00); v128.store(x0, a01, 16);
  v128.store(x1, a10); v128.store(x1, a11, 16);
  v128.store(x2, a20); v128.store(x2, a21, 16);
  v128.store(x3, a30); v128.store(x3, a31, 16);
}

/** 4 positions × 4 input channels. */
function in4x4(d: usize, ds: usize, x: usize, xs: usize, pw: usize, wrow: usize, co: i32, i: i32): void {
  const x0 = x + (<usize>i << 2);
  const x1 = x0 + xs;
  const x2 = x1 + xs;
  const x3 = x2 + xs;
  let a0 = v128.load(x0), a1 = v128.load(x1), a2 = v128.load(x2), a3 = v128.load(x3);
  const d1 = d + ds;
  const d2 = d1 + ds;
  const d3 = d2 + ds;
  for (let j = 0; j < co; j++) {
    const wv = v128.load(pw);
    const jo: usize = <usize>j << 2;
    a0 = madd(a0, f32x4.splat(load<f32>(d + jo)), wv);
    a1 = madd(a1, f32x4.splat(load<f32>(d1 + jo)), wv);
    a2 = madd(a2, f32x4.splat(load<f32>(d2 + jo)), wv);
    a3 = madd(a3, f32x4.splat(load<f32>(d3 + jo)), wv);
    pw += wrow;
  }
  v128.store(x0, a0); v128.store(x1, a1); v128.store(x2, a2); v128.store(x3, a3);
}

/** 1 position × 4 input channels. */
function in1x4(d: usize, x: usize, pw: usize, wrow: usize, co: i32): void {
  let a = v128.load(x);
  for (let j = 0; j < co; j++) {
    a = madd(a, f32x4.splat(load<f32>(d + (<usize>j << 2))), v128.load(pw));
    pw += wrow;
  }
  v128.store(x, a);
}

/** 1 position × 1 input channel (scalar tail). */
function inCol(d: usize, x: usize, pw: usize, wrow: usize, co: i32): void {
  let acc = load<f32>(x);
  for (let j = 0; j < co; j++) {
    acc = acc + load<f32>(d + (<usize>j << 2)) * load<f32>(pw);
    pw += wrow;
  }
  store<f32>(x, acc);
}

/**
 * Max-pool gradient, same contract and results as scalar.ts: the window maximum and its
 * position are tracked for 4 channels at a time (f32x4.gt + bitselect keeps the first strict
 * maximum), then each lane's dy is added at its position. Channel tail (c mod 4) is scalar.
 */
export function max_pool_grad_f32(
  x: usize, dy: usize, dx: usize,
  n: i32, h: i32, w: i32, c: i32, ho: i32, wo: i32,
  kh: i32, kw: i32, sh: i32, sw: i32, pt: i32, pl: i32,
): void {
  poolGradImages(x, dy, dx, 0, n, h, w, c, ho, wo, kh, kw, sh, sw, pt, pl);
}

/** dx of images [b0, b1) (overwritten) of the max-pool gradient. */
export function poolGradImages(
  x: usize, dy: usize, dx: usize, b0: i32, b1: i32,
  h: i32, w: i32, c: i32, ho: i32, wo: i32,
  kh: i32, kw: i32, sh: i32, sw: i32, pt: i32, pl: i32,
): void {
  const img: usize = (<usize>h * <usize>w * <usize>c) << 2;
  memory.fill(dx + <usize>b0 * img, 0, <usize>(b1 - b0) * img);
  const c4 = c & ~3;
  for (let b = b0; b < b1; b++) {
    const xImg = x + ((<usize>b * <usize>h * <usize>w * <usize>c) << 2);
    const dxImg = dx + ((<usize>b * <usize>h * <usize>w * <usize>c) << 2);
    for (let oh = 0; oh < ho; oh++) {
      const r0 = oh * sh - pt;
      const rLo = max(0, r0);
      const rHi = min(h, r0 + kh);
      for (let ow = 0; ow < wo; ow++) {
        const c0 = ow * sw - pl;
        const cLo = max(0, c0);
        const cHi = min(w, c0 + kw);
        if (rLo >= rHi || cLo >= cHi) continue;
        const dyAt = dy + ((<usize>((b * ho + oh) * wo + ow) * <usize>c) << 2);
        let ch = 0;
        for (; ch < c4; ch += 4) {
          let best = f32x4.splat(-Infinity);
          let arg = i32x4.splat(-1);
          for (let r = rLo; r < rHi; r++) {
            for (let cc = cLo; cc < cHi; cc++) {
              const pos = r * w + cc;
              const v = v128.load(xImg + ((<usize>(pos * c + ch)) << 2));
              const m = f32x4.gt(v, best);
              best = v128.bitselect(v, best, m);
              arg = v128.bitselect(i32x4.splat(pos), arg, m);
            }
          }
          const g = v128.load(dyAt + (<usize>ch << 2));
          scatter(dxImg, i32x4.extract_lane(arg, 0), c, ch, f32x4.extract_lane(g, 0));
          scatter(dxImg, i32x4.extract_lane(arg, 1), c, ch + 1, f32x4.extract_lane(g, 1));
          scatter(dxImg, i32x4.extract_lane(arg, 2), c, ch + 2, f32x4.extract_lane(g, 2));
          scatter(dxImg, i32x4.extract_lane(arg, 3), c, ch + 3, f32x4.extract_lane(g, 3));
        }
        for (; ch < c; ch++) {
          let best = -Infinity;
          let arg = -1;
          for (let r = rLo; r < rHi; r++) {
            for (let cc = cLo; cc < cHi; cc++) {
              const v = load<f32>(xImg + ((<usize>((r * w + cc) * c + ch)) << 2));
              if (v > best) {
                best = v;
                arg = r * w + cc;
              }
            }
          }
          scatter(dxImg, arg, c, ch, load<f32>(dyAt + (<usize>ch << 2)));
        }
      }
    }
  }
}

@inline function scatter(dxImg: usize, pos: i32, c: i32, ch: i32, g: f32): void {
  if (pos < 0) return;
  const at = dxImg + ((<usize>(pos * c + ch)) << 2);
  store<f32>(at, load<f32>(at) + g);
}

/** Units [u0, u1) of the conv job at `p` (see `C_OP` in common.ts): run by the matmul modules' threads. */
export function convUnits(p: usize, u0: i32, u1: i32): void {
  const op = readConvJob(p);
  if (op == OP_FILTER_PARTS) {
    const total: usize = <usize>jKh * <usize>jKw * <usize>jCi * <usize>jCo;
    for (let b = u0; b < u1; b++) {
      filterImage(jA, jB, jOut + ((<usize>b * total) << 2), b, jH, jW, jCi, jHo, jWo, jCo, jKh, jKw, jSh, jSw, jPt, jPl);
    }
  } else if (op == OP_SUM_PARTS) {
    sumParts(u0, u1);
  } else if (op == OP_INPUT) {
    inputImages(jA, jB, jOut, u0, u1, jH, jW, jCi, jHo, jWo, jCo, jKh, jKw, jSh, jSw, jPt, jPl);
  } else if (op == OP_POOL_GRAD) {
    poolGradImages(jA, jB, jOut, u0, u1, jH, jW, jCi, jHo, jWo, jKh, jKw, jSh, jSw, jPt, jPl);
  }
}
