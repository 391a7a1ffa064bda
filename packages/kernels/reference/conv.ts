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
 * const g = { batch: 1, inHeight: 2, inWidth: 2, inChannels: 1, outHeight: 1, outWidth: 1, outChannels: 1,
 *   filterHeight: 2, filterWidth: 2, strideHeight: 1, strideWidth: 1, padTop: 0, padLeft: 0 };
 * console.log(conv2dBackpropFilterRef([1, 2, 3, 4], [2], g)); // Float64Array [2, 4, 6, 8]
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
 * console.log(unsortedSegmentSumRef([1, 2, 3], [1, 0, 1], 1, 2)); // Float64Array [2, 4]
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
