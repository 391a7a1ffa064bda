/**
 * The job protocol of the quantised-code kernels (private): the dense kernels' control block and
 * worker loop (`_dense_job.ts`) with this family's slice runner, so int8 and binary scans split
 * across the same kind of Worker pool as the float32 top-k.
 *
 * @module
 */
import { NEXT, sliceRows, workerModuleSource } from "./_dense_job.ts";

/** int8 scan, query rows split between threads. */
export const OP_INT8 = 11;
/** int8 scan, code rows split between threads (each writes its own lists). */
export const OP_INT8_SPLIT = 12;
/** Hamming scan, query rows split. */
export const OP_HAMMING = 13;
/** Hamming scan, code rows split. */
export const OP_HAMMING_SPLIT = 14;
/** int8 scan, units of code rows taken from the shared counter (each thread its own lists). */
export const OP_INT8_BLOCKS = 15;
/** Hamming scan, units of code rows taken from the shared counter. */
export const OP_HAMMING_BLOCKS = 16;
/** Multiply-adds (int8) or bytes (Hamming) one scan call may cover before the next chunk. */
export const QUANT_CHUNK_WORK = 2 ** 31;
/** Scan calls after which this thread's code is taken as optimised. */
export const QUANT_WARM_CALLS = 24;

let quantCalls = 0;

type KernelFn = (...args: number[]) => unknown;

/**
 * Run thread `t`'s slice of a quantised scan. Arguments (18): `(q, qs, codes, sq, stride, mode,
 * j0, j1, elig, m, keys, pos, i0, i1, scratch, rb, listBytes, unit)`; `listBytes` is the byte
 * size of one thread's float64 keys (its int32 positions take half) in a code-row split; `unit`
 * the code rows a thread takes at a time from `ctl[NEXT]` in the blocked split (a multiple of
 * rb). The heaps are initialised and finished here, and the scan runs in calls of growing size
 * (V8 optimises a WebAssembly function for its next call, not during a long one).
 *
 * @param exports the quant module's exports
 * @param op OP_INT8, OP_INT8_SPLIT, OP_HAMMING or OP_HAMMING_SPLIT
 * @param args the arguments above (row ranges, lists and scratch are replaced per thread)
 * @param t thread index
 * @param n thread count
 * @param rows query rows
 * @param scratchStride bytes of scratch per thread
 * @param ctl the control block (the blocked split's counter)
 */
export function runQuantSlice(
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
  const int8 = op === OP_INT8 || op === OP_INT8_SPLIT || op === OP_INT8_BLOCKS;
  const scanFn = (int8 ? exports.int8Scan : exports.hammingScan) as KernelFn;
  const init = exports.heapInit as KernelFn, finish = exports.heapFinish as KernelFn;
  const m = a[9], rb = a[15];
  a[14] = args[14] + t * scratchStride;
  if (op === OP_INT8_BLOCKS || op === OP_HAMMING_BLOCKS) {
    quantBlockedPhase(exports, op, args, t, rows, scratchStride, ctl!, 0, 0);
    quantBlockedPhase(exports, op, args, t, rows, scratchStride, ctl!, 1, Infinity);
    quantBlockedPhase(exports, op, args, t, rows, scratchStride, ctl!, 2, 0);
    return;
  }
  if (op === OP_INT8_SPLIT || op === OP_HAMMING_SPLIT) {
    const [s0, s1] = sliceRows(t, n, args[7] - args[6]);
    if (s0 >= s1) return;
    const j0 = args[6] + s0, j1 = args[6] + s1;
    a[10] = args[10] + t * args[16];
    a[11] = args[11] + t * (args[16] / 2);
    init(a[10], a[11], m, 0, rows);
    a[12] = 0;
    a[13] = rows;
    const perRow = Math.max(1, rows * a[4]);
    const cap = Math.max(rb, Math.floor(QUANT_CHUNK_WORK / perRow / rb) * rb);
    let chunk = quantCalls < QUANT_WARM_CALLS ? rb : cap;
    for (let b = j0; b < j1; b += chunk, chunk = Math.min(cap, chunk * 2)) {
      a[6] = b;
      a[7] = Math.min(j1, b + chunk);
      quantCalls++;
      scanFn(...a.slice(0, 16));
    }
    for (let i = 0; i < rows; i++) finish(a[10], a[11], m, i, i + 1);
    return;
  }
  const [s0, s1] = sliceRows(t, n, rows);
  if (s0 >= s1) return;
  init(a[10], a[11], m, s0, s1);
  const perRow = Math.max(1, (args[7] - args[6]) * a[4]);
  const cap = Math.max(2, Math.floor(QUANT_CHUNK_WORK / perRow) & ~1);
  let chunk = quantCalls < QUANT_WARM_CALLS ? 2 : cap;
  for (let i0 = s0; i0 < s1; i0 += chunk, chunk = Math.min(cap, chunk * 2)) {
    a[12] = i0;
    a[13] = Math.min(s1, i0 + chunk);
    quantCalls++;
    scanFn(...a.slice(0, 16));
  }
  for (let i = s0; i < s1; i++) finish(a[10], a[11], m, i, i + 1);
}

/**
 * One phase of thread t's part of OP_INT8_BLOCKS / OP_HAMMING_BLOCKS (arguments as in
 * {@link runQuantSlice}): every thread keeps heaps for every query row (heaps compare (key,
 * position), so the order in which units arrive does not matter) and takes `unit` code rows at a
 * time from `ctl[NEXT]`. Phase 0 empties the heaps, phase 1 takes units until none is left
 * (returns true) or `performance.now()` passes `until` (returns false: call again), phase 2
 * finishes the heaps. A Worker runs the three at once; the calling thread may run phase 1 in
 * pieces with event-loop turns between them (`DensePool.run`).
 *
 * @returns for phase 1, whether the units are exhausted; otherwise true
 */
export function quantBlockedPhase(
  exports: WebAssembly.Exports,
  op: number,
  args: ArrayLike<number>,
  t: number,
  rows: number,
  scratchStride: number,
  ctl: Int32Array,
  phase: number,
  until: number,
): boolean {
  const m = args[9];
  const keys = args[10] + t * args[16], pos = args[11] + t * (args[16] / 2);
  if (phase === 0) {
    (exports.heapInit as KernelFn)(keys, pos, m, 0, rows);
    return true;
  }
  if (phase === 2) {
    const finish = exports.heapFinish as KernelFn;
    for (let i = 0; i < rows; i++) finish(keys, pos, m, i, i + 1);
    return true;
  }
  const scanFn = (op === OP_INT8_BLOCKS ? exports.int8Scan : exports.hammingScan) as KernelFn;
  const unit = args[17];
  for (;;) {
    const b = args[6] + Atomics.add(ctl, NEXT, unit);
    if (b >= args[7]) return true;
    quantCalls++;
    scanFn(
      args[0],
      args[1],
      args[2],
      args[3],
      args[4],
      args[5],
      b,
      Math.min(args[7], b + unit),
      args[8],
      m,
      keys,
      pos,
      0,
      rows,
      args[14] + t * scratchStride,
      args[15],
    );
    if (until !== Infinity && performance.now() > until) return false;
  }
}

/**
 * JavaScript source of a quant Worker: the dense worker loop (`workerMain`) running
 * {@link runQuantSlice} as its slice runner.
 *
 * @returns module source text for a Worker
 */
export function quantWorkerSource(): string {
  return workerModuleSource(
    {
      OP_INT8,
      OP_INT8_SPLIT,
      OP_INT8_BLOCKS,
      OP_HAMMING,
      OP_HAMMING_SPLIT,
      OP_HAMMING_BLOCKS,
      QUANT_CHUNK_WORK,
      QUANT_WARM_CALLS,
    },
    ["let quantCalls = 0;", quantBlockedPhase.toString(), `const runSlice = ${runQuantSlice.toString()};`],
  );
}
