/**
 * Worker pool of the multithreaded dense kernels (private): `n - 1` Workers plus the calling
 * thread share one `WebAssembly.Memory`; each job splits query rows between them.
 *
 * @module
 */
import {
  ARGS_OFFSET,
  CONTROL_BYTES,
  DONE,
  ERROR,
  GEN,
  MAX_ARGS,
  NTHREADS,
  OP,
  OP_STOP,
  ROWS,
  runSlice,
  SCRATCH_STRIDE,
  SPIN,
  workerSource,
} from "./_dense_job.ts";
import { publishJob, startWorkers, type WorkerLike } from "./_worker_pool.ts";

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

/** A started pool. */
export class DensePool {
  /** Threads taking part in a job (main thread included). */
  readonly threads: number;
  readonly #workers: WorkerLike[];
  readonly #ctl: Int32Array;
  readonly #args: Float64Array;

  private constructor(workers: WorkerLike[], control: SharedArrayBuffer) {
    this.#workers = workers;
    this.threads = workers.length + 1;
    this.#ctl = new Int32Array(control);
    this.#args = new Float64Array(control, ARGS_OFFSET, MAX_ARGS);
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
    const workers = await startWorkers(source, threads, (tid) => ({ bytes, memory, control, tid }), "dense");
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
   * @throws {WorkerFailure} when a worker's slice failed; the calling thread's own errors as they are
   */
  async run(
    exports: WebAssembly.Exports,
    op: number,
    args: number[],
    rows: number,
    scratchStride = 0,
    slice: typeof runSlice = runSlice,
  ): Promise<void> {
    const ctl = this.#ctl;
    const n = this.threads;
    this.#args.set(args);
    ctl[OP] = op;
    ctl[NTHREADS] = n;
    ctl[ROWS] = rows;
    ctl[SCRATCH_STRIDE] = scratchStride;
    publishJob(ctl, { gen: GEN, done: DONE, error: ERROR });
    let failure: unknown;
    try {
      slice(exports, op, args, 0, n, rows, scratchStride);
    } catch (e) {
      failure = e;
    }
    const want = n - 1;
    let spins = 0;
    const waitAsync = (Atomics as unknown as { waitAsync?: WaitAsync }).waitAsync;
    for (;;) {
      const done = Atomics.load(ctl, DONE);
      if (done >= want) break;
      if (++spins < SPIN) continue;
      if (waitAsync) {
        const r = waitAsync(ctl, DONE, done, 100);
        if (r.async) await r.value;
      } else {
        await new Promise((resolve) => setTimeout(resolve, 0));
      }
    }
    if (failure !== undefined) throw failure;
    if (Atomics.load(ctl, ERROR)) throw new WorkerFailure("a dense kernel worker failed while running its slice");
  }

  /** Stop and terminate every worker. */
  close(): void {
    const ctl = this.#ctl;
    Atomics.store(ctl, OP, OP_STOP);
    Atomics.add(ctl, GEN, 1);
    Atomics.notify(ctl, GEN);
    for (const w of this.#workers) w.terminate();
  }
}
