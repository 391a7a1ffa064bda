/**
 * tfjs `GatherV2` for the wasm backend as slice copies between views of tfjs's heap. tfjs-backend-wasm
 * 4.22's own takes milliseconds for a small gather from a large tensor (160 rows of a 20,000 × 784
 * training set: 3–9 ms on the 2-core machine, where copying the rows takes microseconds), and the
 * trainer gathers every batch that way.
 *
 * @module
 */
import { ShapeError, ValueError } from "@likeness/core";
import { tf } from "@likeness/tf";
import { _HEAP_DTYPES, type _KernelFunc, _SHORT_RUN, type _TensorInfo, type _WasmBackend } from "./_kernels.ts";

/**
 * A GatherV2 kernel: `out[b, o, i, s] = x[b, o, indices[b, i], s]` after tfjs's own reshapes
 * (`collectGatherOpShapeInfo`); int32 indices, x of any dtype tfjs-wasm stores (float32, int32, bool).
 *
 * @param fallback the kernel registered before ours, for other dtypes (indices that are not int32)
 * @returns the kernel function
 */
export function _gatherV2(fallback?: _KernelFunc): _KernelFunc {
  return (args) => {
    const { inputs, backend, attrs } = args;
    const { x, indices } = inputs;
    if (indices.dtype !== "int32" || !_HEAP_DTYPES.includes(x.dtype)) {
      if (!fallback) {
        throw new ValueError(
          "UNSUPPORTED",
          `GatherV2 on wasm (likeness): ${x.dtype} values with ${indices.dtype} indices and no tfjs kernel to fall back to`,
        );
      }
      return fallback(args);
    }
    const at = attrs as { axis: number; batchDims: number };
    const axis = tf.util.parseAxisParam(at.axis, x.shape)[0];
    const be = backend as _WasmBackend;
    const idx = be.typedArrayFromHeap(indices);
    const dim = x.shape[axis];
    for (let i = 0; i < idx.length; i++) {
      const v = idx[i];
      if (!(v >= 0 && v < dim)) {
        throw new ShapeError(
          `Cannot gather: index ${v} is not in [0, ${dim - 1}] (axis ${axis} of a tensor of shape ${
            JSON.stringify(x.shape)
          })`,
          "OUT_OF_RANGE",
        );
      }
    }
    const info = tf.backend_util.segment_util.collectGatherOpShapeInfo(
      x as tf.TensorInfo,
      indices as tf.TensorInfo,
      axis,
      at.batchDims,
    );
    const out = be.makeOutput(info.outputShape, x.dtype);
    const { batchSize, outerSize, dimSize, sliceSize } = info;
    const per = idx.length / batchSize;
    if (per * outerSize * sliceSize * batchSize === 0) return out;
    // Views after makeOutput: its allocation may grow (and detach) the heap.
    const xs = be.typedArrayFromHeap(x);
    const ix = be.typedArrayFromHeap(indices);
    const os = be.typedArrayFromHeap(out);
    let dst = 0;
    for (let b = 0; b < batchSize; b++) {
      for (let o = 0; o < outerSize; o++) {
        const base = (b * outerSize + o) * dimSize;
        for (let i = 0; i < per; i++) {
          const src = (base + ix[b * per + i]) * sliceSize;
          if (sliceSize < _SHORT_RUN) {
            for (let s = 0; s < sliceSize; s++) os[dst + s] = xs[src + s];
          } else {
            os.set(xs.subarray(src, src + sliceSize), dst);
          }
          dst += sliceSize;
        }
      }
    }
    return out;
  };
}
