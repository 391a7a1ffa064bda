/**
 * tfjs `Slice` and `SplitV` for the wasm backend as copies between views of tfjs's heap.
 * tfjs-backend-wasm 4.22's own read the whole input through `readSync`, which copies it out of the
 * heap first, for every slice: `SplitV` of a tensor into three parts copies it three times before
 * copying the parts (USE-lite's attention splits 64 × 48 × 1536 that way: 37 ms a call, under load).
 *
 * @module
 */
import { ValueError } from "@likeness/core";
import { tf } from "@likeness/tf";
import { _HEAP_DTYPES, type _KernelFunc, _SHORT_RUN, type _TensorInfo, type _WasmBackend } from "./_kernels.ts";

/** Copy the box `begin` + `size` of `x` (shape `shape`) into `out`, one contiguous run at a time. */
function _copyBox(
  x: Float32Array | Int32Array | Uint8Array,
  shape: number[],
  begin: number[],
  size: number[],
  out: Float32Array | Int32Array | Uint8Array,
): void {
  const rank = shape.length; // ≥ 1: tfjs does not slice scalars
  const strides = tf.util.computeStrides(shape);
  // Trailing axes taken whole join the innermost run.
  let t = rank - 1;
  let run = size[t];
  while (t > 0 && size[t] === shape[t]) {
    t--;
    run *= size[t];
  }
  const stride = (d: number) => (d < rank - 1 ? strides[d] : 1);
  let src = 0;
  for (let d = 0; d < rank; d++) src += begin[d] * stride(d);
  // Odometer over the axes before t (axis t's extent is inside `run`).
  const idx = new Array(t).fill(0);
  const total = out.length;
  for (let dst = 0; dst < total; dst += run) {
    let at = src;
    for (let d = 0; d < t; d++) at += idx[d] * stride(d);
    if (run < _SHORT_RUN) {
      for (let i = 0; i < run; i++) out[dst + i] = x[at + i];
    } else {
      out.set(x.subarray(at, at + run), dst);
    }
    for (let d = t - 1; d >= 0; d--) {
      if (++idx[d] < size[d]) break;
      idx[d] = 0;
    }
  }
}

function _sliceInfo(backend: unknown, x: _TensorInfo, begin: number[], size: number[]): _TensorInfo {
  const be = backend as _WasmBackend;
  const out = be.makeOutput(size, x.dtype);
  if (size.some((s) => s === 0)) return out;
  // Views after makeOutput: its allocation may grow (and detach) the heap.
  _copyBox(be.typedArrayFromHeap(x), x.shape, begin, size, be.typedArrayFromHeap(out));
  return out;
}

function _noFallback(kernel: string, dtype: string): never {
  throw new ValueError(
    "UNSUPPORTED",
    `${kernel} on wasm (likeness): ${dtype} tensors and no tfjs kernel to fall back to`,
  );
}

/**
 * A Slice kernel (float32, int32 and bool; strings go to `fallback`).
 *
 * @param fallback the kernel registered before ours
 * @returns the kernel function
 */
export function _slice(fallback?: _KernelFunc): _KernelFunc {
  return (args) => {
    const { x } = args.inputs;
    if (!_HEAP_DTYPES.includes(x.dtype)) return fallback ? fallback(args) : _noFallback("Slice", x.dtype);
    const at = args.attrs as { begin: number | number[]; size: number | number[] };
    const [begin, size] = tf.slice_util.parseSliceParams(x as tf.TensorInfo, at.begin, at.size);
    tf.slice_util.assertParamsValid(x as tf.TensorInfo, begin, size);
    return _sliceInfo(args.backend, x, begin, size);
  };
}

/**
 * A SplitV kernel: one slice per part along `axis` (float32, int32 and bool; strings go to `fallback`).
 *
 * @param fallback the kernel registered before ours
 * @returns the kernel function (returning the parts)
 */
export function _splitV(fallback?: _KernelFunc): _KernelFunc {
  return ((args: Parameters<_KernelFunc>[0]) => {
    const { x } = args.inputs;
    if (!_HEAP_DTYPES.includes(x.dtype)) return fallback ? fallback(args) : _noFallback("SplitV", x.dtype);
    const at = args.attrs as { numOrSizeSplits: number | number[]; axis: number | number[] };
    const axis = tf.util.parseAxisParam(at.axis, x.shape)[0];
    const sizes = tf.backend_util.prepareSplitSize(x as tf.TensorInfo, at.numOrSizeSplits, axis);
    const begin = new Array(x.shape.length).fill(0);
    return sizes.map((s) => {
      const size = x.shape.slice();
      size[axis] = s;
      const part = _sliceInfo(args.backend, x, begin.slice(), size);
      begin[axis] += s;
      return part;
    });
  }) as unknown as _KernelFunc;
}
