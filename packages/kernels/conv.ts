/**
 * Convolution-gradient kernels (WebAssembly, scalar or SIMD) on plain typed arrays: the filter
 * gradient of an NHWC 2-D convolution and the unsorted segment sum. Synchronous once created,
 * so that tfjs kernels can call them (see `@likeness/tfwasm`).
 *
 * @module
 */
import { ShapeError, ValueError } from "@likeness/core";
import { wasmBytes as convScalar } from "./generated/conv_scalar.generated.ts";
import { wasmBytes as convSimd } from "./generated/conv_simd.generated.ts";
import { KernelModule, type Region } from "./wasm_module.ts";
import { hasWasmSimd } from "./probe.ts";
import { type _ConvJob, _RUN_CONV, type MatMulKernels } from "./matmul.ts";
import type { Conv2DGeometry, Pool2DGeometry } from "./reference/conv.ts";

export type { Conv2DGeometry, Pool2DGeometry } from "./reference/conv.ts";

/** Which build of the conv kernels to run. */
export type ConvVariant = "scalar" | "simd";

/** Options for {@link createConvKernels}. */
export interface ConvKernelsOptions {
  /** `simd` (default when the runtime supports WebAssembly SIMD) or `scalar`. */
  variant?: ConvVariant;
  /**
   * Matrix-product kernels whose threads the conv and max-pool gradients share (their modules hold
   * these kernels too): while they run Workers, a gradient of at least their `minParallelWork`
   * multiply-adds (comparisons for pooling) splits its batch's images across every thread, with the same bits as on one
   * thread (each image's filter-gradient partial is computed alone and the partials are added in
   * image order, as the one-thread kernel does). Without it, or while they run one thread, the
   * gradients run here on the calling thread.
   */
  matmul?: MatMulKernels;
}

/**
 * Convolution-gradient kernels over float32 typed arrays (NHWC inputs, HWIO filters).
 *
 * @example
 * ```ts
 * import { createConvKernels } from "@likeness/kernels";
 * import assert from "node:assert/strict";
 * const k = await createConvKernels();
 * const g = { batch: 1, inHeight: 2, inWidth: 2, inChannels: 1, outHeight: 1, outWidth: 1, outChannels: 1,
 *   filterHeight: 2, filterWidth: 2, strideHeight: 1, strideWidth: 1, padTop: 0, padLeft: 0 };
 * assert.deepEqual(k.conv2dBackpropFilter(new Float32Array([1, 2, 3, 4]), new Float32Array([2]), g), new Float32Array([2, 4, 6, 8]));
 * k.dispose();
 * ```
 */
export interface ConvKernels {
  /** The build in use. */
  readonly variant: ConvVariant;
  /**
   * Filter gradient `dW[r, c, i, j] = Σ x[b, oh·sh − pt + r, ow·sw − pl + c, i] · dy[b, oh, ow, j]`.
   *
   * @param x input `N × H × W × Ci`
   * @param dy output gradient `N × Ho × Wo × Co`
   * @param g geometry (explicit output sizes and top/left padding)
   * @param out optional destination of length `kh·kw·Ci·Co` (default: a new array)
   * @returns dW, `kh × kw × Ci × Co`
   * @throws {ValueError} INVALID_ARGUMENT for a non-integer or negative size, a stride or filter size below 1
   * @throws {ShapeError} SHAPE_MISMATCH when an array's length does not match the geometry; TOO_LARGE past 2 GiB
   */
  conv2dBackpropFilter(x: Float32Array, dy: Float32Array, g: Conv2DGeometry, out?: Float32Array): Float32Array;
  /**
   * Input gradient `dx[b, ih, iw, i] = Σ dy[b, oh, ow, j] · W[r, c, i, j]` over `oh·sh − pt + r = ih`,
   * `ow·sw − pl + c = iw`.
   *
   * @param dy output gradient `N × Ho × Wo × Co`
   * @param w filter `kh × kw × Ci × Co` (HWIO)
   * @param g geometry (explicit output sizes and top/left padding)
   * @param out optional destination of length `N·H·W·Ci` (default: a new array)
   * @returns dx, `N × H × W × Ci`
   * @throws {ValueError} INVALID_ARGUMENT for a non-integer or negative size, a stride or filter size below 1
   * @throws {ShapeError} SHAPE_MISMATCH when an array's length does not match the geometry; TOO_LARGE past 2 GiB
   */
  conv2dBackpropInput(dy: Float32Array, w: Float32Array, g: Conv2DGeometry, out?: Float32Array): Float32Array;
  /**
   * Max-pool gradient: each window's dy goes to the first position of its strict maximum.
   *
   * @param x pooled input `N × H × W × C`
   * @param dy output gradient `N × Ho × Wo × C`
   * @param g pooling geometry
   * @param out optional destination of length `N·H·W·C`
   * @returns dx, `N × H × W × C`
   * @throws {ValueError} INVALID_ARGUMENT for a non-integer or negative size, a stride or window size below 1
   * @throws {ShapeError} SHAPE_MISMATCH when an array's length does not match the geometry; TOO_LARGE past 2 GiB
   */
  maxPoolGrad(x: Float32Array, dy: Float32Array, g: Pool2DGeometry, out?: Float32Array): Float32Array;
  /**
   * Unsorted segment sum `out[s, :] = Σ_{ids[i] = s} x[i, :]`; ids outside `[0, numSegments)` are dropped.
   *
   * @param x `N × inner` values
   * @param ids segment id per row (length N)
   * @param inner values per row
   * @param numSegments output rows
   * @param out optional destination of length `numSegments · inner`
   * @returns `numSegments × inner`
   * @throws {ValueError} INVALID_ARGUMENT for a negative or non-integer size
   * @throws {ShapeError} SHAPE_MISMATCH when `x.length ≠ ids.length · inner` or `out` has the wrong length
   */
  unsortedSegmentSum(
    x: Float32Array,
    ids: Int32Array,
    inner: number,
    numSegments: number,
    out?: Float32Array,
  ): Float32Array;
  /** Release the module; later calls throw. */
  dispose(): void;
}

const MAX_BYTES = 2 ** 31 - 2 ** 20;
/**
 * Bytes of buffers a conv job may take on the matmul kernels' shared memory (half of its 1 GiB);
 * past it the gradients run on the calling thread. Internal (also `@likeness/tfwasm`'s bound).
 */
export const _CONV_SHARED_MAX_BYTES = 2 ** 29;

/**
 * Instantiate the conv kernels.
 *
 * @param options build to use
 * @returns the kernels
 * @throws {ValueError} UNKNOWN_NAME for an unknown variant; UNSUPPORTED for `simd` without WebAssembly SIMD;
 *   INVALID_ARGUMENT for a `matmul` option that is not kernels from `createMatMulKernels`
 * @example
 * ```ts
 * import { createConvKernels } from "@likeness/kernels";
 * import assert from "node:assert/strict";
 * const k = await createConvKernels({ variant: "scalar" });
 * assert.deepEqual(k.unsortedSegmentSum(new Float32Array([1, 2, 3]), new Int32Array([1, 0, 1]), 1, 2), new Float32Array([2, 4]));
 * ```
 */
export async function createConvKernels(options: ConvKernelsOptions = {}): Promise<ConvKernels> {
  const variant = options.variant ?? (hasWasmSimd() ? "simd" : "scalar");
  if (variant !== "simd" && variant !== "scalar") {
    throw new ValueError(
      "UNKNOWN_NAME",
      `Unknown conv kernel variant ${JSON.stringify(variant)}: use "simd" or "scalar"`,
    );
  }
  if (variant === "simd" && !hasWasmSimd()) {
    throw new ValueError("UNSUPPORTED", 'This runtime has no WebAssembly SIMD: use variant "scalar"');
  }
  let mod: KernelModule | undefined = await KernelModule.create(variant === "simd" ? convSimd() : convScalar());
  const live = (): KernelModule => {
    if (!mod) throw new ValueError("INVALID_ARGUMENT", "Conv kernels were disposed: create new ones");
    return mod;
  };
  const mm = options.matmul;
  if (mm !== undefined && typeof (mm as Partial<MatMulKernels>)[_RUN_CONV] !== "function") {
    throw new ValueError(
      "INVALID_ARGUMENT",
      "Invalid matmul option: pass kernels from createMatMulKernels (their Workers run the gradients)",
    );
  }
  /**
   * The matmul kernels a gradient of `work` multiply-adds over `bytes` of buffers runs on (their
   * threads), or undefined: one thread, or buffers past half their 1 GiB shared memory (this
   * module's own memory holds up to 2 GiB).
   */
  const shared = (work: number, bytes: number): MatMulKernels | undefined =>
    mm !== undefined && mm.threads > 1 && work >= mm.minParallelWork && bytes <= _CONV_SHARED_MAX_BYTES
      ? mm
      : undefined;
  /** Run `steps` on the matmul kernels' threads when they take this job, else return undefined. */
  const onThreads = (
    work: number,
    d: Conv2DGeometry,
    inputs: Float32Array[],
    outLen: number,
    scratchLen: number,
    steps: _ConvJob["steps"],
    out: Float32Array | undefined,
  ): Float32Array | undefined => {
    const bytes = 4 * (inputs.reduce((n, a) => n + a.length, 0) + outLen + scratchLen);
    const on = shared(work, bytes);
    return on?.[_RUN_CONV]({ work, inputs, outLen, scratchLen, geometry: _convArgs(d), steps, out });
  };
  return {
    variant,
    conv2dBackpropFilter(x, dy, g, out) {
      const m = live();
      const d = _checkGeometry(g);
      const { xLen, dyLen, wLen } = _convLengths(d);
      _checkLength(x, xLen, "x", "N × H × W × Ci");
      _checkLength(dy, dyLen, "dy", "N × Ho × Wo × Co");
      if (out) _checkLength(out, wLen, "out", "kh × kw × Ci × Co");
      _checkBytes(4 * (xLen + dyLen + 2 * wLen));
      // One partial per image (units: images), then their sum in image order (units: chunks of dW).
      const steps = [
        { op: OP_FILTER_PARTS, units: d.batch, a: 0, b: 1, out: 3 },
        { op: OP_SUM_PARTS, units: Math.ceil(wLen / SUM_CHUNK), a: 3, b: 3, out: 2 },
      ];
      const work = dyLen * d.filterHeight * d.filterWidth * d.inChannels;
      return onThreads(work, d, [x, dy], wLen, d.batch * wLen, steps, out) ??
        _runF32(m, "conv2d_backprop_filter_f32", [x, dy], wLen, wLen, _convArgs(d), out);
    },
    conv2dBackpropInput(dy, w, g, out) {
      const m = live();
      const d = _checkGeometry(g);
      const { xLen, dyLen, wLen } = _convLengths(d);
      _checkLength(dy, dyLen, "dy", "N × Ho × Wo × Co");
      _checkLength(w, wLen, "w", "kh × kw × Ci × Co");
      if (out) _checkLength(out, xLen, "out", "N × H × W × Ci");
      _checkBytes(4 * (xLen + dyLen + 2 * wLen));
      const work = dyLen * d.filterHeight * d.filterWidth * d.inChannels;
      if (shared(work, 4 * (xLen + dyLen + wLen))) {
        // The taps transposed here (wt[t, j, i] = w[t, i, j], as the one-thread kernel does first), then units: images.
        const wt = _transposeTaps(w, d.filterHeight * d.filterWidth, d.inChannels, d.outChannels);
        const r = onThreads(work, d, [dy, wt], xLen, 0, [{ op: OP_INPUT, units: d.batch, a: 0, b: 1, out: 2 }], out);
        if (r) return r;
      }
      return _runF32(m, "conv2d_backprop_input_f32", [dy, w], xLen, wLen, _convArgs(d), out);
    },
    maxPoolGrad(x, dy, g, out) {
      const m = live();
      const d = _checkGeometry({ ...g, inChannels: g.channels, outChannels: g.channels });
      const { xLen, dyLen } = _convLengths(d);
      _checkLength(x, xLen, "x", "N × H × W × C");
      _checkLength(dy, dyLen, "dy", "N × Ho × Wo × C");
      if (out) _checkLength(out, xLen, "out", "N × H × W × C");
      _checkBytes(4 * (2 * xLen + dyLen));
      const pool = [{ op: OP_POOL_GRAD, units: d.batch, a: 0, b: 1, out: 2 }];
      const r = onThreads(dyLen * d.filterHeight * d.filterWidth, d, [x, dy], xLen, 0, pool, out);
      if (r) return r;
      // The conv arguments without outChannels (pooling keeps the channel count).
      const args = [d.batch, d.inHeight, d.inWidth, d.inChannels, d.outHeight, d.outWidth, ..._convArgs(d).slice(7)];
      return _runF32(m, "max_pool_grad_f32", [x, dy], xLen, 0, args, out);
    },
    unsortedSegmentSum(x, ids, inner, numSegments, out) {
      const m = live();
      _checkSize(inner, "inner");
      _checkSize(numSegments, "numSegments");
      _checkLength(x, ids.length * inner, "x", "ids.length × inner");
      const outLen = numSegments * inner;
      if (out) _checkLength(out, outLen, "out", "numSegments × inner");
      _checkBytes(4 * (x.length + ids.length + outLen));
      const [rx, rids, rout] = m.layout(4 * x.length, 4 * ids.length, 4 * outLen);
      m.f32(rx).set(x);
      m.i32(rids).set(ids);
      m.fn<(...a: number[]) => void>("unsorted_segment_sum_f32")(
        rx.offset,
        rids.offset,
        rout.offset,
        ids.length,
        inner,
        numSegments,
      );
      return _readOut(m, rout, outLen, out);
    },
    dispose() {
      mod = undefined;
    },
  };
}

/** Conv ops of the matmul modules' conv jobs (kernels/conv/common.ts). */
const OP_FILTER_PARTS = 1, OP_SUM_PARTS = 2, OP_INPUT = 3, OP_POOL_GRAD = 4;
/** Elements of dW per unit of OP_SUM_PARTS (kernels/conv/common.ts). */
const SUM_CHUNK = 1024;

/** wt[t, j, i] = w[t, i, j] for each of `taps` ci × co blocks (what the input gradient reads). */
function _transposeTaps(w: Float32Array, taps: number, ci: number, co: number): Float32Array {
  const wt = new Float32Array(w.length);
  for (let t = 0, o = 0; t < taps; t++, o += ci * co) {
    for (let i = 0; i < ci; i++) for (let j = 0; j < co; j++) wt[o + j * ci + i] = w[o + i * co + j];
  }
  return wt;
}

/** Element counts of x (`N·H·W·Ci`), dy (`N·Ho·Wo·Co`) and the filter (`kh·kw·Ci·Co`). */
function _convLengths(d: Conv2DGeometry): { xLen: number; dyLen: number; wLen: number } {
  return {
    xLen: d.batch * d.inHeight * d.inWidth * d.inChannels,
    dyLen: d.batch * d.outHeight * d.outWidth * d.outChannels,
    wLen: d.filterHeight * d.filterWidth * d.inChannels * d.outChannels,
  };
}

/** The geometry arguments both conv-gradient exports take after their buffer offsets (see {@link _runF32}). */
function _convArgs(d: Conv2DGeometry): number[] {
  return [
    d.batch,
    d.inHeight,
    d.inWidth,
    d.inChannels,
    d.outHeight,
    d.outWidth,
    d.outChannels,
    d.filterHeight,
    d.filterWidth,
    d.strideHeight,
    d.strideWidth,
    d.padTop,
    d.padLeft,
  ];
}

/**
 * Lay out the float32 `inputs`, an output of `outLen` values and a scratch block of `scratchLen`
 * (none when 0) in that order, copy the inputs in, call `kernel` with the regions' offsets then
 * `args`, and return the output (in `out` when given).
 */
function _runF32(
  m: KernelModule,
  kernel: string,
  inputs: Float32Array[],
  outLen: number,
  scratchLen: number,
  args: number[],
  out: Float32Array | undefined,
): Float32Array {
  const sizes = [...inputs.map((a) => 4 * a.length), 4 * outLen, ...(scratchLen > 0 ? [4 * scratchLen] : [])];
  const regions = m.layout(...sizes);
  inputs.forEach((a, i) => m.f32(regions[i]).set(a));
  m.fn<(...a: number[]) => void>(kernel)(...regions.map((r) => r.offset), ...args);
  return _readOut(m, regions[inputs.length], outLen, out);
}

/** Copy a kernel's output region into `out` (or a new array of `len` values) and return it. */
function _readOut(m: KernelModule, r: Region, len: number, out: Float32Array | undefined): Float32Array {
  const res = out ?? new Float32Array(len);
  res.set(m.f32(r));
  return res;
}

function _checkSize(v: number, name: string, min = 0): void {
  if (!Number.isInteger(v) || v < min) {
    throw new ValueError(
      "INVALID_ARGUMENT",
      `Cannot run conv kernel: ${name} must be an integer ≥ ${min}, got ${v}`,
      { details: { [name]: v } },
    );
  }
}

function _checkGeometry(g: Conv2DGeometry): Conv2DGeometry {
  for (const k of ["batch", "inHeight", "inWidth", "inChannels", "outHeight", "outWidth", "outChannels"] as const) {
    _checkSize(g[k], k);
  }
  for (const k of ["filterHeight", "filterWidth", "strideHeight", "strideWidth"] as const) _checkSize(g[k], k, 1);
  _checkSize(g.padTop, "padTop");
  _checkSize(g.padLeft, "padLeft");
  return g;
}

function _checkLength(a: ArrayLike<number>, want: number, what: string, formula: string): void {
  if (a.length !== want) {
    throw new ShapeError(
      `Cannot run conv kernel: ${what} has ${a.length} values but the geometry needs ${formula} = ${want}`,
      "SHAPE_MISMATCH",
      { details: { what, length: a.length, expected: want } },
    );
  }
}

function _checkBytes(bytes: number): void {
  if (bytes > MAX_BYTES) {
    throw new ShapeError(
      `Cannot run conv kernel: ${bytes} bytes of buffers exceed the 2 GiB WebAssembly memory; split the batch`,
      "TOO_LARGE",
      { details: { bytes } },
    );
  }
}
