/**
 * Plain-TS float64 references for the convolution-gradient kernels (`kernels/conv/`):
 * the filter gradient of a 2-D convolution and the unsorted segment sum (gather's gradient).
 *
 * @module
 */

/**
 * Geometry of an NHWC 2-D convolution with an HWIO filter, dilation 1. Output sizes and the
 * top/left padding are given explicitly (tfjs's `computeConv2DInfo` gives them for 'same',
 * 'valid' and explicit padding); the bottom/right padding is implied by the output size.
 */
export interface Conv2DGeometry {
  /** Images in the batch (N). */
  batch: number;
  /** Input height (H). */
  inHeight: number;
  /** Input width (W). */
  inWidth: number;
  /** Input channels (Ci). */
  inChannels: number;
  /** Output height (Ho). */
  outHeight: number;
  /** Output width (Wo). */
  outWidth: number;
  /** Output channels (Co). */
  outChannels: number;
  /** Filter height (kh). */
  filterHeight: number;
  /** Filter width (kw). */
  filterWidth: number;
  /** Vertical stride (sh). */
  strideHeight: number;
  /** Horizontal stride (sw). */
  strideWidth: number;
  /** Zero rows above the input (pt). */
  padTop: number;
  /** Zero columns left of the input (pl). */
  padLeft: number;
}

/**
 * Filter gradient of a convolution:
 * `dW[r, c, i, j] = Σ_{b, oh, ow} x[b, oh·sh − pt + r, ow·sw − pl + c, i] · dy[b, oh, ow, j]`,
 * taps that fall in the padding contributing 0.
 *
 * @param x input, `N × H × W × Ci` row-major
 * @param dy output gradient, `N × Ho × Wo × Co` row-major
 * @param g the convolution's geometry
 * @returns dW, `kh × kw × Ci × Co` row-major, in float64
 * @example
 * ```ts
 * import { conv2dBackpropFilterRef } from "@likeness/kernels/reference";
 * import assert from "node:assert/strict";
 * const g = { batch: 1, inHeight: 2, inWidth: 2, inChannels: 1, outHeight: 1, outWidth: 1, outChannels: 1,
 *   filterHeight: 2, filterWidth: 2, strideHeight: 1, strideWidth: 1, padTop: 0, padLeft: 0 };
 * assert.deepEqual([...conv2dBackpropFilterRef([1, 2, 3, 4], [2], g)], [2, 4, 6, 8]);
 * ```
 */
export function conv2dBackpropFilterRef(x: ArrayLike<number>, dy: ArrayLike<number>, g: Conv2DGeometry): Float64Array {
  const { batch, inHeight: h, inWidth: w, inChannels: ci, outHeight: ho, outWidth: wo, outChannels: co } = g;
  const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw, padTop: pt, padLeft: pl } = g;
  const dw = new Float64Array(kh * kw * ci * co);
  for (let r = 0; r < kh; r++) {
    for (let c = 0; c < kw; c++) {
      for (let i = 0; i < ci; i++) {
        for (let j = 0; j < co; j++) {
          let sum = 0;
          for (let b = 0; b < batch; b++) {
            for (let oh = 0; oh < ho; oh++) {
              const ih = oh * sh - pt + r;
              if (ih < 0 || ih >= h) continue;
              for (let ow = 0; ow < wo; ow++) {
                const iw = ow * sw - pl + c;
                if (iw < 0 || iw >= w) continue;
                sum += x[((b * h + ih) * w + iw) * ci + i] * dy[((b * ho + oh) * wo + ow) * co + j];
              }
            }
          }
          dw[((r * kw + c) * ci + i) * co + j] = sum;
        }
      }
    }
  }
  return dw;
}

/**
 * Input gradient of a convolution:
 * `dx[b, ih, iw, i] = Σ_{r, c, j} dy[b, oh, ow, j] · W[r, c, i, j]` over the output positions
 * with `oh·sh − pt + r = ih` and `ow·sw − pl + c = iw`.
 *
 * @param dy output gradient, `N × Ho × Wo × Co` row-major
 * @param w filter, `kh × kw × Ci × Co` row-major (HWIO)
 * @param g the convolution's geometry
 * @returns dx, `N × H × W × Ci` row-major, in float64
 * @example
 * ```ts
 * import { conv2dBackpropInputRef } from "@likeness/kernels/reference";
 * import assert from "node:assert/strict";
 * const g = { batch: 1, inHeight: 2, inWidth: 2, inChannels: 1, outHeight: 1, outWidth: 1, outChannels: 1,
 *   filterHeight: 2, filterWidth: 2, strideHeight: 1, strideWidth: 1, padTop: 0, padLeft: 0 };
 * assert.deepEqual([...conv2dBackpropInputRef([2], [1, 2, 3, 4], g)], [2, 4, 6, 8]);
 * ```
 */
export function conv2dBackpropInputRef(dy: ArrayLike<number>, w: ArrayLike<number>, g: Conv2DGeometry): Float64Array {
  const { batch, inHeight: h, inWidth: wd, inChannels: ci, outHeight: ho, outWidth: wo, outChannels: co } = g;
  const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw, padTop: pt, padLeft: pl } = g;
  const dx = new Float64Array(batch * h * wd * ci);
  for (let b = 0; b < batch; b++) {
    for (let ih = 0; ih < h; ih++) {
      for (let iw = 0; iw < wd; iw++) {
        for (let i = 0; i < ci; i++) {
          let sum = 0;
          for (let r = 0; r < kh; r++) {
            const ohs = ih + pt - r;
            if (ohs < 0 || ohs % sh !== 0 || ohs / sh >= ho) continue;
            for (let c = 0; c < kw; c++) {
              const ows = iw + pl - c;
              if (ows < 0 || ows % sw !== 0 || ows / sw >= wo) continue;
              const dyAt = ((b * ho + ohs / sh) * wo + ows / sw) * co;
              const wAt = ((r * kw + c) * ci + i) * co;
              for (let j = 0; j < co; j++) sum += dy[dyAt + j] * w[wAt + j];
            }
          }
          dx[((b * h + ih) * wd + iw) * ci + i] = sum;
        }
      }
    }
  }
  return dx;
}

/** Geometry of an NHWC 2-D pooling window (dilation 1): a {@link Conv2DGeometry} with one channel count. */
export type Pool2DGeometry = Omit<Conv2DGeometry, "inChannels" | "outChannels"> & {
  /** Channels (C), the same in and out. */
  channels: number;
};

/**
 * Max-pool gradient: each output window's `dy` goes to the first input position (row-major
 * within the window) holding the window's strict maximum, as tfjs-backend-cpu does; padding
 * never wins, and a window of only NaNs passes nothing.
 *
 * @param x pooled input, `N × H × W × C` row-major
 * @param dy output gradient, `N × Ho × Wo × C` row-major
 * @param g the pooling geometry
 * @returns dx, `N × H × W × C` row-major, in float64
 * @example
 * ```ts
 * import { maxPoolGradRef } from "@likeness/kernels/reference";
 * import assert from "node:assert/strict";
 * const g = { batch: 1, inHeight: 2, inWidth: 2, channels: 1, outHeight: 1, outWidth: 1,
 *   filterHeight: 2, filterWidth: 2, strideHeight: 2, strideWidth: 2, padTop: 0, padLeft: 0 };
 * assert.deepEqual([...maxPoolGradRef([1, 5, 5, 2], [3], g)], [0, 3, 0, 0]);
 * ```
 */
export function maxPoolGradRef(x: ArrayLike<number>, dy: ArrayLike<number>, g: Pool2DGeometry): Float64Array {
  const { batch, inHeight: h, inWidth: w, channels: c, outHeight: ho, outWidth: wo } = g;
  const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw, padTop: pt, padLeft: pl } = g;
  const dx = new Float64Array(batch * h * w * c);
  for (let b = 0; b < batch; b++) {
    for (let oh = 0; oh < ho; oh++) {
      for (let ow = 0; ow < wo; ow++) {
        for (let ch = 0; ch < c; ch++) {
          let best = -Infinity;
          let arg = -1;
          for (let r = oh * sh - pt; r < oh * sh - pt + kh; r++) {
            for (let cc = ow * sw - pl; cc < ow * sw - pl + kw; cc++) {
              if (r < 0 || r >= h || cc < 0 || cc >= w) continue;
              const at = ((b * h + r) * w + cc) * c + ch;
              if (x[at] > best) [best, arg] = [x[at], at];
            }
          }
          if (arg >= 0) dx[arg] += dy[((b * ho + oh) * wo + ow) * c + ch];
        }
      }
    }
  }
  return dx;
}

/**
 * Unsorted segment sum: `out[s, :] = Σ_{i : ids[i] = s} x[i, :]`; rows whose id is outside
 * `[0, numSegments)` are dropped (as tfjs-backend-cpu does).
 *
 * @param x `N × inner` row-major
 * @param ids segment id per row (length N)
 * @param inner values per row
 * @param numSegments rows of the output
 * @returns `numSegments × inner` row-major, in float64
 * @example
 * ```ts
 * import { unsortedSegmentSumRef } from "@likeness/kernels/reference";
 * import assert from "node:assert/strict";
 * assert.deepEqual([...unsortedSegmentSumRef([1, 2, 3], [1, 0, 1], 1, 2)], [2, 4]);
 * ```
 */
export function unsortedSegmentSumRef(
  x: ArrayLike<number>,
  ids: ArrayLike<number>,
  inner: number,
  numSegments: number,
): Float64Array {
  const out = new Float64Array(numSegments * inner);
  for (let i = 0; i < ids.length; i++) {
    const s = ids[i];
    if (s < 0 || s >= numSegments) continue;
    for (let j = 0; j < inner; j++) out[s * inner + j] += x[i * inner + j];
  }
  return out;
}
