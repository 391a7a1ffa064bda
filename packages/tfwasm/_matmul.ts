/**
 * tfjs `BatchMatMul` and `_FusedMatMul` for the wasm backend on likeness's matmul kernels
 * (`createMatMulKernels` from `@likeness/kernels`): transposed operands are read in place, bias and
 * activation are fused, large products run on every thread of the kernels' Worker pool (copied into
 * its shared memory), the others in place on tfjs's heap (`createHeapMatMulKernels`). What they
 * do not cover (non-float32 inputs, batch shapes that broadcast other than by a batch of 1, a bias or
 * PReLU weights that are not one value per column) runs on the kernel that was registered before.
 *
 * @module
 */
import type { HeapMatMulKernels, MatMulActivation, MatMulKernels, MatMulSpec, MatMulVariant } from "@likeness/kernels";
import { createHeapMatMulKernels, MATMUL_ACTIVATIONS } from "@likeness/kernels";
import type { _KernelFunc } from "./_kernels.ts";

interface _TensorInfo {
  dataId: object;
  shape: number[];
  dtype: string;
}

interface _WasmBackend {
  makeOutput(shape: number[], dtype: string): _TensorInfo;
  typedArrayFromHeap(t: _TensorInfo): Float32Array | Int32Array | Uint8Array;
  /** The Emscripten module: its memory and allocator. */
  wasm?: { asm?: { memory?: unknown }; _malloc?(bytes: number): number; _free?(offset: number): void };
}

/** Single-thread kernels on each tfjs-wasm heap, by build (null: that heap cannot host them). */
const _heaps = new WeakMap<WebAssembly.Memory, Map<MatMulVariant, HeapMatMulKernels | null>>();

/**
 * For products large enough for the Workers: whether to run them there (operands copied into the
 * kernels' shared memory, every thread) or in place on tfjs's heap (one thread, no copies), by the
 * time each way took lately for the same shape. On a machine whose other cores are busy the Workers
 * get no time and the copies are pure loss (measured on 2 shared cores: 160 × 784 × 256 in 2.5 ms
 * through the Workers, 1.5 ms in place); on an idle one the Workers halve the time. Every
 * {@link _EXPLORE}th product of a shape takes the way that was slower, so the choice follows the load.
 */
export class _WayChooser {
  /** Milliseconds per product, smoothed, by shape: [in place, Workers]. */
  readonly #ms = new Map<string, [number, number, number]>();

  /**
   * @param key the product's shape
   * @returns 0 in place, 1 on the Workers
   */
  pick(key: string): 0 | 1 {
    const e = this.#ms.get(key);
    if (!e) return 0;
    const [heap, workers, calls] = e;
    e[2] = calls + 1;
    if (Number.isNaN(workers)) return 1;
    const best = heap <= workers ? 0 : 1;
    return (calls + 1) % _EXPLORE === 0 ? (1 - best) as 0 | 1 : best;
  }

  /**
   * @param key the product's shape
   * @param way the way it ran
   * @param ms how long it took
   */
  record(key: string, way: 0 | 1, ms: number): void {
    let e = this.#ms.get(key);
    if (!e) {
      if (this.#ms.size >= 256) this.#ms.clear();
      this.#ms.set(key, e = [NaN, NaN, 0]);
    }
    e[way] = Number.isNaN(e[way]) ? ms : 0.7 * e[way] + 0.3 * ms;
  }
}

/** Every how many products of a shape the slower way is tried again. */
export const _EXPLORE = 16;

/** The kernels that compute in place on the backend's heap, or null where they cannot. */
function _heapKernels(be: _WasmBackend, variant: MatMulVariant): HeapMatMulKernels | null {
  const w = be.wasm;
  const memory = w?.asm?.memory;
  if (!(memory instanceof WebAssembly.Memory) || !w?._malloc || !w._free) return null;
  let byVariant = _heaps.get(memory);
  if (!byVariant) _heaps.set(memory, byVariant = new Map());
  let h = byVariant.get(variant);
  if (h === undefined) {
    const malloc = w._malloc.bind(w);
    const free = w._free.bind(w);
    try {
      h = createHeapMatMulKernels(memory, { malloc, free }, { variant });
    } catch {
      h = null; // e.g. the threaded tfjs-wasm build's shared memory: copy instead
    }
    byVariant.set(variant, h);
  }
  return h;
}

type _MatMulAttrs = {
  transposeA: boolean;
  transposeB: boolean;
  activation?: string;
  leakyreluAlpha?: number;
};

const _size = (shape: number[]): number => shape.reduce((p, d) => p * d, 1);

/** The output batch shape when A's and B's batch shapes broadcast as our kernels can (equal, or one has 1 batch). */
function _batchShape(a: number[], b: number[]): number[] | null {
  const sa = _size(a);
  const sb = _size(b);
  if (sa === 1 && sb === 1) return a.length >= b.length ? a : b;
  if (sb === 1) return b.length <= a.length ? a : null;
  if (sa === 1) return a.length <= b.length ? b : null;
  if (a.length !== b.length || a.some((d, i) => d !== b[i])) return null;
  return a;
}

/**
 * A BatchMatMul (`fused` false) or _FusedMatMul (`fused` true) kernel; `fallback` runs what ours do not cover.
 *
 * @param k the matmul kernels
 * @param fused whether bias, activation and PReLU weights come with it
 * @param fallback the kernel registered before ours (tfjs-backend-wasm's)
 * @param chooser picks between the Workers and one thread in place for large products
 * @returns the kernel function
 */
export function _matMulKernel(
  k: MatMulKernels,
  fused: boolean,
  fallback?: _KernelFunc,
  chooser: _WayChooser = new _WayChooser(),
): _KernelFunc {
  return (args) => {
    const { inputs, backend, attrs } = args;
    const { a, b, bias, preluActivationWeights: prelu } = inputs;
    const at = attrs as _MatMulAttrs;
    const activation = (fused ? at.activation ?? "linear" : "linear") as MatMulActivation;
    const ra = a.shape.length;
    const rb = b.shape.length;
    const m = at.transposeA ? a.shape[ra - 1] : a.shape[ra - 2];
    const kk = at.transposeA ? a.shape[ra - 2] : a.shape[ra - 1];
    const kb = at.transposeB ? b.shape[rb - 1] : b.shape[rb - 2];
    const n = at.transposeB ? b.shape[rb - 2] : b.shape[rb - 1];
    const outer = _batchShape(a.shape.slice(0, -2), b.shape.slice(0, -2));
    const ours = a.dtype === "float32" && b.dtype === "float32" && ra >= 2 && rb >= 2 && kk === kb &&
      outer !== null && MATMUL_ACTIVATIONS.includes(activation) &&
      (!bias || (bias.dtype === "float32" && (_size(bias.shape) === n || _size(bias.shape) === 1) &&
        (bias.shape.length <= 1 || bias.shape.slice(0, -1).every((d) => d === 1)))) &&
      (activation !== "prelu" ||
        (prelu !== undefined && prelu.dtype === "float32" &&
          (_size(prelu.shape) === n || _size(prelu.shape) === 1)));
    if (!ours) {
      if (!fallback) {
        throw new Error(
          `${fused ? "_FusedMatMul" : "BatchMatMul"} on wasm (likeness): unsupported inputs ` +
            `(${a.dtype} ${JSON.stringify(a.shape)} × ${b.dtype} ${
              JSON.stringify(b.shape)
            }) and no tfjs kernel to fall back to`,
        );
      }
      return fallback(args);
    }
    const be = backend as _WasmBackend;
    const batch = _size(outer);
    // Small products run in place on tfjs's heap (one thread, no copies); large ones there or on the
    // Workers (copied into the kernels' shared memory), whichever was faster lately.
    const big = k.maxThreads > 1 && batch * m * n * kk >= k.minParallelWork;
    const key = big ? `${batch} ${m} ${kk} ${n} ${at.transposeA} ${at.transposeB}` : "";
    let way: 0 | 1 = big ? chooser.pick(key) : 0;
    if (way === 1 && k.threads === 1) {
      k.startThreads(); // stopped while idle: in place until they run again
      way = 0;
    }
    const heap = way === 0 ? _heapKernels(be, k.variant) : null;
    const out = be.makeOutput([...outer, m, n], "float32");
    const spec: MatMulSpec = {
      m,
      n,
      k: kk,
      batch,
      batchA: _size(a.shape.slice(0, -2)),
      batchB: _size(b.shape.slice(0, -2)),
      transposeA: at.transposeA,
      transposeB: at.transposeB,
      activation,
      leakyreluAlpha: at.leakyreluAlpha ?? 0.2,
    };
    // Views after makeOutput: its allocation may grow (and detach) the heap.
    if (bias) spec.bias = be.typedArrayFromHeap(bias) as Float32Array;
    if (activation === "prelu") spec.prelu = be.typedArrayFromHeap(prelu) as Float32Array;
    const t0 = big ? performance.now() : 0;
    (heap ?? k).matMul(
      be.typedArrayFromHeap(a) as Float32Array,
      be.typedArrayFromHeap(b) as Float32Array,
      spec,
      be.typedArrayFromHeap(out) as Float32Array,
    );
    if (big && (heap || k.threads > 1)) chooser.record(key, heap ? 0 : 1, performance.now() - t0);
    return out;
  };
}
