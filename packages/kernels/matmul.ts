/**
 * Matrix-product kernels (WebAssembly scalar, SIMD or relaxed SIMD, optionally multi-threaded)
 * on plain typed arrays: `C = act(op(A)·op(B) + bias)`, batched, with transposed operands read in
 * place. Synchronous once created, so that tfjs kernels can call them (see `@likeness/tfwasm`).
 *
 * @module
 */
import { checkFiniteNumber, ShapeError, ValueError } from "@likeness/core";
import { wasmBytes as scalarBytes } from "./generated/matmul_scalar.generated.ts";
import { wasmBytes as simdBytes } from "./generated/matmul_simd.generated.ts";
import { wasmBytes as relaxedBytes } from "./generated/matmul_relaxed.generated.ts";
import { wasmBytes as scalarMtBytes } from "./generated/matmul_scalar_mt.generated.ts";
import { wasmBytes as simdMtBytes } from "./generated/matmul_simd_mt.generated.ts";
import { wasmBytes as relaxedMtBytes } from "./generated/matmul_relaxed_mt.generated.ts";
import { KernelModule } from "./wasm_module.ts";
import { hasRelaxedSimd, hasWasmSimd, hasWasmThreads } from "./probe.ts";
import { MatMulPool } from "./_matmul_pool.ts";
import { INJECT_WORKER_FAULT, MAX_WORKER_RESTARTS } from "./dense_resident.ts";
import type { MatMulActivation, MatMulSpec } from "./reference/matmul.ts";
import { checkThreads } from "./threads.ts";

export type { MatMulActivation, MatMulSpec } from "./reference/matmul.ts";

/** Which build of the matmul kernels to run. */
export type MatMulVariant = "scalar" | "simd" | "relaxed";

/** Activations the kernels fuse, in the order of their codes in `kernels/matmul/common.ts`. */
export const MATMUL_ACTIVATIONS: readonly MatMulActivation[] = [
  "linear",
  "relu",
  "relu6",
  "leakyrelu",
  "prelu",
  "sigmoid",
  "elu",
];

/** Options for {@link createMatMulKernels}. */
export interface MatMulKernelsOptions {
  /** Build: `relaxed` (default where supported), `simd`, or `scalar`. */
  variant?: MatMulVariant;
  /**
   * Threads (default 1). More than 1 starts `threads - 1` Workers over one shared memory; without
   * Worker or SharedArrayBuffer the kernels run on one thread (see `threads` on the result).
   */
  threads?: number;
  /** Multiply-adds below which a product runs on the calling thread only (default 2^20). */
  minParallelWork?: number;
  /**
   * Milliseconds without a threaded product after which the Workers stop (default 1000), so an
   * idle process can exit; the next large product restarts them in the background and runs on one
   * thread meanwhile. `Infinity` keeps them until {@link MatMulKernels.dispose}.
   */
  idleMs?: number;
}

/**
 * Matrix products over float32 typed arrays.
 *
 * @example
 * ```ts
 * import { createMatMulKernels } from "@likeness/kernels";
 * import assert from "node:assert/strict";
 * const k = await createMatMulKernels();
 * const c = k.matMul(new Float32Array([1, 2, 3, 4]), new Float32Array([1, 0, 0, 1]), { m: 2, n: 2, k: 2 });
 * assert.deepEqual(c, new Float32Array([1, 2, 3, 4])); // A times the identity
 * k.dispose();
 * ```
 */
export interface MatMulKernels {
  /** The build in use. */
  readonly variant: MatMulVariant;
  /** Threads a large product runs on now (1 while Workers are stopped or unavailable). */
  readonly threads: number;
  /** Threads a large product can run on (the `threads` asked for, or 1 without Workers). */
  readonly maxThreads: number;
  /** Multiply-adds from which a product runs on the Workers (the `minParallelWork` option). */
  readonly minParallelWork: number;
  /**
   * Whether the Workers running now have each had {@link MATMUL_WARM_PRODUCTS} products to optimise
   * their code: the first products on new Workers (at start, and after an idle stop) run slower
   * (measured at 160 × 784 × 256: up to 6.1 ms among their first 7 products, then 1.2–1.4 ms), so a time
   * taken before is not their speed.
   * False while no Workers run.
   */
  readonly threadsWarm: boolean;
  /**
   * Start the Workers in the background if they were stopped (after `idleMs` without a threaded
   * product), so that a later product can use them; `threads` tells when they run. Does nothing
   * with one thread.
   */
  startThreads(): void;
  /**
   * `C = act(op(A)·op(B) + bias)` for each batch.
   *
   * @param a A: `batchA × M × K` row-major (`batchA × K × M` with `transposeA`)
   * @param b B: `batchB × K × N` row-major (`batchB × N × K` with `transposeB`)
   * @param spec shapes, transposes, bias and activation
   * @param out optional destination of length `batch·M·N`
   * @returns C, `batch × M × N` row-major
   * @throws {ValueError} INVALID_ARGUMENT for a negative or non-integer size or a batch that is neither
   *   `batch` nor 1; UNKNOWN_NAME for an unknown activation
   * @throws {ShapeError} SHAPE_MISMATCH when an array's length does not match; TOO_LARGE past the memory limit
   * @throws {LikenessError} WORKER_FAILED when a matmul Worker died during this product (found within
   *   about a second: `MATMUL_STALL_MIN_MS`); later products run on one thread until new Workers start
   */
  matMul(a: Float32Array, b: Float32Array, spec: MatMulSpec, out?: Float32Array): Float32Array;
  /** Stop the Workers and release the module; later calls throw. */
  dispose(): void;
  /**
   * Test-only (see `INJECT_WORKER_FAULT`): matmul Worker `tid` dies holding the next chunk it
   * claims, with an uncaught error (`throw`) or silently (`exit`). That product fails with
   * `WORKER_FAILED`; later ones run on one thread while the Workers restart (at most
   * `MAX_WORKER_RESTARTS` times, then one thread for good).
   *
   * @throws RangeError when no Worker `tid` is running
   */
  [INJECT_WORKER_FAULT](how: "throw" | "exit", tid: number): void;
  /** Internal (`createConvKernels({ matmul })`): run conv-gradient jobs on these kernels' threads. */
  [_RUN_CONV](job: _ConvJob): Float32Array;
}

/** The key of {@link MatMulKernels}' internal conv hook (used by `createConvKernels`). */
export const _RUN_CONV: unique symbol = Symbol("likeness.matmul.runConv");

/**
 * A conv-gradient job for the matmul modules' threads (internal): the inputs, the output and a
 * scratch block are laid out in that order (regions 0 … n-1, n, n + 1), then each step runs
 * `units` units of conv op `op` (kernels/conv/common.ts) on regions `a`, `b` and `out`.
 */
export interface _ConvJob {
  /** Multiply-adds (decides whether the Workers take part). */
  work: number;
  inputs: Float32Array[];
  outLen: number;
  scratchLen: number;
  /** n, h, w, ci, ho, wo, co, kh, kw, sh, sw, pt, pl. */
  geometry: number[];
  steps: { op: number; units: number; a: number; b: number; out: number }[];
  out?: Float32Array;
}

/** i32 slots of a conv job in the descriptor (kernels/conv/common.ts: C_A, C_B, C_OUT, C_N, C_UNITS, C_OP). */
const C_A = 0, C_B = 1, C_OUT = 2, C_N = 3, C_UNITS = 30, C_OP = 31;

/**
 * Pages of the threaded builds' shared memory (1 GiB), which is created at that size and never grows:
 * the `_mt` modules declare it as both their minimum and their maximum (kernels/matmul/build.json), so
 * V8, which checks every load in code where it runs without its trap handler (Deno), checks against a
 * size known when it compiles. Measured (Deno 2.9.6, 1024×512×512 on 2 threads): 8.85 → 8.34 ms; a
 * minimum of 2048 pages with the maximum left above it gained nothing. The pages are only reserved
 * until a product touches them.
 */
const SHARED_MAX_PAGES = 16384;
/** Products new matmul Workers run before {@link MatMulKernels.threadsWarm} is true. */
export const MATMUL_WARM_PRODUCTS = 8;

/**
 * Products given the same {@link MatMulSpec.bKey} after which {@link createMatMulKernels}' kernels
 * keep that B in their memory (not copied again while it stays): from the third, so a trained
 * weight (a new tensor each step, used by its forward and its input-gradient product) is never
 * kept, and a frozen one is copied twice in all.
 */
export const MATMUL_RESIDENT_AFTER = 2;

/**
 * Bytes of kept B operands (frozen weights) at most; past it every kept one is dropped and keeping
 * starts over. USE-lite's products keep about 13 MiB.
 */
export const MATMUL_RESIDENT_BYTES = 64 * 2 ** 20;
const PARAMS_BYTES = 128;
/** Slot of the packed B's offset in the job descriptor (kernels/matmul/common.ts). */
const P_BPACKED = 19;
const PARALLEL_MIN_WORK = 2 ** 20;

const BYTES: Record<MatMulVariant, [() => Uint8Array, () => Uint8Array]> = {
  scalar: [scalarBytes, scalarMtBytes],
  simd: [simdBytes, simdMtBytes],
  relaxed: [relaxedBytes, relaxedMtBytes],
};

type Gemm = (params: number, u0: number, u1: number, work: number) => void;

function _size(name: string, v: unknown, min = 0): number {
  return checkFiniteNumber(v, name, "matMul", { min, integer: true });
}

function _length(arr: ArrayLike<number>, want: number, name: string, shape: string): void {
  if (arr.length !== want) {
    throw new ShapeError(
      `Cannot compute matmul: ${name} has ${arr.length} values but ${shape} needs ${want}`,
      "SHAPE_MISMATCH",
    );
  }
}

/** A checked product: sizes, batches, activation code, and its work in multiply-adds. */
interface _Job {
  m: number;
  n: number;
  k: number;
  batch: number;
  ba: number;
  bb: number;
  act: number;
  cLen: number;
  work: number;
  bias?: ArrayLike<number>;
  prelu?: ArrayLike<number>;
}

/** Check a product's sizes, batches, activation and array lengths (one place for both kernels). */
function _job(a: ArrayLike<number>, b: ArrayLike<number>, spec: MatMulSpec, out?: ArrayLike<number>): _Job {
  const m = _size("m", spec.m);
  const n = _size("n", spec.n);
  const k = _size("k", spec.k);
  const batch = _size("batch", spec.batch ?? 1, 1);
  const ba = spec.batchA ?? batch;
  const bb = spec.batchB ?? batch;
  if ((ba !== batch && ba !== 1) || (bb !== batch && bb !== 1)) {
    throw new ValueError(
      "INVALID_ARGUMENT",
      `Invalid matmul batches: A has ${ba} and B has ${bb} for ${batch} outputs; each must be ${batch} or 1`,
    );
  }
  const act = MATMUL_ACTIVATIONS.indexOf(spec.activation ?? "linear");
  if (act < 0) {
    throw new ValueError(
      "UNKNOWN_NAME",
      `Unknown matmul activation ${JSON.stringify(spec.activation)}: use one of ${MATMUL_ACTIVATIONS.join(", ")}`,
    );
  }
  _length(a, ba * m * k, "A", spec.transposeA ? `${ba} × ${k} × ${m}` : `${ba} × ${m} × ${k}`);
  _length(b, bb * k * n, "B", spec.transposeB ? `${bb} × ${n} × ${k}` : `${bb} × ${k} × ${n}`);
  const cLen = batch * m * n;
  if (out) _length(out, cLen, "out", `${batch} × ${m} × ${n}`);
  const bias = spec.bias;
  if (bias && bias.length !== 1) _length(bias, n, "bias", `1 or ${n}`);
  const prelu = act === 4 ? spec.prelu : undefined;
  if (act === 4 && !prelu) {
    throw new ValueError("INVALID_ARGUMENT", "matmul activation prelu needs the prelu slopes");
  }
  if (prelu && prelu.length !== 1) _length(prelu, n, "prelu", `1 or ${n}`);
  return { m, n, k, batch, ba, bb, act, cLen, work: m * n * k * batch, bias, prelu };
}

/** Write the job descriptor (kernels/matmul/common.ts) at byte `pp` of `buf`, operands at `at`. */
function _writeParams(
  buf: ArrayBufferLike,
  pp: number,
  job: _Job,
  spec: MatMulSpec,
  at: { a: number; b: number; c: number; bias: number; prelu: number },
): void {
  const { m, n, k } = job;
  const q = new Int32Array(buf, pp, PARAMS_BYTES >> 2);
  const f = new Float32Array(buf, pp, PARAMS_BYTES >> 2);
  q.fill(0); // slot 31 (C_OP in kernels/conv/common.ts) must be 0: a product, not a conv job
  q[0] = at.a;
  q[1] = spec.transposeA ? 4 : k * 4;
  q[2] = spec.transposeA ? m * 4 : 4;
  q[3] = job.ba === 1 ? 0 : m * k * 4;
  q[4] = at.b;
  q[5] = spec.transposeB ? 4 : n * 4;
  q[6] = spec.transposeB ? k * 4 : 4;
  q[7] = job.bb === 1 ? 0 : k * n * 4;
  q[8] = at.c;
  q[9] = m;
  q[10] = n;
  q[11] = k;
  q[12] = job.bias ? at.bias : 0;
  q[13] = job.bias?.length ?? 0;
  q[14] = job.act;
  f[15] = spec.leakyreluAlpha ?? 0.2;
  q[16] = job.prelu ? at.prelu : 0;
  q[17] = job.prelu?.length ?? 0;
  q[18] = job.batch;
}

/** The build to run: the one asked for, checked against the runtime, or the fastest it has. */
function _variant(asked?: MatMulVariant): MatMulVariant {
  const variant = asked ?? (hasRelaxedSimd() ? "relaxed" : hasWasmSimd() ? "simd" : "scalar");
  if (!(variant in BYTES)) {
    throw new ValueError(
      "UNKNOWN_NAME",
      `Unknown matmul kernel variant ${JSON.stringify(variant)}: use "relaxed", "simd" or "scalar"`,
    );
  }
  if (variant !== "scalar" && !hasWasmSimd()) {
    throw new ValueError("UNSUPPORTED", 'This runtime has no WebAssembly SIMD: use variant "scalar"');
  }
  if (variant === "relaxed" && !hasRelaxedSimd()) {
    throw new ValueError("UNSUPPORTED", 'This runtime has no WebAssembly relaxed SIMD: use variant "simd"');
  }
  return variant;
}

/**
 * Instantiate the matmul kernels (and their Workers when `threads > 1`).
 *
 * @param options build, threads, parallel threshold, idle stop
 * @returns the kernels
 * @throws {ValueError} UNKNOWN_NAME for an unknown variant; UNSUPPORTED for a build the runtime lacks;
 *   INVALID_ARGUMENT for threads outside 1..64 or a negative minParallelWork / idleMs
 * @example
 * ```ts
 * import { createMatMulKernels } from "@likeness/kernels";
 * const k = await createMatMulKernels({ variant: "scalar" });
 * const c = k.matMul(new Float32Array([1, 2]), new Float32Array([3, 4]), { m: 1, n: 1, k: 2 });
 * console.log(c[0]); // 11
 * k.dispose();
 * ```
 */
export async function createMatMulKernels(options: MatMulKernelsOptions = {}): Promise<MatMulKernels> {
  const variant = _variant(options.variant);
  const requested = checkThreads(options.threads ?? 1, "matMul kernels");
  const minWork = options.minParallelWork ?? PARALLEL_MIN_WORK;
  const idleMs = options.idleMs ?? 1000;
  if (!(minWork >= 0) || !(idleMs >= 0)) {
    throw new ValueError("INVALID_ARGUMENT", "Invalid minParallelWork or idleMs: expected numbers >= 0");
  }
  const [single, multi] = BYTES[variant];
  const threaded = requested > 1 && hasWasmThreads();
  const memory = threaded
    ? new WebAssembly.Memory({ initial: SHARED_MAX_PAGES, maximum: SHARED_MAX_PAGES, shared: true })
    : new WebAssembly.Memory({ initial: 1 });
  const mod = await KernelModule.create(threaded ? multi() : single(), memory);
  const gemm = mod.fn<Gemm>("gemm");
  const units = mod.fn<(p: number) => number>("units");
  const workBytes = (mod.fn<() => number>("workBytes")() + 15) & ~15;
  const base = (Math.max(mod.heapBase, mod.fn<() => number>("heapBase")()) + 15) & ~15;
  const limit = threaded ? SHARED_MAX_PAGES * 65536 : 2 ** 32 - 65536;

  let pool: MatMulPool | null = null;
  /** Products run on the current pool. */
  let poolProducts = 0;
  let starting: Promise<void> | null = null;
  /** Pools replaced after a Worker failed; past MAX_WORKER_RESTARTS the kernels stay on one thread. */
  let restarts = 0;
  let disposed = false;
  let lastUse = 0;
  /**
   * Kept B operands by key, in [base, base + keptEnd): where, and the product they were kept for
   * (`shape`: K, N, transposed; only the same product reads one, since a packed B is laid out for it).
   * The SIMD builds keep B packed in panels (`packB`, read through P_BPACKED: no packing per
   * product); the scalar build keeps it as given.
   */
  const kept = new Map<object, { at: number; shape: string }>();
  /** Products seen per key that is not kept yet. */
  const sightings = new WeakMap<object, number>();
  let keptEnd = 0;
  const packB = variant === "scalar" ? null : mod.fn<(params: number, dst: number) => void>("packB");
  /**
   * Where this product's B is kept (`fresh`: just allotted, to fill now), or null: copied per
   * product (no key, not yet due, a B per batch, or another product under the key).
   */
  const keepB = (key: object | undefined, job: _Job, transposeB: boolean): { at: number; fresh: boolean } | null => {
    if (key === null || (typeof key !== "object" && typeof key !== "function") || job.bb !== 1) return null;
    const shape = `${job.k} ${job.n} ${transposeB}`;
    const hit = kept.get(key);
    if (hit) return hit.shape === shape ? { at: hit.at, fresh: false } : null;
    const seen = (sightings.get(key) ?? 0) + 1;
    sightings.set(key, seen);
    const floats = packB ? Math.ceil(job.n / 8) * 8 * job.k : job.k * job.n;
    const bytes = (floats * 4 + 15) & ~15;
    if (seen <= MATMUL_RESIDENT_AFTER || bytes > MATMUL_RESIDENT_BYTES) return null;
    if (keptEnd + bytes > MATMUL_RESIDENT_BYTES) {
      kept.clear();
      keptEnd = 0;
    }
    const at = base + keptEnd;
    if (at + bytes > limit) return null;
    mod.ensure(at + bytes);
    kept.set(key, { at, shape });
    keptEnd += bytes;
    return { at, fresh: true };
  };
  let timer: ReturnType<typeof setTimeout> | undefined;

  const startPool = (): Promise<void> => {
    starting ??= MatMulPool.start(multi(), memory, requested).then(
      (p) => {
        if (disposed) p.close();
        else {
          pool = p;
          poolProducts = 0;
        }
      },
      () => {}, // stay on one thread
    ).finally(() => {
      starting = null;
    });
    return starting;
  };
  const watchIdle = () => {
    if (timer !== undefined || !Number.isFinite(idleMs)) return;
    timer = setTimeout(function check() {
      timer = undefined;
      if (!pool) return;
      const left = lastUse + idleMs - performance.now();
      if (left > 0) timer = setTimeout(check, left + 1);
      else {
        pool.close();
        pool = null;
      }
    }, idleMs + 1);
  };
  if (threaded) {
    await startPool();
    // Stop the Workers after idleMs even when no product ever runs, so an idle process can exit.
    lastUse = performance.now();
    watchIdle();
  }
  const live = (): void => {
    if (disposed) throw new ValueError("INVALID_ARGUMENT", "These matmul kernels were disposed; create new ones");
  };
  /** The pool a job of `work` multiply-adds runs on (null: this thread), starting one if needed. */
  const acquire = (work: number): MatMulPool | null => {
    if (pool?.broken) {
      // A Worker died between products: drop the pool; a new one starts in the background.
      pool.close();
      pool = null;
      restarts++;
    }
    const p = pool && work >= minWork ? pool : null;
    if (!p && threaded && work >= minWork && !starting && restarts <= MAX_WORKER_RESTARTS) void startPool();
    return p;
  };
  /**
   * Offsets of params, the threads' work memory and `sizes` (bytes) laid out after the kept B
   * operands, each 16-byte aligned, with the memory grown to hold them.
   */
  const layout = (p: MatMulPool | null, sizes: number[], what: string, hint: string): number[] => {
    const offs: number[] = [];
    let at = base + keptEnd;
    for (const sz of [PARAMS_BYTES, workBytes * (p ? p.threads : 1), ...sizes]) {
      offs.push(at);
      at = (at + sz + 15) & ~15;
    }
    if (at > limit) {
      throw new ShapeError(
        `Cannot ${what}: it needs ${Math.ceil(at / 2 ** 20)} MiB of WebAssembly memory but at most ${
          Math.floor(limit / 2 ** 20)
        } MiB can be used; ${hint}`,
        "TOO_LARGE",
      );
    }
    mod.ensure(at);
    return offs;
  };
  /** Run units [0, u) of the job at `pp` on `p`'s threads (or on this one). */
  const exec = (p: MatMulPool | null, pp: number, u: number, wp: number): void => {
    if (!p) {
      gemm(pp, 0, u, wp);
      return;
    }
    try {
      p.run(gemm, pp, u, wp, workBytes);
      poolProducts++;
    } catch (e) {
      // WORKER_FAILED: the pool closed itself; the next large product starts a new one.
      if (pool === p) {
        pool = null;
        restarts++;
      }
      throw e;
    }
    lastUse = performance.now();
    watchIdle();
  };

  return {
    variant,
    get threads() {
      return pool ? pool.threads : 1;
    },
    maxThreads: threaded ? requested : 1,
    minParallelWork: minWork,
    get threadsWarm() {
      return pool !== null && poolProducts >= MATMUL_WARM_PRODUCTS;
    },
    startThreads() {
      if (threaded && !disposed && !pool && !starting) void startPool();
    },
    matMul(a, b, spec, out) {
      live();
      const job = _job(a, b, spec, out);
      const result = out ?? new Float32Array(job.cLen);
      if (job.cLen === 0) return result;
      const { bias, prelu } = job;
      const p = acquire(job.work);
      const keep = keepB(spec.bKey, job, spec.transposeB ?? false);
      // B is copied per product, except where it is kept: as given (scalar), or packed (read
      // through P_BPACKED), which it is from a copy here on its first product.
      const copy = !keep || (packB !== null && keep.fresh);
      // Layout: params | work × threads | A | B | C | bias | prelu, each 16-byte aligned.
      const sizes = [
        a.length * 4,
        copy ? b.length * 4 : 0,
        job.cLen * 4,
        (bias?.length ?? 0) * 4,
        (prelu?.length ?? 0) * 4,
      ];
      const [pp, wp, ap, copyB, cp, biasp, prelup] = layout(p, sizes, "compute matmul", "split the batch");
      const bp = copy ? copyB : keep!.at;
      const buf = memory.buffer;
      new Float32Array(buf, ap, a.length).set(a);
      if (copy || keep!.fresh) new Float32Array(buf, bp, b.length).set(b);
      if (bias) new Float32Array(buf, biasp, bias.length).set(bias);
      if (prelu) new Float32Array(buf, prelup, prelu.length).set(prelu);
      _writeParams(buf, pp, job, spec, { a: ap, b: bp, c: cp, bias: biasp, prelu: prelup });
      if (keep && packB) {
        if (keep.fresh) packB(pp, keep.at);
        new Int32Array(memory.buffer, pp, PARAMS_BYTES >> 2)[P_BPACKED] = keep.at;
      }
      exec(p, pp, units(pp), wp);
      result.set(new Float32Array(memory.buffer, cp, job.cLen));
      return result;
    },
    [_RUN_CONV](job: _ConvJob) {
      live();
      const p = acquire(job.work);
      const sizes = [...job.inputs.map((x) => x.length * 4), job.outLen * 4, job.scratchLen * 4];
      const [pp, wp, ...regions] = layout(p, sizes, "run the conv kernel", "split the batch");
      job.inputs.forEach((x, i) => new Float32Array(memory.buffer, regions[i], x.length).set(x));
      for (const st of job.steps) {
        const q = new Int32Array(memory.buffer, pp, PARAMS_BYTES >> 2);
        q.fill(0);
        q[C_A] = regions[st.a];
        q[C_B] = regions[st.b];
        q[C_OUT] = regions[st.out];
        q.set(job.geometry, C_N);
        q[C_UNITS] = st.units;
        q[C_OP] = st.op;
        exec(p, pp, st.units, wp);
      }
      const result = job.out ?? new Float32Array(job.outLen);
      result.set(new Float32Array(memory.buffer, regions[job.inputs.length], job.outLen));
      return result;
    },
    dispose() {
      disposed = true;
      kept.clear();
      if (timer !== undefined) clearTimeout(timer);
      pool?.close();
      pool = null;
    },
    [INJECT_WORKER_FAULT](how: "throw" | "exit", tid: number) {
      if (!pool) throw new RangeError("These matmul kernels run no Workers now");
      pool.injectFault(how, tid);
    },
  };
}

/** Allocation in a foreign WebAssembly memory (e.g. an Emscripten module's `_malloc` / `_free`). */
export interface HeapAllocator {
  /** Reserve `bytes` bytes; returns the byte offset (0 when it failed). */
  malloc(bytes: number): number;
  /** Release what `malloc` returned. */
  free(offset: number): void;
}

/**
 * Matrix products computed in place in a memory that another module owns (tfjs-backend-wasm's heap,
 * for `@likeness/tfwasm`): operands and result are views of that memory, read and written where they
 * are, on the calling thread. Nothing is copied.
 */
export interface HeapMatMulKernels {
  /** The build in use. */
  readonly variant: MatMulVariant;
  /** The memory the operands must be views of. */
  readonly memory: WebAssembly.Memory;
  /**
   * `C = act(op(A)·op(B) + bias)` for each batch, as {@link MatMulKernels.matMul}, into `out`.
   *
   * @param a A, a view of {@link HeapMatMulKernels.memory} (`batchA × M × K`, or `× K × M` transposed)
   * @param b B, a view of the memory (`batchB × K × N`, or `× N × K` transposed)
   * @param spec shapes, transposes, bias and PReLU slopes (both views of the memory when given) and activation
   * @param out C, a view of the memory (`batch × M × N`)
   * @returns `out`
   * @throws {ValueError} INVALID_ARGUMENT when an array is not a view of the memory (or the memory
   *   grew since the view was taken), or as {@link MatMulKernels.matMul}
   * @throws {ShapeError} SHAPE_MISMATCH when an array's length does not match
   */
  matMul(a: Float32Array, b: Float32Array, spec: MatMulSpec, out: Float32Array): Float32Array;
  /** Release the scratch memory; later calls throw. */
  dispose(): void;
}

/**
 * Instantiate (synchronously) the single-thread matmul kernels on a foreign `memory` (imported, so
 * the host's data stays where it is: the modules have no data segment), with their scratch (job
 * descriptor, packed panels of B and a packed strip of A, about 70 KiB) taken once from `heap`.
 *
 * @param memory the host's memory (not shared: the single-thread builds import a plain memory)
 * @param heap the host's allocator, for the scratch
 * @param options `variant` (default: `relaxed` where supported, else `simd`, else `scalar`)
 * @returns the kernels
 * @throws {ValueError} UNKNOWN_NAME for an unknown variant; UNSUPPORTED for a build the runtime
 *   lacks or a memory the builds cannot import (a shared one); TOO_LARGE when `heap` has no room
 * @example
 * ```ts
 * import { createHeapMatMulKernels } from "@likeness/kernels";
 * const memory = new WebAssembly.Memory({ initial: 2 });
 * let top = 1024;
 * const heap = { malloc: (n: number) => (top += n) - n, free: () => {} };
 * const k = createHeapMatMulKernels(memory, heap, { variant: "simd" });
 * const a = new Float32Array(memory.buffer, 100_000, 2).fill(1); // 1 × 2
 * const b = new Float32Array(memory.buffer, 100_016, 2).fill(3); // 2 × 1
 * const c = new Float32Array(memory.buffer, 100_032, 1);
 * console.log(k.matMul(a, b, { m: 1, n: 1, k: 2 }, c)[0]); // 6
 * k.dispose();
 * ```
 */
export function createHeapMatMulKernels(
  memory: WebAssembly.Memory,
  heap: HeapAllocator,
  options: { variant?: MatMulVariant } = {},
): HeapMatMulKernels {
  const variant = _variant(options.variant);
  let mod: KernelModule;
  try {
    const imports = {
      env: {
        memory,
        abort: (_m: number, _f: number, line: number, col: number) => {
          throw new Error(`kernel abort at ${line}:${col}`);
        },
      },
    };
    // Synchronous (the module is about 8 KiB), so a tfjs kernel can create it on its first call.
    const instance = new WebAssembly.Instance(new WebAssembly.Module(BYTES[variant][0]() as BufferSource), imports);
    mod = new KernelModule(instance, memory);
  } catch (cause) {
    throw new ValueError(
      "UNSUPPORTED",
      `The matmul kernels cannot run on this memory (${String(cause)}); copy the operands instead`,
      { cause },
    );
  }
  const gemm = mod.fn<Gemm>("gemm");
  const units = mod.fn<(p: number) => number>("units");
  const workBytes = (mod.fn<() => number>("workBytes")() + 15) & ~15;
  const raw = heap.malloc(PARAMS_BYTES + workBytes + 16);
  if (!raw) throw new ShapeError("Cannot compute matmul: no room for its scratch on the heap", "TOO_LARGE");
  const pp = (raw + 15) & ~15;
  const wp = pp + PARAMS_BYTES;
  let disposed = false;
  const offset = (x: ArrayLike<number> | undefined, name: string): number => {
    if (x === undefined) return 0;
    if (!(x instanceof Float32Array) || x.buffer !== memory.buffer) {
      throw new ValueError(
        "INVALID_ARGUMENT",
        `Cannot compute matmul on the heap: ${name} is not a Float32Array view of its memory (or the memory grew since the view was taken)`,
      );
    }
    return x.byteOffset;
  };
  return {
    variant,
    memory,
    matMul(a, b, spec, out) {
      if (disposed) throw new ValueError("INVALID_ARGUMENT", "These matmul kernels were disposed; create new ones");
      // Views first: one of a memory that grew since is detached (length 0), not a shape error.
      const at = {
        a: offset(a, "A"),
        b: offset(b, "B"),
        c: offset(out, "out"),
        bias: offset(spec.bias, "bias"),
        prelu: spec.activation === "prelu" ? offset(spec.prelu, "prelu") : 0,
      };
      const job = _job(a, b, spec, out);
      if (job.cLen === 0) return out;
      _writeParams(memory.buffer, pp, job, spec, at);
      gemm(pp, 0, units(pp), wp);
      return out;
    },
    dispose() {
      if (disposed) return;
      disposed = true;
      heap.free(raw);
    },
  };
}
