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
interface _TensorInfo {
  dataId: object;
  shape: number[];
  dtype: string;
}

/** The parts of tfjs-backend-wasm's BackendWasm these kernels use. */
interface _WasmBackend {
  makeOutput(shape: number[], dtype: string): _TensorInfo;
  typedArrayFromHeap(t: _TensorInfo): Float32Array | Int32Array | Uint8Array;
}

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

/**
 * Conv2DBackpropFilter: NHWC input, HWIO filter, any strides, 'same' / 'valid' / explicit
 * padding, dilation 1 (tfjs's conv2d gradient requires it).
 */
export function _conv2dBackpropFilter(k: ConvKernels): _KernelFunc {
  return ({ inputs, backend, attrs }) => {
    const be = backend as _WasmBackend;
    const { x, dy } = inputs;
    const a = attrs as {
      strides: number | [number, number];
      pad: "valid" | "same" | number | tf.backend_util.ExplicitPadding;
      dataFormat: "NHWC" | "NCHW";
      dimRoundingMode?: "floor" | "round" | "ceil";
      filterShape: [number, number, number, number];
    };
    _float32(x, "Conv2DBackpropFilter", "x");
    _float32(dy, "Conv2DBackpropFilter", "dy");
    const format = tf.backend_util.convertConv2DDataFormat(a.dataFormat ?? "NHWC");
    if (format !== "channelsLast") {
      throw new ValueError(
        "UNSUPPORTED",
        "Conv2DBackpropFilter on wasm (likeness) supports dataFormat NHWC only; transpose NCHW inputs to NHWC",
      );
    }
    const info = tf.backend_util.computeConv2DInfo(
      x.shape as [number, number, number, number],
      a.filterShape,
      a.strides,
      1,
      a.pad,
      a.dimRoundingMode,
      false,
      format,
    );
    const out = be.makeOutput(a.filterShape, "float32");
    // Views are taken after makeOutput: its allocation may grow (and detach) the heap.
    k.conv2dBackpropFilter(
      be.typedArrayFromHeap(x) as Float32Array,
      be.typedArrayFromHeap(dy) as Float32Array,
      _geometry(info),
      be.typedArrayFromHeap(out) as Float32Array,
    );
    return out;
  };
}

/**
 * Conv2DBackpropInput: NHWC, HWIO filter, any strides, 'same' / 'valid' / explicit padding,
 * dilation 1 (tfjs-backend-wasm has its own; this one replaces it only on request).
 */
export function _conv2dBackpropInput(k: ConvKernels): _KernelFunc {
  return ({ inputs, backend, attrs }) => {
    const be = backend as _WasmBackend;
    const { dy, filter } = inputs;
    const a = attrs as {
      strides: number | [number, number];
      pad: "valid" | "same" | number | tf.backend_util.ExplicitPadding;
      dataFormat: "NHWC" | "NCHW";
      dimRoundingMode?: "floor" | "round" | "ceil";
      inputShape: [number, number, number, number];
    };
    _float32(dy, "Conv2DBackpropInput", "dy");
    _float32(filter, "Conv2DBackpropInput", "filter");
    const format = tf.backend_util.convertConv2DDataFormat(a.dataFormat ?? "NHWC");
    if (format !== "channelsLast") {
      throw new ValueError(
        "UNSUPPORTED",
        "Conv2DBackpropInput on wasm (likeness) supports dataFormat NHWC only; transpose NCHW inputs to NHWC",
      );
    }
    const info = tf.backend_util.computeConv2DInfo(
      a.inputShape,
      filter.shape as [number, number, number, number],
      a.strides,
      1,
      a.pad,
      a.dimRoundingMode,
      false,
      format,
    );
    const out = be.makeOutput(a.inputShape, "float32");
    k.conv2dBackpropInput(
      be.typedArrayFromHeap(dy) as Float32Array,
      be.typedArrayFromHeap(filter) as Float32Array,
      _geometry(info),
      be.typedArrayFromHeap(out) as Float32Array,
    );
    return out;
  };
}

/** MaxPoolGrad: NHWC, any window, strides and padding, dilation 1 (replaces tfjs's on request). */
export function _maxPoolGrad(k: ConvKernels): _KernelFunc {
  return ({ inputs, backend, attrs }) => {
    const be = backend as _WasmBackend;
    const { dy, input } = inputs;
    const a = attrs as {
      filterSize: number | [number, number];
      strides: number | [number, number];
      pad: "valid" | "same" | number | tf.backend_util.ExplicitPadding;
      dimRoundingMode?: "floor" | "round" | "ceil";
    };
    _float32(dy, "MaxPoolGrad", "dy");
    _float32(input, "MaxPoolGrad", "input");
    const info = tf.backend_util.computePool2DInfo(
      input.shape as [number, number, number, number],
      a.filterSize,
      a.strides,
      1,
      a.pad,
      a.dimRoundingMode,
    );
    const { inChannels, outChannels: _, ...rest } = _geometry(info);
    const out = be.makeOutput(input.shape, "float32");
    k.maxPoolGrad(
      be.typedArrayFromHeap(input) as Float32Array,
      be.typedArrayFromHeap(dy) as Float32Array,
      { ...rest, channels: inChannels },
      be.typedArrayFromHeap(out) as Float32Array,
    );
    return out;
  };
}

function _geometry(info: tf.backend_util.Conv2DInfo): Conv2DGeometry {
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
