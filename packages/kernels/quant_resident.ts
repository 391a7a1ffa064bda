/**
 * Resident quantised codes: the int8 codes (with their squared norms) or the sign bits of a
 * vector index, held in the quant kernel module's WebAssembly memory (shared with its Workers
 * when `threads > 1`), appended to in place (capacity grows by doubling) and scanned by the
 * int8-dot or Hamming kernel, which keeps the `m` best code rows per query in a heap. The engine
 * under the `int8` and `binary` kinds of the `wasm` / `wasm-simd` vector index of
 * `@likeness/backend` (which reranks the candidates exactly in float32).
 *
 * Memory: `[heap base | capacity × stride code bytes | capacity float32 squared norms (int8) |
 * per-call query, scales, mask, heaps, scratch]`. Calls must not overlap (the index serialises
 * them).
 *
 * @module
 */
import { checkFiniteNumber, checkOneOf, checkPositiveInt, ShapeError, ValueError } from "@likeness/core";
import type { BackendInfo } from "@likeness/kernels/types";
import { wasmBytes as scalarBytes } from "./generated/quant_scalar.generated.ts";
import { wasmBytes as simdBytes } from "./generated/quant_simd.generated.ts";
import { wasmBytes as scalarMtBytes } from "./generated/quant_scalar_mt.generated.ts";
import { wasmBytes as simdMtBytes } from "./generated/quant_simd_mt.generated.ts";
import { KernelModule } from "./wasm_module.ts";
import { layoutScratch } from "./_scratch.ts";
import { hasWasmSimd, hasWasmThreads } from "./probe.ts";
import { sliceRows } from "./_dense_job.ts";
import {
  OP_HAMMING,
  OP_HAMMING_BLOCKS,
  OP_HAMMING_SPLIT,
  OP_INT8,
  OP_INT8_BLOCKS,
  OP_INT8_SPLIT,
  quantBlockedPhase,
  quantWorkerSource,
  runQuantSlice,
} from "./_quant_job.ts";
import { DensePool, KernelThreads, type SharePhase } from "./_dense_pool.ts";
import { INJECT_WORKER_FAULT, type WorkerFault } from "./dense_resident.ts";
import { checkThreads } from "./threads.ts";

/** What the codes are: int8 scalar-quantised rows or sign bits. */
export type CodeKind = "int8" | "binary";

/** Options for {@link createResidentCodes}. */
export interface ResidentCodesOptions {
  /** Vector dimension (1 to 65,536). */
  dim: number;
  /** `int8` or `binary`. */
  kind: CodeKind;
  /** Build: `simd` or `scalar` (default: `simd` where the runtime has WebAssembly SIMD). */
  variant?: "scalar" | "simd";
  /** Threads (default 1); more start `threads - 1` Workers over a shared memory. */
  threads?: number;
  /** Initial capacity in rows (default 1024). */
  capacity?: number;
  /** Scans with fewer code bytes × queries than this stay on the calling thread (default 262,144). */
  minParallelWork?: number;
}

/** Options for {@link ResidentCodes.scan}. */
export interface CodeScanOptions {
  /** Scan code rows [0, rows). */
  rows: number;
  /** Candidates kept per query (1 ≤ m ≤ eligible rows). */
  m: number;
  /** One byte per row (non-zero = eligible), or null for every row. */
  eligible?: Uint8Array | null;
  /** int8 only: rank by `sq - 2·dot·scale` (distances) instead of `-dot·scale` (dot, cosine). */
  distance?: boolean;
}

/** Resident codes in a quant kernel module. */
export interface ResidentCodes {
  /** What runs (name, build, threads). */
  readonly info: BackendInfo;
  /** `int8` or `binary`. */
  readonly kind: CodeKind;
  /** Vector dimension. */
  readonly dim: number;
  /** Bytes per code row: int8 `dim` rounded up to 16, binary `dim` bits rounded up to 64. */
  readonly stride: number;
  /** Rows that fit before the next growth. */
  readonly capacity: number;
  /** Bytes of WebAssembly memory in use (resident codes plus the last call's area). */
  readonly memoryBytes: number;
  /**
   * Make room for `rows` rows (capacity doubles; rows already written stay).
   *
   * @throws {ShapeError} TOO_LARGE when the memory cannot hold them
   */
  reserve(rows: number): void;
  /** int8 codes, `capacity × stride` (padding bytes stay 0); take a new view after `reserve`. */
  codes(): Int8Array;
  /** Sign bits as 32-bit words, `capacity × stride / 4` (bit d of a row in word d >> 5). */
  bits(): Uint32Array;
  /** int8: float32 squared norm per row (`capacity`); binary: empty. */
  norms(): Float32Array;
  /**
   * The `m` best code rows per query, best first (ties to the lower row, -1 padding).
   *
   * @param query int8: Int16Array of `rows × stride` query codes; binary: Uint32Array of `rows × stride / 4` words
   * @param scales int8: float64 scale per query row (the dot product is `Σ q·c × scale`); binary: null
   * @param queryRows query rows
   * @param options rows, m, eligible, distance
   * @returns positions, `queryRows × m`
   */
  scan(
    query: Int16Array | Uint32Array,
    scales: Float64Array | null,
    queryRows: number,
    options: CodeScanOptions,
  ): Promise<Int32Array>;
  /** Stop the Workers; later calls throw. */
  dispose(): void;
  /** Test-only: make kernel Worker `tid` die (see {@link INJECT_WORKER_FAULT}). */
  [INJECT_WORKER_FAULT](how: WorkerFault, tid: number): void;
}

const SHARED_MAX_PAGES = 16384;
const PARALLEL_MIN_WORK = 1 << 18;
/** Largest size of the per-thread heaps of the blocked split (beyond it: the split by query rows). */
const BLOCKED_LIST_BYTES = 64 * 2 ** 20;

/**
 * Code rows per unit of the blocked split: whole blocks of `rb` rows, about 2^20 multiply-adds
 * (int8) or bytes (Hamming) each, but at least 4 units per thread where the rows allow.
 */
function scanUnit(Q: number, R: number, S: number, rb: number, threads: number): number {
  const blocks = Math.ceil(R / rb);
  const byWork = Math.ceil(2 ** 20 / Math.max(1, Q * rb * S));
  return rb * Math.max(1, Math.min(byWork, Math.floor(blocks / (4 * threads))));
}
type Fn = (...args: number[]) => number;

/**
 * Start a resident code engine (module instantiated, Workers started).
 *
 * @param options dim, kind, variant, threads, capacity
 * @returns the engine
 * @throws {ValueError} UNSUPPORTED when the runtime lacks SIMD for `simd`; INVALID_ARGUMENT for bad options
 * @example
 * ```ts
 * import { createResidentCodes } from "@likeness/kernels";
 * import assert from "node:assert/strict";
 * const e = await createResidentCodes({ dim: 4, kind: "int8", variant: "scalar" });
 * e.reserve(2);
 * e.codes().set([1, 2, 3, 4], 0);
 * e.codes().set([-1, -2, -3, -4], e.stride);
 * const q = new Int16Array(e.stride);
 * q.set([1, 1, 1, 1]);
 * const best = await e.scan(q, new Float64Array([1]), 1, { rows: 2, m: 1 });
 * assert.deepEqual(best, new Int32Array([0]));
 * e.dispose();
 * ```
 */
export async function createResidentCodes(options: ResidentCodesOptions): Promise<ResidentCodes> {
  const dim = checkFiniteNumber(options.dim, "dim", "createResidentCodes", { min: 1, max: 65536, integer: true });
  const kind = checkOneOf(options.kind, ["int8", "binary"] as const, "code kind");
  const variant = options.variant === undefined
    ? (hasWasmSimd() ? "simd" : "scalar")
    : checkOneOf(options.variant, ["scalar", "simd"] as const, "variant");
  if (variant === "simd" && !hasWasmSimd()) {
    throw new ValueError("UNSUPPORTED", `WebAssembly SIMD is not available in this runtime; use variant "scalar"`);
  }
  const requested = checkThreads(options.threads ?? 1, "resident codes");
  const capacity = checkPositiveInt(options.capacity ?? 1024, "capacity");
  const info: BackendInfo = { name: variant === "scalar" ? "wasm" : "wasm-simd", detail: "", threads: 1 };
  const describe = (why = "") => {
    info.detail = `${kind} codes resident in WebAssembly, quant_${variant} build, ${info.threads} thread${
      info.threads === 1 ? "" : "s"
    }${why ? ` (${why})` : ""}`;
  };
  const [single, multi] = variant === "scalar" ? [scalarBytes, scalarMtBytes] : [simdBytes, simdMtBytes];
  let module: KernelModule | undefined;
  let pool: KernelThreads | null = null;
  let why = requested > 1 && !hasWasmThreads() ? "Worker or SharedArrayBuffer unavailable" : "";
  if (requested > 1 && hasWasmThreads()) {
    try {
      const memory = new WebAssembly.Memory({ initial: 1, maximum: SHARED_MAX_PAGES, shared: true });
      module = await KernelModule.create(multi(), memory);
      const source = quantWorkerSource();
      const started = await DensePool.start(multi(), memory, requested, source);
      pool = new KernelThreads(started, multi(), memory, source, (threads, why) => {
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
  return new Codes(module, pool, kind, dim, capacity, info, options.minParallelWork ?? PARALLEL_MIN_WORK);
}

class Codes implements ResidentCodes {
  readonly info: BackendInfo;
  readonly kind: CodeKind;
  readonly dim: number;
  readonly stride: number;
  #capacity = 0;
  #module: KernelModule;
  #pool: KernelThreads | null;
  #shared: boolean;
  #minWork: number;
  #disposed = false;
  #used = 0;

  constructor(
    module: KernelModule,
    pool: KernelThreads | null,
    kind: CodeKind,
    dim: number,
    capacity: number,
    info: BackendInfo,
    minWork: number,
  ) {
    this.#module = module;
    this.#pool = pool;
    this.#shared = pool !== null;
    this.kind = kind;
    this.dim = dim;
    this.stride = kind === "int8" ? (dim + 15) & ~15 : ((dim + 63) >>> 6) * 8;
    this.info = info;
    this.#minWork = minWork;
    this.#grow(capacity);
  }

  get capacity(): number {
    return this.#capacity;
  }

  get memoryBytes(): number {
    return Math.max(this.#used, this.#residentEnd()) - this.#module.heapBase;
  }

  #limit(): number {
    return this.#shared ? SHARED_MAX_PAGES * 65536 : 2 ** 32 - 65536;
  }

  /** Byte offset of the squared norms for a capacity. */
  #normsAt(cap = this.#capacity): number {
    return (this.#module.heapBase + cap * this.stride + 15) & ~15;
  }

  #residentEnd(cap = this.#capacity): number {
    return (this.#normsAt(cap) + (this.kind === "int8" ? cap * 4 : 0) + 15) & ~15;
  }

  #live(): void {
    if (this.#disposed) throw new ValueError("INVALID_ARGUMENT", "This index was disposed; create or load a new one");
  }

  #grow(cap: number): void {
    const end = this.#residentEnd(cap);
    if (end > this.#limit()) {
      throw new ShapeError(
        `Cannot hold ${cap} ${this.kind} code rows of dimension ${this.dim}: that needs ${
          Math.ceil(end / 2 ** 20)
        } MiB of WebAssembly memory but at most ${Math.floor(this.#limit() / 2 ** 20)} MiB can be used`,
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
    if (this.kind === "int8" && this.#capacity > 0) {
      // The norms follow the codes: move them up to their new place (memmove), zero the gap.
      const bytes = new Uint8Array(this.#module.memory.buffer);
      const from = this.#normsAt(), to = this.#normsAt(cap);
      bytes.copyWithin(to, from, from + this.#capacity * 4);
      bytes.fill(0, from, to);
    }
    this.#capacity = cap;
  }

  reserve(rows: number): void {
    this.#live();
    if (rows <= this.#capacity) return;
    let cap = Math.max(1, this.#capacity);
    while (cap < rows) cap *= 2;
    if (this.#residentEnd(cap) > this.#limit()) cap = rows;
    this.#grow(cap);
  }

  codes(): Int8Array {
    this.#live();
    return new Int8Array(this.#module.memory.buffer, this.#module.heapBase, this.#capacity * this.stride);
  }

  bits(): Uint32Array {
    this.#live();
    return new Uint32Array(this.#module.memory.buffer, this.#module.heapBase, (this.#capacity * this.stride) >>> 2);
  }

  norms(): Float32Array {
    this.#live();
    return new Float32Array(this.#module.memory.buffer, this.#normsAt(), this.kind === "int8" ? this.#capacity : 0);
  }

  async scan(
    query: Int16Array | Uint32Array,
    scales: Float64Array | null,
    queryRows: number,
    options: CodeScanOptions,
  ): Promise<Int32Array> {
    this.#live();
    const { rows: R, m } = options;
    const Q = queryRows, S = this.stride, int8 = this.kind === "int8";
    const m8 = this.#module;
    const rb = m8.fn<Fn>("scanBlockRows")(S);
    const stride = 4 * rb * 4 + 16;
    const threads0 = this.#pool;
    if (threads0) await threads0.ready();
    this.#live();
    const pool = threads0?.pool ?? null;
    const threads = pool ? pool.threads : 1;
    const parallel = pool !== null && Q * R * S >= this.#minWork;
    // Units of code rows from a shared counter (a slower thread takes fewer), heaps per thread
    // merged by (key, position); past BLOCKED_LIST_BYTES of heaps, the fixed split by query rows.
    const blocked = parallel && threads * Q * m * 12 <= BLOCKED_LIST_BYTES;
    const split = parallel && !blocked && Q < 4 * threads;
    const lists = blocked || split ? threads : 1;
    const elig = options.eligible ?? null;
    const qBytes = int8 ? Q * S * 2 : Q * S;
    const sizes = [qBytes, Q * 8, elig ? R : 0, lists * Q * m * 8, lists * Q * m * 4, threads * stride];
    const { offs, end: at } = layoutScratch(this.#residentEnd(), sizes, this.#limit(), (n) => m8.ensure(n));
    this.#used = at;
    const [oq, os, oe, ok, op, ow] = offs;
    const buf = m8.memory.buffer;
    new Uint8Array(buf, oq, qBytes).set(new Uint8Array(query.buffer, query.byteOffset, qBytes));
    if (scales) new Float64Array(buf, os, Q).set(scales.subarray(0, Q));
    if (elig) new Uint8Array(buf, oe, R).set(elig.subarray(0, R));
    const listBytes = Q * m * 8;
    const args = [
      oq,
      os,
      m8.heapBase,
      this.#normsAt(),
      S,
      options.distance ? 1 : 0,
      0,
      R,
      elig ? oe : 0,
      m,
      ok,
      op,
      0,
      Q,
      ow,
      rb,
      listBytes,
      blocked ? scanUnit(Q, R, S, rb, threads) : 0,
    ];
    const ex = m8.instance.exports;
    const opQ = int8 ? OP_INT8 : OP_HAMMING, opSplit = int8 ? OP_INT8_SPLIT : OP_HAMMING_SPLIT;
    if (parallel) {
      const opBlocks = int8 ? OP_INT8_BLOCKS : OP_HAMMING_BLOCKS;
      // The blocked split: the calling thread takes units between event-loop turns (a server's
      // I/O runs while the Workers scan), as the dense top-k does.
      const share: SharePhase | undefined = blocked
        ? (e, a, t, rows, s, c, phase, until) => quantBlockedPhase(e, opBlocks, a, t, rows, s, c, phase, until)
        : undefined;
      await threads0!.run(ex, blocked ? opBlocks : split ? opSplit : opQ, args, Q, stride, runQuantSlice, share);
      return this.#read(ok, op, Q, m, lists, blocked ? null : R);
    }
    runQuantSlice(ex, opQ, args, 0, 1, Q, stride);
    return this.#read(ok, op, Q, m, 1, R);
  }

  /** Read (and, for a code-row split, merge by (key, position)) the heaps into positions. */
  #read(ok: number, op: number, Q: number, m: number, lists: number, R: number | null): Int32Array {
    const buf = this.#module.memory.buffer;
    const keys = new Float64Array(buf, ok, lists * Q * m);
    const pos = new Int32Array(buf, op, lists * Q * m);
    if (lists === 1) return pos.slice(0, Q * m);
    const out = new Int32Array(Q * m);
    const active: number[] = [];
    for (let t = 0; t < lists; t++) {
      // A fixed split's thread with no rows wrote no heaps (every thread of the blocked split did).
      const [j0, j1] = R === null ? [0, 1] : sliceRows(t, lists, R);
      if (j0 < j1) active.push(t);
    }
    const ptr = new Int32Array(lists);
    for (let i = 0; i < Q; i++) {
      ptr.fill(0);
      for (let o = 0; o < m; o++) {
        // By (key, position), as the heaps order them.
        let best = -1, bestKey = Infinity, bestPos = -1;
        for (const t of active) {
          if (ptr[t] >= m) continue;
          const at = t * Q * m + i * m + ptr[t];
          if (pos[at] < 0) continue;
          if (best < 0 || keys[at] < bestKey || (keys[at] === bestKey && pos[at] < bestPos)) {
            best = t;
            bestKey = keys[at];
            bestPos = pos[at];
          }
        }
        out[i * m + o] = best < 0 ? -1 : pos[best * Q * m + i * m + ptr[best]++];
      }
    }
    return out;
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
