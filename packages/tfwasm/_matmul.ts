/**
 * tfjs `BatchMatMul` and `_FusedMatMul` for the wasm backend on likeness's matmul kernels
 * (`createMatMulKernels` from `@likeness/kernels`): transposed operands are read in place, bias and
 * activation are fused. A product runs in place on tfjs's heap (`createHeapMatMulKernels`, one
 * thread), on every thread of the kernels' Worker pool (large ones, copied into its shared memory), or
 * by tfjs's own kernel (XNNPACK, without transposes), whichever was fastest lately for its shape
 * ({@link _WayChooser}). What they
 * do not cover (non-float32 inputs, batch shapes that broadcast other than by a batch of 1, a bias or
 * PReLU weights that are not one value per column) runs on the kernel that was registered before.
 *
 * @module
 */
import type { HeapMatMulKernels, MatMulActivation, MatMulKernels, MatMulSpec, MatMulVariant } from "@likeness/kernels";
import { createHeapMatMulKernels, MATMUL_ACTIVATIONS } from "@likeness/kernels";
import type { _KernelFunc, _TensorInfo, _WasmBackend } from "./_kernels.ts";

/** Single-thread kernels on each tfjs-wasm heap, by build (null: that heap cannot host them). */
const _heaps = new WeakMap<WebAssembly.Memory, Map<MatMulVariant, HeapMatMulKernels | null>>();

/** How a product runs: in place on tfjs's heap (one thread), on the Workers, or by tfjs's own kernel. */
export type _Way = 0 | 1 | 2;
/** In place on tfjs's heap: one thread, no copies. */
export const _IN_PLACE: _Way = 0;
/** On the kernels' Workers: operands copied into their shared memory, every thread. */
export const _WORKERS: _Way = 1;
/** tfjs-backend-wasm's own kernel (XNNPACK for a product without transposes). */
export const _TFJS: _Way = 2;

/**
 * Which way to run a product that can run more than one way, by the time each way took lately for
 * the same shape: the measured speeds differ with the load and with the operands. On a machine whose
 * other cores are busy the Workers get no time and the copies are pure loss (measured on 2 shared
 * cores: 160 × 784 × 256 in 2.5 ms through the Workers, 1.5 ms in place); on an idle one they halve
 * the time. tfjs's XNNPACK keeps B packed per tensor, so on the same B again (frozen weights) it can
 * be faster than packing B on every product. Each way is tried {@link _WARM_RUNS} + 1 times (the
 * first runs only warm it up: V8 runs a new module's code unoptimised until its second or third
 * call, measured 14 → 6 → 3 ms at 128 × 1280 × 512), then the fastest runs, and every
 * {@link _EXPLORE}th product of a shape (every {@link _EXPLORE_EARLY}th among its first
 * {@link _EARLY_CALLS}) tries another way again, so the choice follows the load. A way's speed is
 * the least of its last {@link _WINDOW} times: on a shared machine a run is its
 * time plus however long the OS left the thread waiting, and one such run (3 ms becoming 17) must
 * not hand the shape to a slower way for the next 16 products.
 */
export class _WayChooser {
  /** The last times per row, by way (at most _WINDOW each), runs by way, and products seen, by shape. */
  readonly #ms = new Map<string, { recent: number[][]; runs: number[]; calls: number }>();

  /**
   * @param key the product's shape
   * @param ways the ways it can run (at least one)
   * @returns the way to run it
   */
  pick(key: string, ways: readonly _Way[]): _Way {
    let e = this.#ms.get(key);
    if (!e) {
      if (this.#ms.size >= 256) this.#ms.clear();
      this.#ms.set(key, e = { recent: [[], [], []], runs: [0, 0, 0], calls: 0 });
    }
    e.calls++;
    const untried = ways.find((w) => e.recent[w].length === 0);
    if (untried !== undefined) return untried;
    const speed = (w: _Way) => Math.min(...e.recent[w]);
    let best = ways[0];
    for (const w of ways) if (speed(w) < speed(best)) best = w;
    const every = e.calls <= _EARLY_CALLS ? _EXPLORE_EARLY : _EXPLORE;
    if (e.calls % every !== 0) return best;
    const others = ways.filter((w) => w !== best);
    return others.length ? others[Math.floor(e.calls / every) % others.length] : best;
  }

  /**
   * @param key the product's shape
   * @param way the way it ran
   * @param ms how long it took
   */
  record(key: string, way: _Way, ms: number): void {
    const e = this.#ms.get(key);
    if (!e) return;
    // A way's first runs pay its one-time costs (compiling, optimising, starting): not its speed.
    if (e.runs[way]++ < _WARM_RUNS) return;
    const r = e.recent[way];
    r.push(ms);
    if (r.length > _WINDOW) r.shift();
  }
}

/** Runs of a way that warm it up and are not counted. */
export const _WARM_RUNS = 2;

/** Times per way a choice is made from (their least). */
export const _WINDOW = 4;

/** Every how many products of a shape another way is tried again. */
export const _EXPLORE = 16;

/**
 * Every how many products another way is tried during a shape's first {@link _EARLY_CALLS}: a way's
 * one counted run after its warm-up can still be slow (new Workers on a new shape measured 5.0 ms where
 * they settle at 1.3, at 160 × 784 × 256 in Bun), and one retry in 16 left such a shape on the slower way
 * for its next 20 products.
 */
export const _EXPLORE_EARLY = 4;

/** Products of a shape during which another way is tried every {@link _EXPLORE_EARLY}th. */
export const _EARLY_CALLS = 64;

/** The power of two at or above `m` (the row count a product's way is chosen by). */
export function _rowBucket(m: number): number {
  let b = 1;
  while (b < m) b *= 2;
  return b;
}

/** Multiply-adds below which a product just runs in place (the choice would cost more than it saves). */
const _CHOOSE_MIN = 1 << 15;

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
 * @param chooser picks the way of a product that can run several ways
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
    const work = batch * m * n * kk;
    const heap = _heapKernels(be, k.variant);
    const ways: _Way[] = [];
    if (heap) ways.push(_IN_PLACE);
    if (k.maxThreads > 1 && work >= k.minParallelWork) ways.push(_WORKERS);
    // tfjs's own is only worth trying where it runs XNNPACK: no transposes, one batch.
    if (fallback && work >= _CHOOSE_MIN && !at.transposeA && !at.transposeB && batch === 1) ways.push(_TFJS);
    const choose = ways.length > 1 && work >= _CHOOSE_MIN;
    // Rows by power of two, time per row: products whose row count varies call by call (a sentence
    // encoder's tokens) share what was measured instead of exploring every way for each new count.
    const key = choose ? `${batch} ${_rowBucket(m)} ${kk} ${n} ${at.transposeA} ${at.transposeB} ${activation}` : "";
    let way = choose ? chooser.pick(key, ways) : ways[0] ?? _WORKERS;
    if (way === _WORKERS && k.threads === 1) {
      k.startThreads(); // stopped while idle: run otherwise until they are back
      way = heap ? _IN_PLACE : _WORKERS;
    }
    const t0 = choose ? performance.now() : 0;
    if (way === _TFJS) {
      const r = fallback!(args);
      chooser.record(key, way, (performance.now() - t0) / m);
      return r;
    }
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
    (way === _IN_PLACE ? heap! : k).matMul(
      be.typedArrayFromHeap(a) as Float32Array,
      be.typedArrayFromHeap(b) as Float32Array,
      spec,
      be.typedArrayFromHeap(out) as Float32Array,
    );
    // New Workers' first products are slower than their speed (their code is not optimised yet).
    if (choose && (way !== _WORKERS || k.threadsWarm)) chooser.record(key, way, (performance.now() - t0) / m);
    return out;
  };
}
