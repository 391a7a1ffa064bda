/**
 * The job protocol shared by the dense kernels' main thread and its workers (private).
 *
 * A control block (an Int32Array over a SharedArrayBuffer) holds a generation counter that the
 * main thread bumps for each job, a done counter the workers increment, the operation, the
 * thread count and the row count; a Float64Array over the same buffer holds the arguments.
 * Every thread runs the same export on its own slice of query rows.
 *
 * @module
 */
import { nextGeneration } from "./_worker_pool.ts";

/** Int32 slots of the control block. */
export const GEN = 0;
/** Workers that finished the current generation. */
export const DONE = 1;
/** Operation: OP_PAIRWISE, OP_TOPK or OP_STOP. */
export const OP = 2;
/** Threads taking part (main thread included). */
export const NTHREADS = 3;
/** Query rows to split. */
export const ROWS = 4;
/** Bytes of scratch per thread (top-k). */
export const SCRATCH_STRIDE = 5;
/** Set to 1 by a worker whose slice threw. */
export const ERROR = 6;
/** Shared counter of the blocked split (`OP_TOPK_BLOCKS`): the next reference row to take. */
export const NEXT = 8;
/** Test-only fault injection: the worker with this thread index throws (uncaught) at its next job; 0 = none. */
export const CRASH = 7;
/** Byte offset of the Float64 argument area. */
export const ARGS_OFFSET = 64;
/** Maximum arguments. */
export const MAX_ARGS = 24;
/** Bytes of the control block. */
export const CONTROL_BYTES = ARGS_OFFSET + MAX_ARGS * 8;

/** Operation codes. */
export const OP_PAIRWISE = 1;
/** Top-k. */
export const OP_TOPK = 2;
/** Top-k split over reference rows: each thread writes partial lists for every query row. */
export const OP_TOPK_SPLIT = 3;
/**
 * Top-k split over reference blocks taken from a shared counter: every thread keeps lists for
 * every query row and takes the next unit of reference rows until none is left, so a thread that
 * runs slower (or starts later) takes fewer; the lists are merged by (value, index).
 */
export const OP_TOPK_BLOCKS = 4;
/** Stop the worker loop. */
export const OP_STOP = -1;

/** Iterations a waiting thread polls before it blocks (a few tens of microseconds). */
export const SPIN = 20000;

/**
 * Query rows [i0, i1) of thread `t` of `n` for `rows` rows (slices are even so the 2-row
 * register tile stays whole).
 *
 * @param t thread index (0 = main)
 * @param n thread count
 * @param rows total query rows
 * @returns [i0, i1)
 */
export function sliceRows(t: number, n: number, rows: number): [number, number] {
  let per = Math.ceil(rows / n);
  per += per & 1;
  const i0 = Math.min(rows, t * per);
  return [i0, Math.min(rows, i0 + per)];
}

/** The arguments the `pairwise` and `topk` exports both begin with. */
export interface ScanArgs {
  /** Byte offset of the Q×D query rows. */
  query: number;
  /** Byte offset of the R×D reference rows. */
  reference: number;
  /** Reference rows R. */
  refRows: number;
  /** Dimension D. */
  dim: number;
  /** Index of the metric in `DENSE_METRICS`. */
  metric: number;
  /** Byte offset of the query inverse norms (cosine), else 0 or unused. */
  queryInv: number;
  /** Byte offset of the reference inverse norms (cosine), else 0 or unused. */
  refInv: number;
}

/** Named arguments of the `pairwise` export, in the order {@link pairwiseArgs} lays them out. */
export interface PairwiseArgs extends ScanArgs {
  /** Byte offset of the Q×R output. */
  out: number;
  /** Query rows Q (the row range is [0, Q); each thread's slice replaces it). */
  rows: number;
  /** Byte offset of the work memory (each thread's is `work + t · stride`). */
  work: number;
}

/**
 * The `pairwise` export's positional arguments (q, r, nr, d, metric, qinv, rinv, out, i0, i1, work).
 *
 * @param a the named arguments
 * @returns the argument list `runSlice` takes for OP_PAIRWISE
 */
export function pairwiseArgs(a: PairwiseArgs): number[] {
  return [a.query, a.reference, a.refRows, a.dim, a.metric, a.queryInv, a.refInv, a.out, 0, a.rows, a.work];
}

/** Named arguments of the `topk` export, in the order {@link topkArgs} lays them out. */
export interface TopKArgs extends ScanArgs {
  /** Byte offset of the eligibility bytes (one per reference row), 0 for none. */
  eligible: number;
  /** Results per query row. */
  k: number;
  /** Keep the largest values (else the smallest). */
  largest: boolean;
  /** Byte offset of the value lists (2k + 1 slots per query row). */
  values: number;
  /** Byte offset of the index lists (2k + 1 slots per query row). */
  indices: number;
  /** Query rows Q (the row range is [0, Q); each thread's slice replaces it). */
  rows: number;
  /** Byte offset of the scratch memory (each thread's is `scratch + t · stride`). */
  scratch: number;
  /** Reference rows per block (the module's `blockRows(d)`). */
  blockRows: number;
  /** Byte offset of one excluded reference position per query row, 0 for none. */
  exclude?: number;
  /** Bytes between the lists of two threads (OP_TOPK_SPLIT, OP_TOPK_BLOCKS); default 0. */
  outStride?: number;
  /** Reference rows a thread takes at a time (OP_TOPK_BLOCKS); default 0. */
  unit?: number;
}

/**
 * The `topk` export's positional arguments (q, r, nr, d, metric, qinv, rinv, elig, k, largest,
 * vals, idx, i0, i1, scratch, rb, excl, exclBase), then outStride and unit when given.
 *
 * @param a the named arguments
 * @returns the argument list `runSlice` takes for the OP_TOPK family
 */
export function topkArgs(a: TopKArgs): number[] {
  const args = [
    a.query,
    a.reference,
    a.refRows,
    a.dim,
    a.metric,
    a.queryInv,
    a.refInv,
    a.eligible,
    a.k,
    a.largest ? 1 : 0,
    a.values,
    a.indices,
    0,
    a.rows,
    a.scratch,
    a.blockRows,
    a.exclude ?? 0,
    0,
  ];
  if (a.outStride !== undefined || a.unit !== undefined) args.push(a.outStride ?? 0, a.unit ?? 0);
  return args;
}

type KernelFn = (...args: number[]) => unknown;

/** Most multiply-adds one kernel call may do before the next chunk (about 0.1–0.3 s). */
export const CHUNK_WORK = 2 ** 32;
/** Kernel calls after which this thread's code is taken as optimised (no more small first chunks). */
export const WARM_CALLS = 24;

/** Kernel calls made by this thread so far (each Worker has its own count). */
let callsMade = 0;

/**
 * Run thread `t`'s slice of the job described by `op` and `args`.
 *
 * While this thread is new (fewer than WARM_CALLS kernel calls), the slice is processed in calls of
 * growing size (2, 4, 8, … rows): V8 runs the first call of a WebAssembly function in its baseline
 * tier and only later calls use optimised code, so one long first call would run several times
 * slower. After that a slice runs in as few calls as CHUNK_WORK allows, so the references stream
 * through the cache as few times as possible.
 *
 * @param exports the kernel module's exports
 * @param op OP_PAIRWISE or OP_TOPK
 * @param args the export's arguments (row range and scratch are replaced per thread)
 * @param t thread index
 * @param n thread count
 * @param rows total query rows
 * @param scratchStride bytes of scratch (top-k) or work (pairwise) memory per thread
 * @param ctl the control block (OP_TOPK_BLOCKS takes its units from `ctl[NEXT]`)
 */
export function runSlice(
  exports: WebAssembly.Exports,
  op: number,
  args: ArrayLike<number>,
  t: number,
  n: number,
  rows: number,
  scratchStride: number,
  ctl?: Int32Array,
): void {
  const a = Array.from(args);
  if (op === OP_TOPK_BLOCKS) {
    blockedPhase(exports, args, t, rows, scratchStride, ctl!, 0, 0);
    blockedPhase(exports, args, t, rows, scratchStride, ctl!, 1, Infinity);
    blockedPhase(exports, args, t, rows, scratchStride, ctl!, 2, 0);
    return;
  }
  if (op === OP_TOPK_SPLIT) {
    // (q, r, nr, d, metric, qinv, rinv, elig, k, largest, vals, idx, i0, i1, scratch, rb, excl,
    // exclBase, outStride): thread t takes reference rows [j0, j1) of nr for every query row, and
    // writes its partial lists (indices relative to j0) at vals/idx + t · outStride. Threads with
    // no rows write none.
    const [j0, j1] = sliceRows(t, n, a[2]);
    if (j0 >= j1) return;
    const d = a[3];
    a[1] = args[1] + j0 * d * 4;
    a[2] = j1 - j0;
    if (args[6]) a[6] = args[6] + j0 * 4;
    if (args[7]) a[7] = args[7] + j0;
    a[10] = args[10] + t * args[18];
    a[11] = args[11] + t * args[18];
    a[12] = 0;
    a[13] = rows;
    a[14] = args[14] + t * scratchStride;
    a[17] = args[17] + j0;
    callsMade++;
    (exports.topk as KernelFn)(...a.slice(0, 18));
    return;
  }
  const [s0, s1] = sliceRows(t, n, rows);
  if (s0 >= s1) return;
  // Both ops take (q, r, nr, d, ...): work per query row is nr·d.
  const perRow = Math.max(1, a[2] * a[3]);
  const cap = Math.max(2, Math.floor(CHUNK_WORK / perRow) & ~1);
  let chunk = callsMade < WARM_CALLS ? 2 : cap;
  for (let i0 = s0; i0 < s1; i0 += chunk, chunk = Math.min(cap, chunk * 2)) {
    const i1 = Math.min(s1, i0 + chunk);
    callsMade++;
    if (op === OP_PAIRWISE) {
      // (q, r, nr, d, metric, qinv, rinv, out, i0, i1, work)
      a[8] = i0;
      a[9] = i1;
      a[10] = args[10] + t * scratchStride;
      (exports.pairwise as KernelFn)(...a.slice(0, 11));
    } else if (op === OP_TOPK) {
      // (q, r, nr, d, metric, qinv, rinv, elig, k, largest, vals, idx, i0, i1, scratch, rb, excl, exclBase)
      a[12] = i0;
      a[13] = i1;
      a[14] = args[14] + t * scratchStride;
      (exports.topk as KernelFn)(...a.slice(0, 18));
    }
  }
}

/**
 * One phase of thread t's part of OP_TOPK_BLOCKS, whose arguments are (q, r, nr, d, metric,
 * qinv, rinv, elig, k, largest, vals, idx, i0, i1, scratch, rb, excl, exclBase, outStride, unit):
 * thread t keeps lists for every query row at vals/idx + t · outStride (absolute indices) and
 * takes `unit` reference rows at a time (a multiple of rb) from ctl[NEXT], so units come in
 * increasing order, as topkBlocks needs. Phase 0 empties the lists, phase 1 takes units until
 * none is left (returns true) or `performance.now()` passes `until` (returns false: call again),
 * phase 2 finishes the lists. A Worker runs the three at once; the calling thread may run phase 1
 * in pieces with event-loop turns between them.
 *
 * @returns for phase 1, whether the units are exhausted; otherwise true
 */
export function blockedPhase(
  exports: WebAssembly.Exports,
  args: ArrayLike<number>,
  t: number,
  rows: number,
  scratchStride: number,
  ctl: Int32Array,
  phase: number,
  until: number,
): boolean {
  const d = args[3], k = args[8], largest = args[9];
  const vals = args[10] + t * args[18], idx = args[11] + t * args[18];
  const scratch = args[14] + t * scratchStride;
  const rb = args[15];
  if (phase === 0) {
    (exports.topkInit as KernelFn)(vals, idx, k, 0, rows);
    return true;
  }
  if (phase === 2) {
    const hist = scratch + rb * 8 + (((exports.workBytes as KernelFn)(d) as number + 15) & ~15);
    const finish = exports.topkFinish as KernelFn;
    for (let i = 0; i < rows; i++) finish(vals, idx, k, largest, i, i + 1, hist);
    return true;
  }
  const nr = args[2], unit = args[19];
  const blocks = exports.topkBlocks as KernelFn;
  for (;;) {
    const j0 = Atomics.add(ctl, NEXT, unit);
    if (j0 >= nr) return true;
    blocks(
      args[0],
      args[1],
      d,
      args[4],
      args[5],
      args[6],
      args[7],
      k,
      largest,
      vals,
      idx,
      0,
      rows,
      scratch,
      rb,
      args[16],
      args[17],
      j0,
      Math.min(nr, j0 + unit),
    );
    if (until !== Infinity && performance.now() > until) return false;
  }
}

interface WorkerInit {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  control: SharedArrayBuffer;
  tid: number;
}

/**
 * The worker's body: instantiate the shared-memory build on the memory it is sent, answer
 * `ready`, then serve jobs: poll the generation counter briefly, then block in `Atomics.wait`.
 * Its source is sent to the Worker as text (see `_dense_pool.ts`), so it may use only its own
 * code, the constants above, `sliceRows`, `runSlice` and `nextGeneration` (`_worker_pool.ts`).
 */
export function workerMain(): void {
  const scope = globalThis as unknown as {
    onmessage: ((e: MessageEvent<WorkerInit>) => void) | null;
    postMessage(message: unknown): void;
    close(): void;
  };
  scope.onmessage = async (e: MessageEvent<WorkerInit>) => {
    scope.onmessage = null;
    const { module, memory, control, tid } = e.data;
    let exports: WebAssembly.Exports;
    try {
      const instance = await WebAssembly.instantiate(module, { env: { memory } });
      exports = instance.exports;
    } catch (cause) {
      scope.postMessage({ error: String(cause) });
      return;
    }
    const ctl = new Int32Array(control);
    const args = new Float64Array(control, ARGS_OFFSET, MAX_ARGS);
    let gen = Atomics.load(ctl, GEN);
    scope.postMessage({ ready: true });
    for (;;) {
      gen = nextGeneration(ctl, GEN, gen, SPIN);
      const op = Atomics.load(ctl, OP);
      if (op === OP_STOP) break;
      // Test-only: die as a Worker really dies (an uncaught error ends it; the pool sees `error`).
      if (Atomics.load(ctl, CRASH) === tid) throw new Error(`worker ${tid} crashed on request (fault injection)`);
      // Test-only: exit silently (no error event), as a Worker closed by its runtime does.
      if (Atomics.load(ctl, CRASH) === -tid) break;
      try {
        runSlice(exports, op, args, tid, ctl[NTHREADS], ctl[ROWS], ctl[SCRATCH_STRIDE], ctl);
      } catch {
        Atomics.store(ctl, ERROR, 1);
      } finally {
        Atomics.add(ctl, DONE, 1);
        Atomics.notify(ctl, DONE);
      }
    }
    scope.close();
  };
}

/**
 * JavaScript source of the worker: the constants, `sliceRows`, `runSlice` and `workerMain`,
 * taken from this module's (transpiled) functions so that both sides run the same code.
 *
 * @returns module source text for a Worker
 */
export function workerSource(): string {
  return workerModuleSource({ OP_PAIRWISE, OP_TOPK, OP_TOPK_SPLIT, OP_TOPK_BLOCKS, CHUNK_WORK, WARM_CALLS }, [
    "let callsMade = 0;",
    blockedPhase.toString(),
    runSlice.toString(),
  ]);
}

/**
 * JavaScript source of a Worker running {@link workerMain} with another slice runner: the control
 * constants, `extra` constants, `body` (which must define `runSlice`), and the functions the loop
 * calls (`sliceRows`, `nextGeneration`), so every worker of the dense pool waits on the same protocol.
 *
 * @param extra constants the slice runner reads, by name
 * @param body source lines defining `runSlice` (and whatever it needs)
 * @returns module source text for a Worker
 */
export function workerModuleSource(extra: Record<string, number>, body: readonly string[]): string {
  const constants = {
    GEN,
    DONE,
    OP,
    NTHREADS,
    ROWS,
    SCRATCH_STRIDE,
    ERROR,
    CRASH,
    NEXT,
    ARGS_OFFSET,
    MAX_ARGS,
    OP_STOP,
    SPIN,
    ...extra,
  };
  return [
    ...Object.entries(constants).map(([k, v]) => `const ${k} = ${v};`),
    sliceRows.toString(),
    nextGeneration.toString(),
    ...body,
    `(${workerMain.toString()})();`,
  ].join("\n");
}
