// deno-fmt-ignore-file (AssemblyScript: deno fmt would drop the @inline decorators)
// Convolution-gradient kernels, scalar build. Memory contract and formulas in README.md;
// simd.ts has the same exports and gives bit-identical results (same per-element order of
// f32 multiply-then-add).
import { endCol, firstCol } from "./common";
import {
  jA, jB, jCi, jCo, jH, jHo, jKh, jKw, jOut, jPl, jPt, jSh, jSw, jW, jWo, OP_FILTER_PARTS, OP_INPUT, OP_POOL_GRAD,
  OP_SUM_PARTS,
  readConvJob, sumParts,
} from "./common";

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

/** dW_tap[i, j] += (Σ_k x[k·xs + i] · dy[k·ds + j]) over `cnt` output positions (a row partial). */
function tap(xp: usize, dp: usize, cnt: i32, xs: usize, ds: usize, wt: usize, ci: i32, co: i32): void {
  for (let i = 0; i < ci; i++) {
    const wr = wt + ((<usize>i * <usize>co) << 2);
    for (let j = 0; j < co; j++) {
      let acc: f32 = 0;
      let px = xp + (<usize>i << 2);
      let pd = dp + (<usize>j << 2);
      for (let k = 0; k < cnt; k++) {
        acc = acc + load<f32>(px) * load<f32>(pd);
        px += xs;
        pd += ds;
      }
      store<f32>(wr + (<usize>j << 2), load<f32>(wr + (<usize>j << 2)) + acc);
    }
  }
}

/**
 * out[s, :] = Σ_{i : ids[i] = s} x[i, :]; rows whose id is outside [0, segments) are dropped.
 * x: n×inner f32, ids: n i32, out: segments×inner f32 (overwritten).
 */
export function unsorted_segment_sum_f32(x: usize, ids: usize, out: usize, n: i32, inner: i32, segments: i32): void {
  memory.fill(out, 0, (<usize>segments * <usize>inner) << 2);
  const rowBytes: usize = <usize>inner << 2;
  for (let i = 0; i < n; i++) {
    const s = load<i32>(ids + (<usize>i << 2));
    if (s < 0 || s >= segments) continue;
    const src = x + <usize>i * rowBytes;
    const dst = out + <usize>s * rowBytes;
    for (let j = 0; j < inner; j++) {
      const o = <usize>j << 2;
      store<f32>(dst + o, load<f32>(dst + o) + load<f32>(src + o));
    }
  }
}

/**
 * dx[b, ih, iw, i] = Σ_{r, c, j} dy[b, oh, ow, j] · W[r, c, i, j] over the (oh, ow) with
 * oh·sh − pt + r = ih and ow·sw − pl + c = iw. dy: n×ho×wo×co, w: kh×kw×ci×co (HWIO),
 * dx: n×h×w×ci (overwritten), wt: kh×kw×co×ci scratch (W transposed per tap).
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

/** wt[t, j, i] = w[t, i, j] for each of `taps` ci×co blocks. */
export function transposeTaps(w: usize, wt: usize, taps: i32, ci: i32, co: i32): void {
  const block: usize = (<usize>ci * <usize>co) << 2;
  for (let t = 0; t < taps; t++) {
    const src = w + <usize>t * block;
    const dst = wt + <usize>t * block;
    for (let i = 0; i < ci; i++) {
      for (let j = 0; j < co; j++) {
        store<f32>(dst + ((<usize>(j * ci + i)) << 2), load<f32>(src + ((<usize>(i * co + j)) << 2)));
      }
    }
  }
}

/** dx[k·xs + i] += Σ_j dy[k·ds + j] · wt[j, i] over `cnt` positions. */
function tapInput(dp: usize, xp: usize, cnt: i32, ds: usize, xs: usize, wt: usize, ci: i32, co: i32): void {
  const wrow: usize = <usize>ci << 2;
  for (let k = 0; k < cnt; k++) {
    const x = xp + <usize>k * xs;
    const d = dp + <usize>k * ds;
    for (let i = 0; i < ci; i++) {
      let acc = load<f32>(x + (<usize>i << 2));
      let pw = wt + (<usize>i << 2);
      for (let j = 0; j < co; j++) {
        acc = acc + load<f32>(d + (<usize>j << 2)) * load<f32>(pw);
        pw += wrow;
      }
      store<f32>(x + (<usize>i << 2), acc);
    }
  }
}

/**
 * Max-pool gradient: each output window's dy goes to the first position (row-major in the
 * window) holding the window's strict maximum; padding never wins. x: n×h×w×c, dy: n×ho×wo×c,
 * dx: n×h×w×c (overwritten).
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
        const dyAt = dy + ((<usize>((b * ho + oh) * wo + ow) * <usize>c) << 2);
        for (let ch = 0; ch < c; ch++) {
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
          if (arg < 0) continue;
          const at = dxImg + ((<usize>(arg * c + ch)) << 2);
          store<f32>(at, load<f32>(at) + load<f32>(dyAt + (<usize>ch << 2)));
        }
      }
    }
  }
}

/** dst[t] += src[t] for t < count. */
export function addInto(dst: usize, src: usize, count: i32): void {
  for (let t = 0; t < count; t++) {
    const o = <usize>t << 2;
    store<f32>(dst + o, load<f32>(dst + o) + load<f32>(src + o));
  }
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
