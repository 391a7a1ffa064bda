/**
 * tfjs kernel functions for the wasm backend that run likeness's own WebAssembly kernels
 * (`createConvKernels` from `@likeness/kernels`), reading inputs from and writing outputs to
 * the tfjs-backend-wasm heap.
 *
 * @module
 */
import { ValueError } from "@likeness/core";
import type { Conv2DGeometry, ConvKernels } from "@likeness/kernels";
import { tf } from "@likeness/tf";

/** The tensor handle tfjs passes to kernels. */
export interface _TensorInfo {
  dataId: object;
  shape: number[];
  dtype: string;
}

/** The parts of tfjs-backend-wasm's BackendWasm these kernels use. */
export interface _WasmBackend {
  makeOutput(shape: number[], dtype: string): _TensorInfo;
  typedArrayFromHeap(t: _TensorInfo): Float32Array | Int32Array | Uint8Array;
  /** The Emscripten module: its memory and allocator. */
  wasm?: { asm?: { memory?: unknown }; _malloc?(bytes: number): number; _free?(offset: number): void };
}

/** Dtypes tfjs-wasm keeps on its heap (the copy kernels move any of them). */
export const _HEAP_DTYPES: readonly string[] = ["float32", "int32", "bool"];

/** Runs shorter than this are copied value by value (a `subarray` costs more than a few values). */
export const _SHORT_RUN = 16;

interface _Args {
  inputs: Record<string, _TensorInfo>;
  backend: unknown;
  attrs?: Record<string, unknown>;
}

/** A kernel function as tfjs calls it. */
export type _KernelFunc = (args: _Args) => _TensorInfo;

function _float32(t: _TensorInfo, kernel: string, name: string): void {
  if (t.dtype !== "float32") {
    throw new ValueError(
      "UNSUPPORTED",
      `${kernel} on wasm (likeness): input ${name} has dtype ${t.dtype}; cast it to float32`,
    );
  }
}

/** Attributes tfjs passes to Conv2DBackpropFilter and Conv2DBackpropInput. */
export type _ConvGradAttrs = {
  strides: number | [number, number];
  pad: "valid" | "same" | number | tf.backend_util.ExplicitPadding;
  dataFormat: "NHWC" | "NCHW";
  dimRoundingMode?: "floor" | "round" | "ceil";
};

export type _Shape4 = [number, number, number, number];

/**
 * Check a conv gradient's float32 inputs (in `float32Inputs` order) and its NHWC layout; returns the
 * geometry of an `xShape` input convolved with a `filterShape` filter (dilation 1).
 */
function _convGradGeometry(
  kernel: string,
  float32Inputs: Record<string, _TensorInfo>,
  a: _ConvGradAttrs,
  xShape: _Shape4,
  filterShape: _Shape4,
): Conv2DGeometry {
  for (const [name, t] of Object.entries(float32Inputs)) _float32(t, kernel, name);
  const format = tf.backend_util.convertConv2DDataFormat(a.dataFormat ?? "NHWC");
  if (format !== "channelsLast") {
    throw new ValueError(
      "UNSUPPORTED",
      `${kernel} on wasm (likeness) supports dataFormat NHWC only; transpose NCHW inputs to NHWC`,
    );
  }
  return _geometry(
    tf.backend_util.computeConv2DInfo(xShape, filterShape, a.strides, 1, a.pad, a.dimRoundingMode, false, format),
  );
}

/**
 * Make the float32 output of `shape`, then call `f` with heap views of `inputs` and of the output.
 * Views are taken after makeOutput: its allocation may grow (and detach) the heap.
 */
export function _runOnHeap(
  be: _WasmBackend,
  shape: number[],
  inputs: _TensorInfo[],
  f: (views: Float32Array[], out: Float32Array) => void,
): _TensorInfo {
  const out = be.makeOutput(shape, "float32");
  f(inputs.map((t) => be.typedArrayFromHeap(t) as Float32Array), be.typedArrayFromHeap(out) as Float32Array);
  return out;
}

/**
 * Conv2DBackpropFilter: NHWC input, HWIO filter, any strides, 'same' / 'valid' / explicit
 * padding, dilation 1 (tfjs's conv2d gradient requires it).
 */
export function _conv2dBackpropFilter(k: ConvKernels): _KernelFunc {
  return ({ inputs, backend, attrs }) => {
    const { x, dy } = inputs;
    const a = attrs as _ConvGradAttrs & { filterShape: _Shape4 };
    const g = _convGradGeometry("Conv2DBackpropFilter", { x, dy }, a, x.shape as _Shape4, a.filterShape);
    return _runOnHeap(backend as _WasmBackend, a.filterShape, [x, dy], ([xv, dyv], out) => {
      k.conv2dBackpropFilter(xv, dyv, g, out);
    });
  };
}

/**
 * Conv2DBackpropInput: NHWC, HWIO filter, any strides, 'same' / 'valid' / explicit padding,
 * dilation 1 (tfjs-backend-wasm has its own; this one replaces it only on request).
 */
export function _conv2dBackpropInput(k: ConvKernels): _KernelFunc {
  return ({ inputs, backend, attrs }) => {
    const { dy, filter } = inputs;
    const a = attrs as _ConvGradAttrs & { inputShape: _Shape4 };
    const g = _convGradGeometry("Conv2DBackpropInput", { dy, filter }, a, a.inputShape, filter.shape as _Shape4);
    return _runOnHeap(backend as _WasmBackend, a.inputShape, [dy, filter], ([dyv, wv], out) => {
      k.conv2dBackpropInput(dyv, wv, g, out);
    });
  };
}

/** MaxPoolGrad: NHWC, any window, strides and padding, dilation 1 (replaces tfjs's on request). */
export function _maxPoolGrad(k: ConvKernels): _KernelFunc {
  return ({ inputs, backend, attrs }) => {
    const be = backend as _WasmBackend;
    const { dy, input } = inputs;
    const a = attrs as Omit<_ConvGradAttrs, "dataFormat"> & { filterSize: number | [number, number] };
    _float32(dy, "MaxPoolGrad", "dy");
    _float32(input, "MaxPoolGrad", "input");
    const info = tf.backend_util.computePool2DInfo(
      input.shape as _Shape4,
      a.filterSize,
      a.strides,
      1,
      a.pad,
      a.dimRoundingMode,
    );
    const { inChannels, outChannels: _, ...rest } = _geometry(info);
    return _runOnHeap(be, input.shape, [input, dy], ([xv, dyv], out) => {
      k.maxPoolGrad(xv, dyv, { ...rest, channels: inChannels }, out);
    });
  };
}

export function _geometry(info: tf.backend_util.Conv2DInfo): Conv2DGeometry {
  return {
    batch: info.batchSize,
    inHeight: info.inHeight,
    inWidth: info.inWidth,
    inChannels: info.inChannels,
    outHeight: info.outHeight,
    outWidth: info.outWidth,
    outChannels: info.outChannels,
    filterHeight: info.filterHeight,
    filterWidth: info.filterWidth,
    strideHeight: info.strideHeight,
    strideWidth: info.strideWidth,
    padTop: info.padInfo.top,
    padLeft: info.padInfo.left,
  };
}

/**
 * UnsortedSegmentSum (gather's gradient): 1-D segment ids; float32 through the WebAssembly
 * kernel, int32 in plain JS. Ids outside `[0, numSegments)` are dropped.
 */
export function _unsortedSegmentSum(k: ConvKernels): _KernelFunc {
  return ({ inputs, backend, attrs }) => {
    const be = backend as _WasmBackend;
    const { x, segmentIds } = inputs;
    const numSegments = (attrs as { numSegments: number }).numSegments;
    if (segmentIds.shape.length !== 1 || segmentIds.shape[0] !== x.shape[0]) {
      throw new ValueError(
        "UNSUPPORTED",
        `UnsortedSegmentSum on wasm (likeness) needs 1-D segment ids, one per row of x (x ${
          JSON.stringify(x.shape)
        }, ids ${JSON.stringify(segmentIds.shape)}); reshape both to 2-D`,
      );
    }
    if (x.dtype !== "float32" && x.dtype !== "int32") {
      throw new ValueError("UNSUPPORTED", `UnsortedSegmentSum on wasm (likeness): dtype ${x.dtype}; use float32`);
    }
    const n = x.shape[0];
    const inner = x.shape.slice(1).reduce((p, d) => p * d, 1);
    const out = be.makeOutput([numSegments, ...x.shape.slice(1)], x.dtype);
    const ids = be.typedArrayFromHeap(segmentIds) as Int32Array;
    if (x.dtype === "float32") {
      k.unsortedSegmentSum(
        be.typedArrayFromHeap(x) as Float32Array,
        ids,
        inner,
        numSegments,
        be.typedArrayFromHeap(out) as Float32Array,
      );
    } else {
      const xs = be.typedArrayFromHeap(x) as Int32Array;
      const o = be.typedArrayFromHeap(out) as Int32Array;
      o.fill(0);
      for (let i = 0; i < n; i++) {
        const s = ids[i];
        if (s < 0 || s >= numSegments) continue;
        for (let j = 0; j < inner; j++) o[s * inner + j] += xs[i * inner + j];
      }
    }
    return out;
  };
}
