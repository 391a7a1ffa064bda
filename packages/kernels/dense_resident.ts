/**
 * Resident dense rows: a reference set that lives in the dense kernel module's WebAssembly memory
 * (shared with the Workers when `threads > 1`), appended to in place (capacity grows by doubling)
 * and searched by the top-k kernel without a per-call copy of the references. The engine under
 * the `wasm` and `wasm-simd` vector index of `@likeness/backend`.
 *
 * Memory: `[heap base | capacity × dim float32 rows | per-call query, mask, lists, scratch]`. The
 * resident rows sit first, so growing them only moves the per-call area. Calls must not overlap
 * (the index serialises them).
 *
 * @module
 */
import { checkOneOf, checkPositiveInt, ShapeError, ValueError } from "@likeness/core";
import type { BackendInfo, Metric } from "@likeness/kernels/types";
import { wasmBytes as scalarBytes } from "./generated/dense_scalar.generated.ts";
import { wasmBytes as simdBytes } from "./generated/dense_simd.generated.ts";
import { wasmBytes as relaxedBytes } from "./generated/dense_relaxed.generated.ts";
import { wasmBytes as scalarMtBytes } from "./generated/dense_scalar_mt.generated.ts";
import { wasmBytes as simdMtBytes } from "./generated/dense_simd_mt.generated.ts";
import { wasmBytes as relaxedMtBytes } from "./generated/dense_relaxed_mt.generated.ts";
import { KernelModule } from "./wasm_module.ts";
import { layoutScratch } from "./_scratch.ts";
import { hasRelaxedSimd, hasWasmSimd, hasWasmThreads } from "./probe.ts";
import { OP_TOPK, OP_TOPK_BLOCKS, OP_TOPK_SPLIT, runSlice, sliceRows, topkArgs, workerSource } from "./_dense_job.ts";
import { DensePool, KernelThreads, MAX_RESTARTS } from "./_dense_pool.ts";
import type { DenseVariant } from "./dense.ts";
import { DENSE_METRICS } from "./reference/mod.ts";
import { checkThreads } from "./threads.ts";

/** Options for {@link createResidentDense}. */
export interface ResidentDenseOptions {
  /** Row dimension (positive integer). */
  dim: number;
  /** Build: `relaxed`, `simd` or `scalar` (default: the best the runtime supports). */
  variant?: DenseVariant;
  /** Threads (default 1); more start `threads - 1` Workers over a shared memory. */
  threads?: number;
  /** Initial capacity in rows (default 1024). */
  capacity?: number;
  /** Searches with fewer multiply-adds than this stay on the calling thread (default 262,144). */
  minParallelWork?: number;
  /**
   * How threads share a streaming-mode search: `blocks` (default), reference blocks taken from a
   * shared counter; `fixed`, the earlier fixed split by query rows (or, for fewer than 4 × threads
   * queries, by reference rows). Kept for benchmarks that compare the two; results are the same.
   */
  split?: "blocks" | "fixed";
}

/** Result of {@link ResidentDense.topk}: positions and keys, `rows × k`, best first. */
export interface ResidentTopK {
  /** Row positions (-1 where fewer than k rows were eligible). */
  positions: Int32Array;
  /** Metric values (NaN where the position is -1). */
  values: Float32Array;
}

/** Options for {@link ResidentDense.topk}. */
export interface ResidentTopKOptions {
  /** Metric (`cosine` is not accepted: store unit rows and search with `dot`). */
  metric: Exclude<Metric, "cosine">;
  /** Neighbours per query (1 ≤ k ≤ rows). */
  k: number;
  /** Search rows [0, rows) of the resident set. */
  rows: number;
  /** One byte per row (non-zero = eligible), or null for every row. */
  eligible?: Uint8Array | null;
  /** Scale each query row to unit norm first (zero rows stay zero). */
  normalizeQuery?: boolean;
  /**
   * One row position per query row that this query never retrieves (-1: none), e.g. its own row
   * when the queries are the resident rows. Skipped inside the kernel: no wider search, no pass.
   */
  exclude?: Int32Array | null;
}

/** Resident rows in a dense kernel module. */
export interface ResidentDense {
  /** What runs (name, build, threads). */
  readonly info: BackendInfo;
  /** The build. */
  readonly variant: DenseVariant;
  /** Row dimension. */
  readonly dim: number;
  /** Rows that fit before the next growth. */
  readonly capacity: number;
  /** Bytes of WebAssembly memory in use (resident rows plus the last call's area). */
  readonly memoryBytes: number;
  /**
   * Make room for `rows` rows (capacity doubles until it fits; rows already written stay).
   *
   * @throws {ShapeError} TOO_LARGE when the memory cannot hold them
   */
  reserve(rows: number): void;
  /** A view of the resident rows (`capacity × dim`); take a new one after `reserve`. */
  rows(): Float32Array;
  /** Scale rows [from, to) to unit norm in place (the kernel's `normalize`). */
  normalizeRows(from: number, to: number): void;
  /** Exact top-k of `query` (`queryRows × dim`) against resident rows [0, rows). */
  topk(query: Float32Array, queryRows: number, options: ResidentTopKOptions): Promise<ResidentTopK>;
  /** Stop the Workers; later calls throw. */
  dispose(): void;
  /** Test-only: make kernel Worker `tid` die (see {@link INJECT_WORKER_FAULT}). */
  [INJECT_WORKER_FAULT](how: WorkerFault, tid: number): void;
}

/**
 * Worker restarts a resident engine (dense rows or quant codes) makes after its Workers fail;
 * after that many it stays on the calling thread and says so in `info.detail`.
 */
export const MAX_WORKER_RESTARTS: number = MAX_RESTARTS;

/**
 * How {@link INJECT_WORKER_FAULT} makes a Worker die: `throw`, an uncaught error at its next job
 * (the pool sees its `error` event); `exit`, it closes itself at its next job without any event
 * (the pool sees only that it stopped answering); `terminate`, terminated now.
 */
export type WorkerFault = "throw" | "exit" | "terminate";

/**
 * Test-only fault injection, under a symbol so that it stays out of the public surface:
 * `engine[INJECT_WORKER_FAULT](how, tid)` makes kernel Worker `tid` (1 ≤ tid < threads) of a
 * resident engine (or of the index that holds it) really die, to test what a dead Worker does:
 * the call it breaks fails with `WORKER_FAILED` and the Workers are restarted.
 *
 * @throws RangeError when the engine has no Worker `tid` running
 */
export const INJECT_WORKER_FAULT: unique symbol = Symbol.for("likeness.injectWorkerFault") as never;

const BYTES: Record<DenseVariant, [() => Uint8Array, () => Uint8Array]> = {
  scalar: [scalarBytes, scalarMtBytes],
  simd: [simdBytes, simdMtBytes],
  relaxed: [relaxedBytes, relaxedMtBytes],
};
const SHARED_MAX_PAGES = 16384;
/** Largest size of the per-thread lists of the blocked split (beyond it: the split by query rows). */
const BLOCKED_LIST_BYTES = 64 * 2 ** 20;
/** Multiply-adds of one unit of the blocked split (about 50 µs): fewer units, fewer counter round trips. */
const BLOCK_UNIT_WORK = 2 ** 20;

const PARALLEL_MIN_WORK = 1 << 18;
type Fn = (...args: number[]) => number;

/**
 * Reference rows per unit of the blocked split: whole blocks of `rb` rows, about
 * BLOCK_UNIT_WORK multiply-adds each, but at least 4 units per thread where the rows allow.
 */
function blockUnit(Q: number, R: number, D: number, rb: number, threads: number): number {
  const blocks = Math.ceil(R / rb);
  const byWork = Math.ceil(BLOCK_UNIT_WORK / Math.max(1, Q * rb * D));
  return rb * Math.max(1, Math.min(byWork, Math.floor(blocks / (4 * threads))));
}

/**
 * Start a resident dense engine (module instantiated, Workers started).
 *
 * @param options dim, variant, threads, capacity
 * @returns the engine
 * @throws {ValueError} UNSUPPORTED when the runtime lacks the variant; INVALID_ARGUMENT for bad options
 * @example
 * ```ts
 * import { createResidentDense } from "@likeness/kernels";
 * import assert from "node:assert/strict";
 * const e = await createResidentDense({ dim: 2, variant: "scalar" });
 * e.reserve(2);
 * e.rows().set([1, 0, 0, 1]);
 * const r = await e.topk(new Float32Array([0.9, 0.1]), 1, { metric: "dot", k: 1, rows: 2 });
 * assert.deepEqual(r.positions, new Int32Array([0]));
 * assert.deepEqual(r.values, new Float32Array([0.9])); // the dot product with row 0
 * e.dispose();
 * ```
 */
export async function createResidentDense(options: ResidentDenseOptions): Promise<ResidentDense> {
  const dim = checkPositiveInt(options.dim, "dim");
  const variant = options.variant === undefined
    ? (hasRelaxedSimd() ? "relaxed" : hasWasmSimd() ? "simd" : "scalar")
    : checkOneOf(options.variant, ["scalar", "simd", "relaxed"] as const, "variant");
  if (variant !== "scalar" && !hasWasmSimd()) {
    throw new ValueError("UNSUPPORTED", `WebAssembly SIMD is not available in this runtime; use variant "scalar"`);
  }
  if (variant === "relaxed" && !hasRelaxedSimd()) {
    throw new ValueError("UNSUPPORTED", `WebAssembly relaxed SIMD is not available; use variant "simd"`);
  }
  const requested = checkThreads(options.threads ?? 1, "resident dense kernels");
  const capacity = checkPositiveInt(options.capacity ?? 1024, "capacity");
  const split = checkOneOf(options.split ?? "blocks", ["blocks", "fixed"] as const, "split");
  const info: BackendInfo = {
    name: variant === "scalar" ? "wasm" : "wasm-simd",
    detail: "",
    threads: 1,
    relaxed: variant === "relaxed",
  };
  const describe = (why = "") => {
    info.detail = `${variant} build, ${info.threads} thread${info.threads === 1 ? "" : "s"}, resident rows${
      why ? ` (${why})` : ""
    }`;
  };
  const [single, multi] = BYTES[variant];
  let module: KernelModule | undefined;
  let pool: KernelThreads | null = null;
  let why = requested > 1 && !hasWasmThreads() ? "Worker or SharedArrayBuffer unavailable" : "";
  if (requested > 1 && hasWasmThreads()) {
    try {
      const memory = new WebAssembly.Memory({ initial: 1, maximum: SHARED_MAX_PAGES, shared: true });
      module = await KernelModule.create(multi(), memory);
      const started = await DensePool.start(multi(), memory, requested);
      pool = new KernelThreads(started, multi(), memory, workerSource(), (threads, why) => {
        info.threads = threads;
        describe(why);
      });
      info.threads = requested;
    } catch (cause) {
      module = undefined;
      why = `threads unavailable: ${(cause as Error).message}`;
    }
  }
  module ??= await KernelModule.create(single(), new WebAssembly.Memory({ initial: 1 }));
  describe(why);
  return new Resident(
    module,
    pool,
    variant,
    dim,
    capacity,
    info,
    options.minParallelWork ?? PARALLEL_MIN_WORK,
    split === "blocks",
  );
}

class Resident implements ResidentDense {
  readonly info: BackendInfo;
  readonly variant: DenseVariant;
  readonly dim: number;
  #capacity: number;
  #module: KernelModule;
  #pool: KernelThreads | null;
  #shared: boolean;
  #minWork: number;
  #blocks: boolean;
  #disposed = false;
  #used = 0;

  constructor(
    module: KernelModule,
    pool: KernelThreads | null,
    variant: DenseVariant,
    dim: number,
    capacity: number,
    info: BackendInfo,
    minWork: number,
    blocks: boolean,
  ) {
    this.#blocks = blocks;
    this.#module = module;
    this.#pool = pool;
    this.#shared = pool !== null;
    this.variant = variant;
    this.dim = dim;
    this.info = info;
    this.#minWork = minWork;
    this.#capacity = 0;
    this.#grow(capacity);
  }

  get capacity(): number {
    return this.#capacity;
  }

  get memoryBytes(): number {
    return Math.max(this.#used, this.#residentEnd());
  }

  #limit(): number {
    return this.#shared ? SHARED_MAX_PAGES * 65536 : 2 ** 32 - 65536;
  }

  #residentEnd(cap = this.#capacity): number {
    return ((this.#module.heapBase + cap * this.dim * 4) + 15) & ~15;
  }

  #live(): void {
    if (this.#disposed) throw new ValueError("INVALID_ARGUMENT", "This index was disposed; create or load a new one");
  }

  #grow(cap: number): void {
    const end = this.#residentEnd(cap);
    if (end > this.#limit()) {
      throw new ShapeError(
        `Cannot hold ${cap} rows of dimension ${this.dim}: that needs ${Math.ceil(end / 2 ** 20)} MiB of WebAssembly ` +
          `memory but at most ${Math.floor(this.#limit() / 2 ** 20)} MiB can be used`,
        "TOO_LARGE",
      );
    }
    try {
      this.#module.ensure(end);
    } catch (cause) {
      throw new ShapeError(`Cannot grow WebAssembly memory to ${Math.ceil(end / 2 ** 20)} MiB`, "TOO_LARGE", {
        cause,
      });
    }
    this.#capacity = cap;
  }

  reserve(rows: number): void {
    this.#live();
    if (rows <= this.#capacity) return;
    let cap = Math.max(1, this.#capacity);
    while (cap < rows) cap *= 2;
    // Doubling past the memory limit: fall back to exactly what is needed.
    if (this.#residentEnd(cap) > this.#limit()) cap = rows;
    this.#grow(cap);
  }

  rows(): Float32Array {
    this.#live();
    return new Float32Array(this.#module.memory.buffer, this.#module.heapBase, this.#capacity * this.dim);
  }

  normalizeRows(from: number, to: number): void {
    this.#live();
    if (to <= from) return;
    const at = this.#module.heapBase + from * this.dim * 4;
    this.#module.fn<Fn>("normalize")(at, to - from, this.dim, at);
  }

  async topk(query: Float32Array, queryRows: number, options: ResidentTopKOptions): Promise<ResidentTopK> {
    this.#live();
    const { k, rows: R } = options;
    const Q = queryRows, D = this.dim;
    const metricCode = DENSE_METRICS.indexOf(options.metric);
    if (metricCode < 0 || (options.metric as Metric) === "cosine") {
      throw new ValueError(
        "INVALID_ARGUMENT",
        `Resident top-k takes dot, l2, sqeuclidean or l1 (got ${options.metric})`,
      );
    }
    const m = this.#module;
    const rb = m.fn<Fn>("blockRows")(D);
    const stride = 2 * rb * 4 + ((m.fn<Fn>("workBytes")(D) + 15) & ~15) + m.fn<Fn>("topkWorkBytes")();
    const threads0 = this.#pool;
    if (threads0) await threads0.ready();
    this.#live();
    const pool = threads0?.pool ?? null;
    const work = Q * R * D;
    const threads = pool ? pool.threads : 1;
    const parallel = pool !== null && work >= this.#minWork;
    // Streaming mode (k a small share of the rows): reference blocks from a shared counter, so a
    // thread that is slower or starts later takes fewer and none waits for the other (lists for
    // every query row per thread, merged here). Full-row mode: a fixed split, by queries or
    // (fewer than 4 × threads queries) by reference rows.
    const blocked = parallel && this.#blocks && m.fn<Fn>("fullRowGroup")(R, k) === 0 &&
      threads * Q * (2 * k + 1) * 8 <= BLOCKED_LIST_BYTES;
    const split = parallel && !blocked && Q < 4 * threads;
    const lists = blocked || split ? threads : 1;
    const elig = options.eligible ?? null;
    const excl = options.exclude ?? null;
    // Top-k buffers: 2k + 1 slots per query row (the kernel's threshold buffer), one set per list.
    const st = 2 * k + 1;
    const sizes = [
      Q * D * 4,
      elig ? R : 0,
      lists * Q * st * 4,
      lists * Q * st * 4,
      threads * stride,
      excl ? Q * 4 : 0,
    ];
    const { offs, end: at } = layoutScratch(this.#residentEnd(), sizes, this.#limit(), (n) => m.ensure(n));
    this.#used = at;
    const [oq, oe, ov, oi, os, ox] = offs;
    const buf = m.memory.buffer;
    new Float32Array(buf, oq, Q * D).set(query.subarray(0, Q * D));
    if (elig) new Uint8Array(buf, oe, R).set(elig.subarray(0, R));
    if (excl) new Int32Array(buf, ox, Q).set(excl.subarray(0, Q));
    if (options.normalizeQuery) m.fn<Fn>("normalize")(oq, Q, D, oq);
    const largest = options.metric === "dot";
    const args = topkArgs({
      query: oq,
      reference: m.heapBase,
      refRows: R,
      dim: D,
      metric: metricCode,
      queryInv: 0,
      refInv: 0,
      eligible: elig ? oe : 0,
      k,
      largest,
      values: ov,
      indices: oi,
      rows: Q,
      scratch: os,
      blockRows: rb,
      exclude: excl ? ox : 0,
      outStride: Q * st * 4,
      unit: blocked ? blockUnit(Q, R, D, rb, threads) : 0,
    });
    const ex = m.instance.exports;
    if (parallel) {
      await threads0!.run(ex, blocked ? OP_TOPK_BLOCKS : split ? OP_TOPK_SPLIT : OP_TOPK, args, Q, stride);
      return this.#read(ov, oi, Q, k, largest, lists, blocked ? null : R);
    }
    runSlice(ex, OP_TOPK, args, 0, 1, Q, stride);
    return this.#read(ov, oi, Q, k, largest, 1, R);
  }

  /**
   * Read (and, for a reference split, merge) the lists into positions and values. `R`: the
   * rows of a fixed reference split (list t holds positions relative to its first row); null
   * when the lists hold absolute positions (the blocked split).
   */
  #read(
    ov: number,
    oi: number,
    Q: number,
    k: number,
    largest: boolean,
    lists: number,
    R: number | null,
  ): ResidentTopK {
    const buf = this.#module.memory.buffer;
    const st = 2 * k + 1;
    // The kernel leaves each row's result in its first k slots: positions and metric values
    // (-1 / NaN padding), best first.
    const vals = new Float32Array(buf, ov, lists * Q * st);
    const idx = new Int32Array(buf, oi, lists * Q * st);
    const positions = new Int32Array(Q * k);
    const values = new Float32Array(Q * k);
    if (lists === 1) {
      for (let i = 0; i < Q; i++) {
        positions.set(idx.subarray(i * st, i * st + k), i * k);
        values.set(vals.subarray(i * st, i * st + k), i * k);
      }
      return { positions, values };
    }
    // Merge per query: each list is best first with ties to the lower position; take the best
    // head by (value, position), so equal values go to the lower position as on one thread.
    // A fixed split's thread with no rows wrote no lists (the blocked split's threads all did).
    const starts: number[] = [];
    const active: number[] = [];
    for (let t = 0; t < lists; t++) {
      const [j0, j1] = R === null ? [0, 1] : sliceRows(t, lists, R);
      starts.push(j0);
      if (j0 < j1) active.push(t);
    }
    const ptr = new Int32Array(lists);
    for (let i = 0; i < Q; i++) {
      ptr.fill(0);
      for (let out = 0; out < k; out++) {
        let best = -1, bestVal = NaN, bestPos = -1;
        for (const t of active) {
          const p = ptr[t];
          if (p >= k) continue;
          const at = t * Q * st + i * st + p;
          if (idx[at] < 0) continue;
          const v = vals[at], pos = idx[at] + starts[t];
          if (best < 0 || (largest ? v > bestVal : v < bestVal) || (v === bestVal && pos < bestPos)) {
            best = t;
            bestVal = v;
            bestPos = pos;
          }
        }
        const o = i * k + out;
        if (best < 0) {
          positions[o] = -1;
          values[o] = NaN;
          continue;
        }
        ptr[best]++;
        positions[o] = bestPos;
        values[o] = bestVal;
      }
    }
    return { positions, values };
  }

  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    this.#pool?.close();
    this.#pool = null;
  }

  [INJECT_WORKER_FAULT](how: WorkerFault, tid: number): void {
    this.#live();
    if (!this.#pool) throw new RangeError("This engine runs no Workers");
    this.#pool.injectFault(how, tid);
  }
}
