/**
 * tfjs `Conv2D` and `FusedConv2D` for the wasm backend where the convolution is a product: a 1×1
 * filter, stride 1, dilation 1, NHWC, no padding (`valid`, `same` or 0, all the same for 1×1). Then
 * `[n, h, w, cin] * [1, 1, cin, cout]` is `[n·h·w, cin] × [cin, cout]`, run by likeness's
 * `_FusedMatMul` (in place or on every Worker thread, whichever is fastest for the shape; both give
 * the same bits) on the very same heap buffers, with the bias and activation fused. Sentence encoders
 * converted from TensorFlow (USE-lite) hold their dense layers as such convolutions. Any other
 * convolution runs on the kernel registered before (tfjs-backend-wasm's XNNPACK).
 *
 * @module
 */
import { _CONV_SHARED_MAX_BYTES, type Conv2DGeometry, type ConvKernels } from "@likeness/kernels";
import { tf } from "@likeness/tf";
import {
  type _ConvGradAttrs,
  _geometry,
  type _KernelFunc,
  _runOnHeap,
  type _Shape4,
  type _TensorInfo,
  type _WasmBackend,
} from "./_kernels.ts";

type _ConvAttrs = {
  strides: number | [number, number];
  pad: unknown;
  dataFormat?: string;
  dilations?: number | [number, number];
  activation?: string;
  leakyreluAlpha?: number;
};

const _ones = (v: number | [number, number] | undefined): boolean =>
  v === undefined || (typeof v === "number" ? v === 1 : v[0] === 1 && v[1] === 1);

/**
 * Whether a convolution of `x` by `filter` with these attributes is a plain product of `x`'s rows
 * by the filter (1×1, stride 1, dilation 1, NHWC, no padding; float32).
 */
export function _isPointwise(x: _TensorInfo, filter: _TensorInfo, a: _ConvAttrs): boolean {
  const f = filter.shape;
  const noPad = a.pad === "valid" || a.pad === "same" || a.pad === 0;
  return x.dtype === "float32" && filter.dtype === "float32" && x.shape.length === 4 && f.length === 4 &&
    f[0] === 1 && f[1] === 1 && f[2] === x.shape[3] && _ones(a.strides) && _ones(a.dilations) && noPad &&
    (a.dataFormat === undefined || a.dataFormat === "NHWC");
}

/**
 * A Conv2D (`fused` false) or FusedConv2D (`fused` true) kernel: pointwise convolutions run as a
 * product by `matMul` (a `_FusedMatMul` kernel), others by `fallback`.
 *
 * @param matMul the `_FusedMatMul` kernel that runs pointwise convolutions
 * @param fused whether bias, activation and PReLU weights come with it
 * @param fallback the kernel registered before ours (tfjs-backend-wasm's)
 * @param general other convolutions it runs (stride 1: `_conv2dForward`), null for those it leaves to `fallback`
 * @returns the kernel function
 */
export function _conv2d(
  matMul: _KernelFunc,
  fused: boolean,
  fallback?: _KernelFunc,
  general?: (args: Parameters<_KernelFunc>[0]) => _TensorInfo | null,
): _KernelFunc {
  return (args) => {
    const { x, filter, bias, preluActivationWeights } = args.inputs;
    const a = args.attrs as _ConvAttrs;
    if (!_isPointwise(x, filter, a)) {
      const out = general && !fused ? general(args) : null;
      if (out) return out;
      if (!fallback) {
        throw new Error(
          `${fused ? "FusedConv2D" : "Conv2D"} on wasm (likeness): only 1×1 stride-1 NHWC float32 convolutions ` +
            `run without tfjs's kernel (x ${JSON.stringify(x.shape)}, filter ${JSON.stringify(filter.shape)})`,
        );
      }
      return fallback(args);
    }
    const [n, h, w, cin] = x.shape;
    const cout = filter.shape[3];
    const inputs: Record<string, _TensorInfo> = {
      // Rank 3, as tfjs's own _FusedMatMul (one of the ways) reads its operands.
      a: { dataId: x.dataId, shape: [1, n * h * w, cin], dtype: "float32" },
      b: { dataId: filter.dataId, shape: [1, cin, cout], dtype: "float32" },
    };
    if (fused && bias) inputs.bias = bias;
    if (fused && preluActivationWeights) inputs.preluActivationWeights = preluActivationWeights;
    const out = matMul({
      inputs,
      backend: args.backend,
      attrs: {
        transposeA: false,
        transposeB: false,
        activation: fused ? a.activation ?? "linear" : "linear",
        leakyreluAlpha: a.leakyreluAlpha,
      },
    });
    // The product's buffer is the convolution's output, row-major [n·h·w, cout] = NHWC.
    return { dataId: out.dataId, shape: [n, h, w, cout], dtype: "float32" };
  };
}

/** Input channels from which `_conv2dForward` runs a convolution (fewer: tfjs's XNNPACK). */
export const _FORWARD_MIN_CHANNELS = 4;

/**
 * Conv2D forward for stride 1 and dilation 1 (NHWC, float32, at least {@link _FORWARD_MIN_CHANNELS}
 * input channels, any padding up to the filter size), or null for any other convolution (the caller
 * runs tfjs's). A stride-1 convolution of x by K is the
 * input gradient of x taken as dy with the filter flipped in space and its channel axes swapped:
 * y[b, p, q, o] = Σ x[b, p − pt + r, q − pl + c, i] · K[r, c, i, o] is `conv2dBackpropInput` with
 * W'[kh−1−r, kw−1−c, o, i] = K[r, c, i, o] and padding kh−1−pt, kw−1−pl. It runs on the kernels'
 * threads (a batch's images split across them), where XNNPACK runs on one.
 */
export function _conv2dForward(k: ConvKernels): (args: Parameters<_KernelFunc>[0]) => _TensorInfo | null {
  return ({ inputs, backend, attrs }) => {
    const { x, filter } = inputs;
    const a = attrs as _ConvGradAttrs & { dilations?: number | [number, number] };
    if (x.dtype !== "float32" || filter.dtype !== "float32" || x.shape.length !== 4 || filter.shape.length !== 4) {
      return null;
    }
    const format = tf.backend_util.convertConv2DDataFormat(a.dataFormat ?? "NHWC");
    if (format !== "channelsLast" || !_ones(a.dilations) || !_ones(a.strides)) return null;
    const [kh, kw, ci, co] = filter.shape as _Shape4;
    // Few input channels leave the input-gradient tiles one multiply-add per load and store
    // (MNIST's first layer, 1 channel: 4.6 ms per batch of 128 against XNNPACK's 4.1).
    if (ci < _FORWARD_MIN_CHANNELS) return null;
    const g = _geometry(
      tf.backend_util.computeConv2DInfo(
        x.shape as _Shape4,
        filter.shape as _Shape4,
        1,
        1,
        a.pad,
        a.dimRoundingMode,
        false,
        format,
      ),
    );
    if (g.padTop > kh - 1 || g.padLeft > kw - 1) return null;
    // Past what the Workers' shared memory takes, XNNPACK: ours would run on one thread.
    const bytes = 4 * g.batch * (g.inHeight * g.inWidth * ci + g.outHeight * g.outWidth * co) + 8 * kh * kw * ci * co;
    if (bytes > _CONV_SHARED_MAX_BYTES) return null;
    const be = backend as _WasmBackend;
    const flip: Conv2DGeometry = {
      batch: g.batch,
      inHeight: g.outHeight,
      inWidth: g.outWidth,
      inChannels: co,
      outHeight: g.inHeight,
      outWidth: g.inWidth,
      outChannels: ci,
      filterHeight: kh,
      filterWidth: kw,
      strideHeight: 1,
      strideWidth: 1,
      padTop: kh - 1 - g.padTop,
      padLeft: kw - 1 - g.padLeft,
    };
    const K = be.typedArrayFromHeap(filter) as Float32Array;
    const w = new Float32Array(K.length);
    for (let r = 0; r < kh; r++) {
      for (let c = 0; c < kw; c++) {
        const src = (r * kw + c) * ci * co, dst = ((kh - 1 - r) * kw + (kw - 1 - c)) * co * ci;
        for (let i = 0; i < ci; i++) for (let o = 0; o < co; o++) w[dst + o * ci + i] = K[src + i * co + o];
      }
    }
    return _runOnHeap(be, [g.batch, g.outHeight, g.outWidth, co], [x], ([xv], out) => {
      k.conv2dBackpropInput(xv, w, flip, out);
    });
  };
}
