/**
 * Dense kernels behind the `Backend` method signatures: pairwise distances and similarities,
 * row norms, normalisation and exact top-k, in WebAssembly (scalar, SIMD or relaxed SIMD),
 * optionally split across Workers over one shared memory.
 *
 * @module
 */
import { checkMatrix, checkOneOf, type Matrix, ShapeError, ValueError } from "@likeness/core";
import {
  type BackendInfo,
  largerIsCloser,
  type Metric,
  type Synchronous,
  type TopKOptions,
  type TopKResult,
} from "@likeness/kernels/types";
import { wasmBytes as scalarBytes } from "./generated/dense_scalar.generated.ts";
import { wasmBytes as simdBytes } from "./generated/dense_simd.generated.ts";
import { wasmBytes as relaxedBytes } from "./generated/dense_relaxed.generated.ts";
import { wasmBytes as scalarMtBytes } from "./generated/dense_scalar_mt.generated.ts";
import { wasmBytes as simdMtBytes } from "./generated/dense_simd_mt.generated.ts";
import { wasmBytes as relaxedMtBytes } from "./generated/dense_relaxed_mt.generated.ts";
import { KernelModule, type Region } from "./wasm_module.ts";
import { hasRelaxedSimd, hasWasmSimd, hasWasmThreads } from "./probe.ts";
import { OP_PAIRWISE, OP_TOPK, pairwiseArgs, runSlice, type ScanArgs, topkArgs } from "./_dense_job.ts";
import { DensePool, WorkerFailure } from "./_dense_pool.ts";
import { INJECT_WORKER_FAULT, type WorkerFault } from "./dense_resident.ts";
import { checkK, checkPair, DENSE_METRICS, eligibleMask } from "./reference/mod.ts";
import { checkThreads } from "./threads.ts";

/** Which build of the dense kernels to run. */
export type DenseVariant = "scalar" | "simd" | "relaxed";

/** Options for {@link createDenseKernels}. */
export interface DenseKernelsOptions {
  /**
   * `relaxed` (SIMD with fused multiply-add), `simd` or `scalar`. Default: the best the runtime
   * supports (`relaxed` when `hasRelaxedSimd()`, else `simd` when `hasWasmSimd()`, else `scalar`).
   */
  variant?: DenseVariant;
  /**
   * Threads for pairwise and top-k (default 1). More than 1 starts `threads - 1` Workers over a
   * shared memory; where Workers or SharedArrayBuffer are missing, or a Worker fails to start, it
   * runs on 1 thread and `info.detail` says why.
   */
  threads?: number;
  /**
   * Calls with fewer multiply-adds (Q·R·D) than this, or fewer than 3 query rows, stay on the
   * calling thread (default 262,144; 0 splits every call, as the parity tests do).
   */
  minParallelWork?: number;
}

/** Dense kernels with the `Backend` method signatures. */
export interface DenseKernels {
  /** What runs: backend name (`wasm-simd` or `wasm`), variant, threads. */
  readonly info: BackendInfo;
  /** The build in use. */
  readonly variant: DenseVariant;
  /** Q×R matrix of `metric(query_i, reference_j)` (see the `Backend` conventions). */
  pairwise(query: Matrix, reference: Matrix, metric: Metric): Promise<Matrix>;
  /** L2 norm of each row. */
  norms(m: Matrix): Promise<Float32Array>;
  /** Rows scaled to unit L2 norm (zero rows stay zero). */
  normalize(m: Matrix): Promise<Matrix>;
  /** Exact top-k per query, streamed over references in blocks (memory O(Q·k + block)). */
  topk(query: Matrix, reference: Matrix, options: TopKOptions): Promise<TopKResult>;
  /**
   * `pairwise`, `norms` and `normalize` as plain calls on the calling thread, once the module is
   * started: the same results and errors, returned or thrown (for callers that cannot await, such
   * as a loss inside tfjs's gradient tape). A call made while an async call of these kernels is in
   * flight throws `ValueError` UNAVAILABLE: they share one memory.
   */
  synchronous(): Promise<SyncDenseKernels>;
  /** Stop the Workers and release memory; later calls throw. */
  dispose(): void;
  /**
   * Test-only: make kernel Worker `tid` die (see `INJECT_WORKER_FAULT`). These kernels then
   * redo the call it broke on the calling thread and stay there (`info.detail` says why).
   */
  [INJECT_WORKER_FAULT](how: WorkerFault, tid: number): void;
}

/** The synchronous form of {@link DenseKernels} (from `synchronous()`). */
export type SyncDenseKernels = Synchronous<Pick<DenseKernels, "pairwise" | "norms" | "normalize">>;

const VARIANTS: readonly DenseVariant[] = ["scalar", "simd", "relaxed"];
const BYTES: Record<DenseVariant, [() => Uint8Array, () => Uint8Array]> = {
  scalar: [scalarBytes, scalarMtBytes],
  simd: [simdBytes, simdMtBytes],
  relaxed: [relaxedBytes, relaxedMtBytes],
};
/** Pages of the shared memory's maximum (1 GiB); must not exceed the modules' declared maximum. */
const SHARED_MAX_PAGES = 16384;
/** Default: below this many multiply-adds a job runs on the calling thread only. */
const PARALLEL_MIN_WORK = 1 << 18;

type Fn = (...args: number[]) => number;

function defaultVariant(): DenseVariant {
  if (hasRelaxedSimd()) return "relaxed";
  return hasWasmSimd() ? "simd" : "scalar";
}

/** Reference rows per block for dimension d (the module's own rule). */
function blockRows(m: KernelModule, d: number): number {
  return m.fn<Fn>("blockRows")(d);
}

/** Bytes of per-thread work memory the module's pairwise needs for dimension d (16-byte multiple). */
function workBytes(m: KernelModule, d: number): number {
  return (m.fn<Fn>("workBytes")(d) + 15) & ~15;
}

function disposedError(): ValueError {
  return new ValueError("INVALID_ARGUMENT", "These dense kernels were disposed; create new ones");
}

/** The started module and, with threads, the Worker pool over its shared memory. */
interface State {
  module: KernelModule;
  pool: DensePool | null;
}

/** Check the requested variant (or pick the best one) and that the runtime can run it. */
function checkVariant(requested: DenseVariant | undefined): DenseVariant {
  const variant = requested === undefined ? defaultVariant() : checkOneOf(requested, VARIANTS, "variant");
  if (variant !== "scalar" && !hasWasmSimd()) {
    throw new ValueError("UNSUPPORTED", `WebAssembly SIMD is not available in this runtime; use variant "scalar"`);
  }
  if (variant === "relaxed" && !hasRelaxedSimd()) {
    throw new ValueError(
      "UNSUPPORTED",
      `WebAssembly relaxed SIMD is not available in this runtime; use variant "simd"`,
    );
  }
  return variant;
}

/** Check `minParallelWork` (a number >= 0; default PARALLEL_MIN_WORK). */
function checkMinWork(minWork: number | undefined): number {
  const value = minWork ?? PARALLEL_MIN_WORK;
  if (!(value >= 0)) {
    throw new ValueError("INVALID_ARGUMENT", `Invalid minParallelWork: expected a number >= 0, got ${value}`);
  }
  return value;
}

/**
 * Lay out regions of `sizes` bytes in the module's memory, turning a call too large for it, or a
 * failed memory growth, into a typed error.
 */
function layoutRegions(s: State, op: string, sizes: number[]) {
  const total = sizes.reduce((a, b) => a + b + 16, s.module.heapBase);
  const limit = s.pool ? SHARED_MAX_PAGES * 65536 : 2 ** 32 - 65536;
  if (total > limit) {
    throw new ShapeError(
      `Cannot compute ${op}: it needs ${Math.ceil(total / 2 ** 20)} MiB of WebAssembly memory but at most ${
        Math.floor(limit / 2 ** 20)
      } MiB can be used; split the query into smaller batches`,
      "TOO_LARGE",
    );
  }
  try {
    return s.module.layout(...sizes);
  } catch (cause) {
    throw new ShapeError(
      `Cannot compute ${op}: could not grow WebAssembly memory to ${
        Math.ceil(total / 2 ** 20)
      } MiB; split the query into smaller batches`,
      "TOO_LARGE",
      { cause },
    );
  }
}

/** Bytes of the inputs both pairwise and top-k lay out first: query rows, reference rows and their inverse norms. */
function inputSizes(query: Matrix, reference: Matrix): number[] {
  const D = query.cols;
  return [query.rows * D * 4, reference.rows * D * 4, query.rows * 4, reference.rows * 4];
}

/**
 * Copy query and reference rows into their regions (the first four of `regions`, as
 * {@link inputSizes} sized them) and, for cosine, write their inverse norms into theirs.
 *
 * @returns the arguments the kernel exports begin with
 */
function copyInputs(
  m: KernelModule,
  regions: readonly Region[],
  query: Matrix,
  reference: Matrix,
  metric: Metric,
): ScanArgs {
  const [rq, rr, rqi, rri] = regions;
  m.f32(rq).set(query.data);
  m.f32(rr).set(reference.data);
  if (metric === "cosine") {
    m.fn<Fn>("norms")(rq.offset, query.rows, query.cols, rqi.offset, 1);
    m.fn<Fn>("norms")(rr.offset, reference.rows, query.cols, rri.offset, 1);
  }
  return {
    query: rq.offset,
    reference: rr.offset,
    refRows: reference.rows,
    dim: query.cols,
    metric: DENSE_METRICS.indexOf(metric),
    queryInv: rqi.offset,
    refInv: rri.offset,
  };
}

/**
 * The first k of each row's 2k + 1 slots, where the kernel leaves the sorted result (indices
 * and metric values, -1 / NaN padding).
 */
function readTopK(vals: Float32Array, slots: Int32Array, Q: number, k: number): TopKResult {
  const st = 2 * k + 1;
  const indices = new Int32Array(Q * k);
  const values = new Float32Array(Q * k);
  for (let i = 0; i < Q; i++) {
    indices.set(slots.subarray(i * st, i * st + k), i * k);
    values.set(vals.subarray(i * st, i * st + k), i * k);
  }
  return { indices, values, rows: Q, k };
}

/**
 * One instance's runtime: starts the module (and Workers) on first use, runs calls one at a time
 * in order, splits row jobs over the pool and falls back to the calling thread when a Worker fails.
 */
class DenseRuntime {
  readonly info: BackendInfo;
  #state: Promise<State> | null = null;
  /** The started state, once `#state` resolved. */
  #started: State | null = null;
  #pool: DensePool | null = null;
  #disposed = false;
  #queue: Promise<unknown> = Promise.resolve();
  /** Async calls queued or running. */
  #inFlight = 0;

  constructor(readonly variant: DenseVariant, requested: number, readonly minWork: number) {
    const canThread = hasWasmThreads();
    this.info = {
      name: variant === "scalar" ? "wasm" : "wasm-simd",
      detail: "",
      threads: requested > 1 && canThread ? requested : 1,
      relaxed: variant === "relaxed",
    };
    this.#describe(requested > 1 && !canThread ? "Worker or SharedArrayBuffer unavailable" : "");
  }

  #describe(why = ""): void {
    const { info } = this;
    info.detail = `${this.variant} build, ${info.threads} thread${info.threads === 1 ? "" : "s"}${
      why ? ` (${why})` : ""
    }`;
  }

  /** Instantiate the shared-memory build and its Workers, or (1 thread, or that failed) the single build. */
  async #start(): Promise<State> {
    const [single, multi] = BYTES[this.variant];
    if (this.info.threads > 1) {
      try {
        const memory = new WebAssembly.Memory({ initial: 1, maximum: SHARED_MAX_PAGES, shared: true });
        const module = await KernelModule.create(multi(), memory);
        const pool = await DensePool.start(multi(), memory, this.info.threads);
        this.#pool = pool;
        if (this.#disposed) pool.close();
        return { module, pool };
      } catch (cause) {
        this.info.threads = 1;
        this.#describe(`threads unavailable: ${(cause as Error).message}`);
      }
    }
    const module = await KernelModule.create(single(), new WebAssembly.Memory({ initial: 1 }));
    return { module, pool: null };
  }

  /** Run `f` after every earlier call, with the started module. */
  serial<T>(f: (s: State) => Promise<T> | T): Promise<T> {
    if (this.#disposed) return Promise.reject(disposedError());
    this.#state ??= this.#start().then((s) => (this.#started = s));
    const state = this.#state;
    this.#inFlight++;
    const run = this.#queue.then(async () => f(await state)).finally(() => this.#inFlight--);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  /** Run `f` now on the calling thread (the module started, no async call in flight). */
  now<T>(f: (s: State) => T): T {
    if (this.#disposed) throw disposedError();
    if (this.#inFlight > 0 || !this.#started) {
      throw new ValueError(
        "UNAVAILABLE",
        "These dense kernels are busy with an async call (they share one memory): await it before a synchronous call",
      );
    }
    return f(this.#started);
  }

  /** Run a row job (`args` as `runSlice` takes them) over the pool when it is worth it, else here. */
  async runRows(s: State, op: number, args: number[], rows: number, work: number, stride: number): Promise<void> {
    const ex = s.module.instance.exports;
    if (s.pool && rows > 2 && work >= this.minWork) {
      try {
        await s.pool.run(ex, op, args, rows, stride);
        return;
      } catch (e) {
        if (!(e instanceof WorkerFailure)) throw e;
        // A worker failed: stop the pool and redo the whole job on this thread.
        s.pool.close();
        s.pool = null;
        this.#pool = null;
        this.info.threads = 1;
        this.#describe(`threads stopped: ${e.message}`);
      }
    }
    runSlice(ex, op, args, 0, 1, rows, stride);
  }

  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    this.#pool?.close();
    this.#pool = null;
  }

  injectFault(how: WorkerFault, tid: number): void {
    if (!this.#pool) throw new RangeError("These dense kernels run no Workers (yet)");
    this.#pool.injectFault(how, tid);
  }
}

/** Lay out and copy in a pairwise job; `finish` reads the result once its rows have run. */
function pairwiseJob(s: State, query: Matrix, reference: Matrix, metric: Metric) {
  const Q = query.rows, R = reference.rows, D = query.cols;
  const m = s.module;
  const threads = s.pool ? s.pool.threads : 1;
  const stride = workBytes(m, D);
  const regions = layoutRegions(s, "pairwise distance", [...inputSizes(query, reference), Q * R * 4, threads * stride]);
  const [ro, rw] = regions.slice(4);
  const args = pairwiseArgs({
    ...copyInputs(m, regions, query, reference, metric),
    out: ro.offset,
    rows: Q,
    work: rw.offset,
  });
  return {
    args,
    rows: Q,
    work: Q * R * D,
    stride,
    finish: (): Matrix => ({ data: m.f32(ro).slice(), rows: Q, cols: R }),
  };
}

/** Pairwise metric matrix on the started module. */
async function runPairwise(
  rt: DenseRuntime,
  s: State,
  query: Matrix,
  reference: Matrix,
  metric: Metric,
): Promise<Matrix> {
  const j = pairwiseJob(s, query, reference, metric);
  await rt.runRows(s, OP_PAIRWISE, j.args, j.rows, j.work, j.stride);
  return j.finish();
}

/** {@link runPairwise} on the calling thread only. */
function runPairwiseHere(s: State, query: Matrix, reference: Matrix, metric: Metric): Matrix {
  const j = pairwiseJob(s, query, reference, metric);
  runSlice(s.module.instance.exports, OP_PAIRWISE, j.args, 0, 1, j.rows, j.stride);
  return j.finish();
}

/** Checked top-k inputs. */
interface TopKPlan {
  metric: Metric;
  k: number;
  mask: Uint8Array | null;
  largest: boolean;
}

/** Check top-k's inputs (the same rules as the reference) and resolve its options. */
function planTopK(query: Matrix, reference: Matrix, options: TopKOptions): TopKPlan {
  if (!options || typeof options !== "object") {
    throw new ValueError("INVALID_ARGUMENT", "Cannot take top-k: pass options { k, metric? }");
  }
  const metric = checkOneOf(options.metric ?? "cosine", DENSE_METRICS, "metric");
  checkPair(query, reference, "top-k");
  const k = options.k;
  checkK(k, reference.rows);
  const mask = eligibleMask(reference, options);
  return { metric, k, mask, largest: options.largest ?? largerIsCloser(metric) };
}

/** Exact top-k on the started module, streamed over reference blocks. */
async function runTopK(rt: DenseRuntime, s: State, query: Matrix, reference: Matrix, plan: TopKPlan) {
  const { metric, k, mask } = plan;
  const Q = query.rows, R = reference.rows, D = query.cols;
  const m = s.module;
  const rb = blockRows(m, D);
  const threads = s.pool ? s.pool.threads : 1;
  const stride = 2 * rb * 4 + workBytes(m, D) + m.fn<() => number>("topkWorkBytes")();
  const lists = Q * (2 * k + 1) * 4;
  const regions = layoutRegions(s, "top-k", [
    ...inputSizes(query, reference),
    mask ? R : 0,
    lists,
    lists,
    threads * stride,
  ]);
  const [re, rv, ri, rs] = regions.slice(4);
  const scan = copyInputs(m, regions, query, reference, metric);
  if (mask) m.u8(re).set(mask);
  const args = topkArgs({
    ...scan,
    eligible: mask ? re.offset : 0,
    k,
    largest: plan.largest,
    values: rv.offset,
    indices: ri.offset,
    rows: Q,
    scratch: rs.offset,
    blockRows: rb,
  });
  await rt.runRows(s, OP_TOPK, args, Q, Q * R * D, stride);
  return readTopK(m.f32(rv), m.i32(ri), Q, k);
}

/**
 * Create dense kernels. The module (and the Workers, when `threads > 1`) start on the first
 * call; every call copies its inputs into the module's memory, runs and copies the result out.
 * Calls on one instance run one at a time, in order.
 *
 * Memory: one linear memory per instance, grown to the largest call (inputs + output; top-k needs
 * Q·k results and 2 × block floats of scratch per thread, never Q×R). With threads the memory is
 * shared and capped at 1 GiB.
 *
 * @param options variant and threads
 * @returns the kernels
 * @throws {ValueError} UNKNOWN_NAME for an unknown variant; UNSUPPORTED when the runtime lacks
 *   the variant's WebAssembly features; INVALID_ARGUMENT for a bad thread count
 * @example
 * ```ts
 * import { createDenseKernels } from "@likeness/kernels";
 * import assert from "node:assert/strict";
 * const k = createDenseKernels({ variant: "simd" });
 * const q = { data: new Float32Array([1, 0]), rows: 1, cols: 2 };
 * const r = { data: new Float32Array([1, 0, 0, 1]), rows: 2, cols: 2 };
 * assert.deepEqual((await k.pairwise(q, r, "cosine")).data, new Float32Array([1, 0]));
 * const top = await k.topk(q, r, { k: 1, metric: "l2" });
 * assert.deepEqual([...top.indices, ...top.values], [0, 0]); // row 0, at l2 distance 0
 * k.dispose();
 * ```
 */
export function createDenseKernels(options: DenseKernelsOptions = {}): DenseKernels {
  const variant = checkVariant(options.variant);
  const rt = new DenseRuntime(
    variant,
    checkThreads(options.threads ?? 1, "dense kernels"),
    checkMinWork(options.minParallelWork),
  );
  const checkPairwise = (query: Matrix, reference: Matrix, metric: Metric) => {
    checkOneOf(metric, DENSE_METRICS, "metric");
    checkPair(query, reference, "pairwise distance");
  };
  const norms = (s: State, x: Matrix): Float32Array => {
    const m = s.module;
    const [rx, ro] = layoutRegions(s, "norms", [x.rows * x.cols * 4, x.rows * 4]);
    m.f32(rx).set(x.data);
    m.fn<Fn>("norms")(rx.offset, x.rows, x.cols, ro.offset, 0);
    return m.f32(ro).slice();
  };
  const normalize = (s: State, x: Matrix): Matrix => {
    const m = s.module;
    const [rx] = layoutRegions(s, "normalize", [x.rows * x.cols * 4]);
    m.f32(rx).set(x.data);
    m.fn<Fn>("normalize")(rx.offset, x.rows, x.cols, rx.offset);
    return { data: m.f32(rx).slice(), rows: x.rows, cols: x.cols };
  };
  const sync: SyncDenseKernels = {
    pairwise(query, reference, metric) {
      checkPairwise(query, reference, metric);
      return rt.now((s) => runPairwiseHere(s, query, reference, metric));
    },
    norms(x) {
      checkMatrix(x, "input");
      return rt.now((s) => norms(s, x));
    },
    normalize(x) {
      checkMatrix(x, "input");
      return rt.now((s) => normalize(s, x));
    },
  };
  /** `f` after `check`, on the queue; a failed check rejects before anything is queued. */
  const queued = <T>(check: () => void, f: (s: State) => T | Promise<T>): Promise<T> => {
    try {
      check();
    } catch (e) {
      return Promise.reject(e);
    }
    return rt.serial(f);
  };
  return {
    info: rt.info,
    variant,

    pairwise(query: Matrix, reference: Matrix, metric: Metric): Promise<Matrix> {
      return queued(() => checkPairwise(query, reference, metric), (s) => runPairwise(rt, s, query, reference, metric));
    },

    norms(x: Matrix): Promise<Float32Array> {
      return queued(() => checkMatrix(x, "input"), (s) => norms(s, x));
    },

    normalize(x: Matrix): Promise<Matrix> {
      return queued(() => checkMatrix(x, "input"), (s) => normalize(s, x));
    },

    synchronous(): Promise<SyncDenseKernels> {
      return rt.serial(() => sync);
    },

    topk(query: Matrix, reference: Matrix, options: TopKOptions): Promise<TopKResult> {
      let plan: TopKPlan;
      return queued(
        () => void (plan = planTopK(query, reference, options)),
        (s) => runTopK(rt, s, query, reference, plan),
      );
    },

    dispose(): void {
      rt.dispose();
    },

    [INJECT_WORKER_FAULT](how: WorkerFault, tid: number): void {
      rt.injectFault(how, tid);
    },
  };
}
