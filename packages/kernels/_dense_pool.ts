/**
 * Worker pool of the multithreaded dense kernels (private): `n - 1` Workers plus the calling
 * thread share one `WebAssembly.Memory`; each job splits query rows between them.
 *
 * @module
 */
import { LikenessError } from "@likeness/core";
import {
  ARGS_OFFSET,
  blockedPhase,
  CONTROL_BYTES,
  CRASH,
  DONE,
  ERROR,
  GEN,
  MAX_ARGS,
  NEXT,
  NTHREADS,
  OP,
  OP_STOP,
  OP_TOPK_BLOCKS,
  ROWS,
  runSlice,
  SCRATCH_STRIDE,
  SPIN,
  workerSource,
} from "./_dense_job.ts";
import { nextTurn, publishJob, StallWatch, startWorkers, type WorkerLike } from "./_worker_pool.ts";

/**
 * One phase of the calling thread's share of a job whose units come from a shared counter: 0
 * starts its lists, 1 takes units until none is left (true) or `performance.now()` passes `until`
 * (false), 2 finishes its lists (`blockedPhase` of `_dense_job.ts` and its quant counterpart).
 */
export type SharePhase = (
  exports: WebAssembly.Exports,
  args: ArrayLike<number>,
  t: number,
  rows: number,
  scratchStride: number,
  ctl: Int32Array,
  phase: number,
  until: number,
) => boolean;

type WaitAsync = (
  a: Int32Array,
  index: number,
  value: number,
  timeout?: number,
) => { async: boolean; value: Promise<string> | string };

/** A Worker's slice failed (the pool should not be used again). */
export class WorkerFailure extends Error {
  /**
   * @param message what failed
   */
  constructor(message: string) {
    super(message);
    this.name = "WorkerFailure";
  }
}

/** Milliseconds of blocked top-k work the calling thread does between two event-loop turns. */
const JOIN_SLICE_MS = 1;

/**
 * A job whose Workers make no progress (done count and unit counter unchanged) for this long, or
 * for 20 times what the calling thread's own share took if that is longer, has lost a Worker that
 * ended without an `error` event (closed by its runtime, or `exit` fault injection): the call fails
 * with WORKER_FAILED instead of waiting forever.
 */
export const STALL_MIN_MS = 2000;

/** A started pool. */
export class DensePool {
  /** Threads taking part in a job (main thread included). */
  readonly threads: number;
  readonly #workers: WorkerLike[];
  readonly #ctl: Int32Array;
  readonly #args: Float64Array;

  /** Why the pool is broken (a Worker died or a slice threw), or null while it works. */
  #failure: string | null = null;

  private constructor(workers: WorkerLike[], control: SharedArrayBuffer) {
    this.#workers = workers;
    this.threads = workers.length + 1;
    this.#ctl = new Int32Array(control);
    this.#args = new Float64Array(control, ARGS_OFFSET, MAX_ARGS);
    workers.forEach((w, i) => {
      // After start-up a Worker only reports through its `error` event (an uncaught error or
      // rejection ends it); `preventDefault` keeps the runtime from treating it as fatal.
      w.onerror = (e: Event) => {
        e.preventDefault?.();
        this.#fail(`worker ${i + 1} died: ${(e as ErrorEvent).message ?? "error"}`);
      };
      w.onmessage = null;
    });
  }

  /** Why the pool stopped working, or null while it works. */
  get failure(): string | null {
    return this.#failure;
  }

  /** Mark the pool broken and wake a caller waiting for the done counter. */
  #fail(why: string): void {
    this.#failure ??= why;
    Atomics.notify(this.#ctl, DONE);
  }

  /**
   * Test-only fault injection: make Worker `tid` die as a real one does. `throw`: it throws an
   * uncaught error at its next job (the pool learns it from the Worker's `error` event); `exit`:
   * it closes itself at its next job, with no event (the pool learns it when the job stalls, see
   * {@link STALL_MIN_MS}); `terminate`: it is terminated now.
   *
   * @param how `throw`, `exit` or `terminate`
   * @param tid the Worker's thread index (1 ≤ tid < threads)
   */
  injectFault(how: "throw" | "exit" | "terminate", tid: number): void {
    if (!Number.isInteger(tid) || tid < 1 || tid >= this.threads) throw new RangeError(`No worker ${tid}`);
    if (how === "throw" || how === "exit") {
      Atomics.store(this.#ctl, CRASH, how === "throw" ? tid : -tid);
      return;
    }
    this.#workers[tid - 1].terminate();
    this.#fail(`worker ${tid} was terminated`);
  }

  /**
   * Start `threads - 1` workers on `memory` running the module `bytes`.
   *
   * @param bytes the shared-memory build of the dense kernels
   * @param memory the shared memory
   * @param threads total threads (≥ 2)
   * @param source the worker's module source (default: the dense kernels' job loop, `workerSource()`)
   * @returns the pool once every worker has instantiated the module
   * @throws when a worker cannot start (the caller falls back to one thread)
   */
  static async start(
    bytes: Uint8Array,
    memory: WebAssembly.Memory,
    threads: number,
    source: string = workerSource(),
  ): Promise<DensePool> {
    const control = new SharedArrayBuffer(CONTROL_BYTES);
    const workers = await startWorkers(
      source,
      threads,
      bytes,
      (tid, module) => ({ module, memory, control, tid }),
      "dense",
    );
    return new DensePool(workers, control);
  }

  /**
   * Run one job on every thread and resolve when all slices are done.
   *
   * @param exports the calling thread's instance exports (same module, same memory)
   * @param op operation code
   * @param args the export's arguments
   * @param rows query rows to split
   * @param scratchStride bytes of scratch per thread
   * @param slice the calling thread's slice runner (the same one the workers' source runs)
   * @param share for a job of units from the shared counter: the calling thread takes its units
   *   through this in pieces with event-loop turns between them instead of through `slice`
   *   (OP_TOPK_BLOCKS with `runSlice` does so with `blockedPhase` without being told)
   * @throws {WorkerFailure} when a worker's slice failed; the calling thread's own errors as they are
   */
  async run(
    exports: WebAssembly.Exports,
    op: number,
    args: number[],
    rows: number,
    scratchStride = 0,
    slice: typeof runSlice = runSlice,
    share?: SharePhase,
  ): Promise<void> {
    if (this.#failure !== null) throw new WorkerFailure(this.#failure);
    const ctl = this.#ctl;
    const n = this.threads;
    this.#args.set(args);
    ctl[OP] = op;
    ctl[NTHREADS] = n;
    ctl[ROWS] = rows;
    ctl[SCRATCH_STRIDE] = scratchStride;
    ctl[NEXT] = 0;
    publishJob(ctl, { gen: GEN, done: DONE, error: ERROR });
    let failure: unknown;
    const t0 = performance.now();
    try {
      const phased = share ?? (op === OP_TOPK_BLOCKS && slice === runSlice ? blockedPhase : undefined);
      if (phased) await this.#blockedShare(exports, args, rows, scratchStride, phased);
      else slice(exports, op, args, 0, n, rows, scratchStride, ctl);
    } catch (e) {
      failure = e;
    }
    const want = n - 1;
    let spins = 0;
    const waitAsync = (Atomics as unknown as { waitAsync?: WaitAsync }).waitAsync;
    const stall = new StallWatch(Math.max(STALL_MIN_MS, 20 * (performance.now() - t0)));
    for (;;) {
      const done = Atomics.load(ctl, DONE);
      if (done >= want) break;
      // A dead Worker never counts itself done: give up on the job (the `error` event that set
      // the failure is delivered while this loop awaits below, and wakes it).
      if (this.#failure !== null) {
        this.close();
        throw new WorkerFailure(this.#failure);
      }
      if (++spins < SPIN) continue;
      // One that ended without an event shows only as a job that stopped moving.
      const still = stall.stalledFor(done * 65536 + Atomics.load(ctl, NEXT));
      if (still) {
        this.#failure ??= `a kernel Worker stopped answering (no progress for ${Math.round(still)} ms)`;
        this.close();
        throw new WorkerFailure(this.#failure);
      }
      if (waitAsync) {
        const r = waitAsync(ctl, DONE, done, 100);
        if (r.async) await r.value;
      } else {
        await new Promise((resolve) => setTimeout(resolve, 0));
      }
    }
    if (failure !== undefined) throw failure;
    if (Atomics.load(ctl, ERROR)) {
      this.#failure ??= "a kernel worker failed while running its slice";
      throw new WorkerFailure(this.#failure);
    }
  }

  /**
   * The calling thread's share of a blocked top-k: first one event-loop turn (the Workers are
   * already at work, and the caller's pending I/O, e.g. a server's next requests, runs), then
   * units of reference blocks in pieces of about JOIN_SLICE_MS with a turn between pieces, until
   * none is left. The counter hands out units dynamically, so however little this thread takes,
   * the Workers take the rest and the result is the same.
   */
  async #blockedShare(
    exports: WebAssembly.Exports,
    args: number[],
    rows: number,
    stride: number,
    phase: SharePhase,
  ): Promise<void> {
    const ctl = this.#ctl;
    phase(exports, args, 0, rows, stride, ctl, 0, 0);
    for (;;) {
      await nextTurn();
      if (this.#failure !== null) break;
      if (phase(exports, args, 0, rows, stride, ctl, 1, performance.now() + JOIN_SLICE_MS)) break;
    }
    phase(exports, args, 0, rows, stride, ctl, 2, 0);
  }

  /** Stop and terminate every worker (later runs throw {@link WorkerFailure}). */
  close(): void {
    this.#failure ??= "the pool was closed";
    const ctl = this.#ctl;
    Atomics.store(ctl, OP, OP_STOP);
    Atomics.add(ctl, GEN, 1);
    Atomics.notify(ctl, GEN);
    for (const w of this.#workers) w.terminate();
  }
}

/** Restarts after which a {@link KernelThreads} stays on the calling thread. */
export const MAX_RESTARTS = 3;

/**
 * The Workers of one resident engine (dense rows or quant codes), kept alive across failures:
 * when a Worker dies the job in flight fails with `WORKER_FAILED`, the whole pool is terminated
 * and a new one is started on the same shared memory (the resident data is never touched); after
 * {@link MAX_RESTARTS} restarts, or when a restart fails, the engine stays on one thread. Each
 * change is reported through `onChange` (threads now, and why) for the engine's `info`.
 */
export class KernelThreads {
  #bytes: Uint8Array;
  #memory: WebAssembly.Memory;
  #source: string;
  #pool: DensePool | null;
  #pending: Promise<void> | null = null;
  #restarts = 0;
  #closed = false;
  #onChange: (threads: number, why: string) => void;

  /**
   * @param pool the started pool
   * @param bytes the module its Workers run
   * @param memory the shared memory
   * @param source the Workers' module source
   * @param onChange told the threads in use and why, on every change
   */
  constructor(
    pool: DensePool,
    bytes: Uint8Array,
    memory: WebAssembly.Memory,
    source: string,
    onChange: (threads: number, why: string) => void,
  ) {
    this.#pool = pool;
    this.#bytes = bytes;
    this.#memory = memory;
    this.#source = source;
    this.#onChange = onChange;
  }

  /** The pool a job may use now (null while a restart runs, or after the engine went to one thread). */
  get pool(): DensePool | null {
    return this.#pool;
  }

  /** Resolves when no restart is pending (never rejects). */
  ready(): Promise<void> {
    return this.#pending ?? Promise.resolve();
  }

  /**
   * Run one job on the pool (see {@link DensePool.run}).
   *
   * @throws {LikenessError} WORKER_FAILED when a Worker died or its slice threw (a restart is
   *   under way when this is thrown); the calling thread's own errors as they are
   */
  async run(
    exports: WebAssembly.Exports,
    op: number,
    args: number[],
    rows: number,
    scratchStride: number,
    slice?: typeof runSlice,
    share?: SharePhase,
  ): Promise<void> {
    const pool = this.#pool;
    if (pool === null) throw new LikenessError("WORKER_FAILED", "The kernel Workers are not running");
    try {
      await pool.run(exports, op, args, rows, scratchStride, slice, share);
    } catch (e) {
      if (!(e instanceof WorkerFailure)) throw e;
      this.#restart(e.message);
      throw new LikenessError(
        "WORKER_FAILED",
        `A kernel Worker failed during this call (${e.message}); the resident data is unchanged and ${
          this.#pending ? "the Workers are being restarted" : "later calls run on one thread"
        }`,
        { cause: e },
      );
    }
  }

  /** Test-only: see {@link DensePool.injectFault}. */
  injectFault(how: "throw" | "exit" | "terminate", tid: number): void {
    if (this.#pool === null) throw new RangeError("No Workers are running");
    this.#pool.injectFault(how, tid);
  }

  #restart(why: string): void {
    const old = this.#pool;
    if (old === null) return;
    const threads = old.threads;
    old.close();
    this.#pool = null;
    if (this.#restarts >= MAX_RESTARTS) {
      this.#onChange(1, `threads stopped after ${this.#restarts} Worker restarts; last failure: ${why}`);
      return;
    }
    this.#restarts++;
    this.#onChange(1, `restarting Workers after: ${why}`);
    this.#pending = DensePool.start(this.#bytes, this.#memory, threads, this.#source).then(
      (pool) => {
        if (this.#closed) {
          pool.close();
          return;
        }
        this.#pool = pool;
        this.#onChange(pool.threads, `Workers restarted ${this.#restarts}× after: ${why}`);
      },
      (cause) => this.#onChange(1, `threads stopped: ${why}; restart failed: ${(cause as Error).message}`),
    ).finally(() => {
      this.#pending = null;
    });
  }

  /** Stop the Workers (a restart under way is stopped when it ends). */
  close(): void {
    this.#closed = true;
    this.#pool?.close();
    this.#pool = null;
  }
}
