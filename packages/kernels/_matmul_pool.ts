/**
 * Synchronous worker pool of the matmul kernels (private): `threads - 1` Workers and the calling
 * thread share one `WebAssembly.Memory`; a job's units of work (batch × column panels) are cut into
 * chunks that every thread claims one at a time from a shared counter, and the caller blocks (spin,
 * then `Atomics.wait`) until every chunk is done, so a tfjs kernel can return its result
 * synchronously.
 *
 * Claiming (not a fixed split) matters on a loaded machine: a Worker that the OS has not scheduled
 * yet claims nothing, and the caller runs the chunks it leaves, instead of waiting for a slice that
 * was fixed in advance (measured on 2 shared cores: a 160 × 160 × 64 product took about 1 ms with a
 * fixed half per thread, most of it waiting for the descheduled Worker).
 *
 * @module
 */
import { LikenessError } from "@likeness/core";
import { nextGeneration, StallWatch, startWorkers, type WorkerLike } from "./_worker_pool.ts";

/** Int32 slots of the control block. */
const GEN = 0;
/** Chunks finished in the current job. */
const DONE = 1;
/** Claim word: job tag (high bits) and the next chunk (low CLAIM_BITS bits). */
const CLAIM = 2;
const UNITS = 3;
const PARAMS = 4;
const WORK = 5;
const WORK_STRIDE = 6;
const ERROR = 7;
const STOP = 8;
/** Units per chunk of the current job. */
const CHUNK = 9;
/** Chunks of the current job. */
const CHUNKS = 10;
/** Test-only fault injection: tid (throw an uncaught error) or -tid (exit silently) after its next claim. */
const CRASH = 11;
const CONTROL_INTS = 16;
/** Bits of the claim word that count chunks (so at most 4096 chunks a job); the rest tag the job. */
const CLAIM_BITS = 12;
const MAX_CHUNKS = 1 << CLAIM_BITS;
/** Polls before a waiting thread blocks (tens of microseconds). */
const SPIN = 20000;
/**
 * A job whose done count has not moved for this long, or for 50 times the longest chunk the
 * calling thread ran in it if that is longer, has lost a Worker holding a claimed chunk (it died,
 * or ended without an event): the call fails with WORKER_FAILED instead of waiting forever. While
 * the caller waits synchronously no `error` event can reach it, so this bound is what ends the
 * wait in every case.
 */
export const MATMUL_STALL_MIN_MS = 1000;

type Gemm = (params: number, u0: number, u1: number, work: number) => void;

/**
 * Claim the next chunk of the job tagged `tag` (the tag of the claim word the caller read): the
 * chunk's index, or -1 when the job has none left or was replaced by a newer job. Its source is sent
 * to the Workers as text, so it uses only its arguments.
 *
 * @param ctl the control block
 * @param slot index of the claim word
 * @param bits bits of the claim word that count chunks
 * @param tag the job's tag
 * @param chunks chunks of the job
 * @returns the claimed chunk, or -1
 */
export function claimChunk(ctl: Int32Array, slot: number, bits: number, tag: number, chunks: number): number {
  const mask = (1 << bits) - 1;
  for (;;) {
    const v = Atomics.load(ctl, slot);
    const i = v & mask;
    if (v >>> bits !== tag || i >= chunks) return -1;
    if (Atomics.compareExchange(ctl, slot, v, v + 1) === v) return i;
  }
}

/**
 * Chunk size and count for `units` units on `threads` threads: about four chunks per thread, so a
 * thread that starts late still finds work, and at most `maxChunk` units each (a chunk's column
 * panels share one pass over A).
 *
 * @param units units of the job
 * @param threads threads taking part
 * @param maxChunk largest useful chunk (the kernel's panel group)
 * @returns [units per chunk, chunks]
 */
export function chunking(units: number, threads: number, maxChunk = 8): [number, number] {
  let chunk = Math.max(1, Math.min(maxChunk, Math.floor(units / (threads * 4))));
  while (Math.ceil(units / chunk) > MAX_CHUNKS) chunk *= 2;
  return [chunk, Math.ceil(units / chunk)];
}

/**
 * Run chunks of the current job until none is left: claim, run `gemm` on its units, count it done.
 * Shared by the caller and the Workers (sent as text).
 *
 * @param ctl the control block
 * @param gemm the thread's `gemm` export
 * @param tid thread index (its work memory)
 * @param tagged the claim word read when the job was seen
 */
function runChunks(ctl: Int32Array, gemm: Gemm, tid: number, tagged: number): number {
  const tag = tagged >>> CLAIM_BITS;
  let longest = 0;
  // The job's fields were written before its claim word; a claim that succeeds proves they are its.
  for (;;) {
    const chunks = Atomics.load(ctl, CHUNKS);
    const chunk = ctl[CHUNK];
    const units = ctl[UNITS];
    const params = ctl[PARAMS];
    const work = ctl[WORK] + tid * ctl[WORK_STRIDE];
    const i = claimChunk(ctl, CLAIM, CLAIM_BITS, tag, chunks);
    if (i < 0) return longest;
    // Test-only: die holding a claimed chunk, loudly (uncaught error) or silently (the loop ends).
    const crash = Atomics.load(ctl, CRASH);
    if (crash !== 0 && crash === tid) throw new Error(`matmul worker ${tid} crashed on request (fault injection)`);
    if (crash !== 0 && crash === -tid) return -1;
    const t0 = performance.now();
    try {
      gemm(params, i * chunk, Math.min(units, (i + 1) * chunk), work);
      longest = Math.max(longest, performance.now() - t0);
    } catch {
      Atomics.store(ctl, ERROR, 1);
    } finally {
      if (Atomics.add(ctl, DONE, 1) + 1 === chunks) Atomics.notify(ctl, DONE);
    }
  }
}

function workerMain(): void {
  const scope = globalThis as unknown as {
    onmessage: ((e: MessageEvent) => void) | null;
    postMessage(message: unknown): void;
    close(): void;
  };
  scope.onmessage = async (e: MessageEvent) => {
    scope.onmessage = null;
    const { module, memory, control, tid } = e.data;
    let gemm: Gemm;
    try {
      const instance = await WebAssembly.instantiate(module as WebAssembly.Module, {
        env: { memory, abort: () => {} },
      });
      gemm = instance.exports.gemm as Gemm;
    } catch (cause) {
      scope.postMessage({ error: String(cause) });
      return;
    }
    const ctl = new Int32Array(control);
    let gen = Atomics.load(ctl, GEN);
    scope.postMessage({ ready: true });
    for (;;) {
      gen = nextGeneration(ctl, GEN, gen, SPIN);
      if (Atomics.load(ctl, STOP)) break;
      if (runChunks(ctl, gemm, tid, Atomics.load(ctl, CLAIM)) < 0) break;
    }
    scope.close();
  };
}

function workerSource(): string {
  const constants = {
    GEN,
    DONE,
    CLAIM,
    UNITS,
    PARAMS,
    WORK,
    WORK_STRIDE,
    ERROR,
    STOP,
    CHUNK,
    CHUNKS,
    CRASH,
    CLAIM_BITS,
    SPIN,
  };
  return [
    ...Object.entries(constants).map(([k, v]) => `const ${k} = ${v};`),
    claimChunk.toString(),
    runChunks.toString(),
    nextGeneration.toString(),
    `(${workerMain.toString()})();`,
  ].join("\n");
}

/** A started pool over one shared memory. */
export class MatMulPool {
  /** Threads that can take part in a job (caller included). */
  readonly threads: number;
  readonly #workers: WorkerLike[];
  readonly #ctl: Int32Array;
  #broken = false;
  #tag = 0;

  #why = "";

  private constructor(workers: WorkerLike[], control: SharedArrayBuffer) {
    this.#workers = workers;
    this.threads = workers.length + 1;
    this.#ctl = new Int32Array(control);
    workers.forEach((w, i) => {
      // A Worker that dies between jobs (an uncaught error ends it): the next job does not use
      // this pool. One that dies during a job is found by the stall bound in `run`.
      w.onerror = (e: Event) => {
        e.preventDefault?.();
        this.#break(`matmul worker ${i + 1} died: ${(e as ErrorEvent).message ?? "error"}`);
      };
      w.onmessage = null;
    });
  }

  /** Whether a worker failed (the pool must not be used again). */
  get broken(): boolean {
    return this.#broken;
  }

  /** Why the pool broke ("" while it works). */
  get why(): string {
    return this.#why;
  }

  #break(why: string): void {
    if (!this.#broken) this.#why = why;
    this.#broken = true;
  }

  /**
   * Test-only fault injection: Worker `tid` dies holding the next chunk it claims, with an
   * uncaught error (`throw`) or silently (`exit`: its loop ends, no event).
   *
   * @param how `throw` or `exit`
   * @param tid the Worker's thread index (1 ≤ tid < threads)
   */
  injectFault(how: "throw" | "exit", tid: number): void {
    if (!Number.isInteger(tid) || tid < 1 || tid >= this.threads) throw new RangeError(`No worker ${tid}`);
    Atomics.store(this.#ctl, CRASH, how === "throw" ? tid : -tid);
  }

  /**
   * Start `threads - 1` workers running the shared-memory module `bytes` on `memory`.
   *
   * @param bytes module bytes (a `_mt` build)
   * @param memory the shared memory
   * @param threads total threads (≥ 2)
   * @returns the pool once every worker has instantiated the module
   * @throws when a worker cannot start
   */
  static async start(bytes: Uint8Array, memory: WebAssembly.Memory, threads: number): Promise<MatMulPool> {
    const control = new SharedArrayBuffer(CONTROL_INTS * 4);
    const workers = await startWorkers(
      workerSource(),
      threads,
      bytes,
      (tid, module) => ({ module, memory, control, tid }),
      "matmul",
    );
    return new MatMulPool(workers, control);
  }

  /**
   * Run one job on every thread that comes to it; returns when all its chunks are done.
   *
   * @param gemm the caller's `gemm` export (same module, same memory)
   * @param params byte offset of the job descriptor
   * @param units units of work
   * @param work byte offset of thread 0's work memory
   * @param workStride bytes of work memory per thread
   * @throws {LikenessError} WORKER_FAILED when a worker's chunk failed or a worker stopped
   *   answering (the pool is then broken and closed)
   */
  run(gemm: Gemm, params: number, units: number, work: number, workStride: number): void {
    if (this.#broken) throw new LikenessError("WORKER_FAILED", `The matmul Workers failed: ${this.#why}`);
    const ctl = this.#ctl;
    const [chunk, chunks] = chunking(units, this.threads);
    this.#tag = (this.#tag + 1) & ((1 << (31 - CLAIM_BITS)) - 1);
    ctl[UNITS] = units;
    ctl[PARAMS] = params;
    ctl[WORK] = work;
    ctl[WORK_STRIDE] = workStride;
    ctl[CHUNK] = chunk;
    ctl[ERROR] = 0;
    Atomics.store(ctl, DONE, 0);
    Atomics.store(ctl, CHUNKS, chunks);
    const tagged = this.#tag << CLAIM_BITS;
    Atomics.store(ctl, CLAIM, tagged);
    Atomics.add(ctl, GEN, 1);
    Atomics.notify(ctl, GEN);
    const stall = new StallWatch(Math.max(MATMUL_STALL_MIN_MS, 50 * runChunks(ctl, gemm, 0, tagged)));
    let spins = 0;
    for (;;) {
      const done = Atomics.load(ctl, DONE);
      if (done >= chunks) break;
      if (++spins <= SPIN) continue;
      const still = stall.stalledFor(done);
      if (still) {
        this.#break(`a matmul Worker stopped answering (no chunk done for ${Math.round(still)} ms)`);
        this.close();
        throw new LikenessError(
          "WORKER_FAILED",
          `A matmul Worker failed during this product (${this.#why}); later products restart the Workers`,
        );
      }
      Atomics.wait(ctl, DONE, done, 50);
    }
    if (Atomics.load(ctl, ERROR)) {
      this.#break("a matmul thread failed while running its chunk");
      this.close();
      throw new LikenessError("WORKER_FAILED", `A matmul Worker failed during this product (${this.#why})`);
    }
  }

  /** Stop and terminate every worker. */
  close(): void {
    Atomics.store(this.#ctl, STOP, 1);
    Atomics.add(this.#ctl, GEN, 1);
    Atomics.notify(this.#ctl, GEN);
    for (const w of this.#workers) w.terminate();
  }
}
