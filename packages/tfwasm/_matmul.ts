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

/** What a chooser keeps of one shape. */
interface _Shape {
  /** The last times per row by way (at most _WINDOW each). */
  recent: number[][];
  /** By way: whether `recent` still holds the times lent by another shape of the family. */
  prior: boolean[];
  /** Runs by way of this shape. */
  runs: number[];
  /** Products of this shape seen. */
  calls: number;
  /** Products between two tries of another way now. */
  gap: number;
  /** The product (by `calls`) that tries another way next; 0 until every way was measured. */
  next: number;
  /** The way being tried, until its time is recorded (-1: none). */
  trying: number;
}

/**
 * Which way to run a product that can run more than one way, by the time each way took lately for
 * the same shape: the measured speeds differ with the load and with the operands. On a machine whose
 * other cores are busy the Workers get no time and the copies are pure loss (measured on 2 shared
 * cores: 160 × 784 × 256 in 2.5 ms through the Workers, 1.5 ms in place); on an idle one they halve
 * the time. tfjs's XNNPACK keeps B packed per tensor, so on the same B again (frozen weights) it can
 * be faster than packing B on every product.
 *
 * - **Warm-up.** A way's first {@link _WARM_RUNS} runs are not its speed: V8 runs a new module's
 *   code unoptimised until its second or third call (measured 14 → 6 → 3 ms at 128 × 1280 × 512).
 *   That is once per process for in place and the Workers (their code is the same whatever the
 *   shape; new Workers are timed only once `threadsWarm`), so those runs are counted per chooser,
 *   not per shape. tfjs's XNNPACK packs each weight on its first product, so its first
 *   {@link _TFJS_WARM_RUNS} run of every shape is not counted.
 * - **New shapes.** A shape is its row count rounded up to a power of two and the rest of the product
 *   (its family: batch, K, N, transposes, activation). A new shape starts from the times of the last
 *   shape of its family seen (and its gap between retries, below), each replaced by the new shape's
 *   own first time of that way, so a
 *   sentence encoder whose row count changes with each batch's tokens does not try every way again
 *   on each new count.
 * - **Choice.** Each way a shape can run is measured once, then the fastest runs: a way's speed is the
 *   least of its last {@link _WINDOW} times (on a shared machine a run is its time plus however long
 *   the OS left the thread waiting, and one such run must not hand the shape to a slower way).
 * - **Retries.** Another way is tried again {@link _EXPLORE_EARLY} products after the last try;
 *   each try that leaves the choice as it was doubles that gap, up to {@link _EXPLORE}, and a try that
 *   wins sets it back, so the choice follows the load. Retries had a fixed gap of 4 during a shape's
 *   first 64 products before: a sentence encoder, whose shapes change with each batch's token count,
 *   ran one product in four on a slower way (USE-lite at batch 64: 293 sentences/s against 401 with
 *   the Workers every time, Deno, 2 cores).
 */
export class _WayChooser {
  /** By shape: the last times per row by way (at most _WINDOW each), runs by way, products seen, and the retry schedule. */
  readonly #ms = new Map<string, _Shape>();
  /** By family: its shape seen last. */
  readonly #family = new Map<string, _Shape>();
  /** Runs per way across shapes (the warm-up of in place and of the Workers is once per process). */
  readonly #runs = [0, 0, 0];

  /**
   * @param key the product's shape
   * @param ways the ways it can run (at least one)
   * @param family what the shape shares with others whose times tell about it (the product without
   *   its row count): a new shape starts from the times of the last one of its family
   * @returns the way to run it
   */
  pick(key: string, ways: readonly _Way[], family?: string): _Way {
    let e = this.#ms.get(key);
    if (!e) {
      if (this.#ms.size >= 256) this.#ms.clear();
      // A shape of the same family (the same product at another row count) lends its times as a
      // prior, each replaced by this shape's first counted time of that way.
      const kin = family === undefined ? undefined : this.#family.get(family);
      e = {
        recent: kin ? kin.recent.map((r) => r.slice()) : [[], [], []],
        prior: kin ? kin.recent.map((r) => r.length > 0) : [false, false, false],
        runs: [0, 0, 0],
        calls: 0,
        gap: kin ? kin.gap : _EXPLORE_EARLY, // and how settled its choice was
        next: 0,
        trying: -1,
      };
      this.#ms.set(key, e);
      if (family !== undefined) {
        if (this.#family.size >= 256) this.#family.clear();
        this.#family.set(family, e);
      }
    }
    e.calls++;
    const untried = ways.find((w) => e.recent[w].length === 0);
    if (untried !== undefined) return untried;
    const best = this.#best(e, ways);
    if (e.next === 0) e.next = e.calls + e.gap;
    if (e.calls < e.next) return best;
    const others = ways.filter((w) => w !== best);
    if (!others.length) return best;
    e.trying = others[Math.floor(e.calls / e.gap) % others.length];
    // The next try, unless this one's time comes back (an uncounted run, or a product that ran
    // another way, leaves the gap as it was).
    e.next = e.calls + e.gap;
    return e.trying as _Way;
  }

  /**
   * @param key the product's shape
   * @param way the way it ran
   * @param ms how long it took
   */
  record(key: string, way: _Way, ms: number): void {
    const e = this.#ms.get(key);
    if (!e) return;
    // A way's first runs pay its one-time costs (compiling, optimising, starting, packing): not its speed.
    if (way === _TFJS ? e.runs[way]++ < _TFJS_WARM_RUNS : this.#runs[way]++ < _WARM_RUNS) return;
    if (e.prior[way]) {
      e.prior[way] = false;
      e.recent[way] = [];
    }
    const r = e.recent[way];
    r.push(ms);
    if (r.length > _WINDOW) r.shift();
    if (e.trying === way) {
      e.trying = -1;
      const offered = ([_IN_PLACE, _WORKERS, _TFJS] as const).filter((w) => e.recent[w].length > 0);
      e.gap = this.#best(e, offered) === way ? _EXPLORE_EARLY : Math.min(_EXPLORE, 2 * e.gap);
      e.next = e.calls + e.gap;
    }
  }

  /** The fastest of `ways` by the least of its recent times (the first on a tie). */
  #best(e: _Shape, ways: readonly _Way[]): _Way {
    const speed = (w: _Way) => Math.min(...e.recent[w]);
    let best = ways[0];
    for (const w of ways) if (speed(w) < speed(best)) best = w;
    return best;
  }
}

/** Runs of in place and of the Workers, across shapes, that warm them up and are not counted. */
export const _WARM_RUNS = 2;

/** Runs of tfjs's kernel per shape that are not counted (XNNPACK packs a weight on its first product). */
export const _TFJS_WARM_RUNS = 1;

/** Times per way a choice is made from (their least). */
export const _WINDOW = 4;

/** The longest gap, in products of a shape, between two tries of another way. */
export const _EXPLORE = 16;

/** The first gap between tries of another way, and the gap again after a try that won. */
export const _EXPLORE_EARLY = 4;

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
    const family = choose ? `${batch} ${kk} ${n} ${at.transposeA} ${at.transposeB} ${activation}` : "";
    const key = choose ? `${_rowBucket(m)} ${family}` : "";
    let way = choose ? chooser.pick(key, ways, family) : ways[0] ?? _WORKERS;
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
      // tfjs never changes a tensor's data in place: a frozen weight is kept in our memory.
      bKey: b.dataId,
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
