/**
 * Synchronous worker pool of the matmul kernels (private): `threads - 1` Workers and the calling
 * thread share one `WebAssembly.Memory`; a job splits the units of work (batch × column panels)
 * between them and the caller blocks (spin, then `Atomics.wait`) until all are done, so a tfjs
 * kernel can return its result synchronously.
 *
 * @module
 */
import { nextGeneration, publishJob, startWorkers, type WorkerLike } from "./_worker_pool.ts";

/** Int32 slots of the control block. */
const GEN = 0;
const DONE = 1;
const NTHREADS = 2;
const UNITS = 3;
const PARAMS = 4;
const WORK = 5;
const WORK_STRIDE = 6;
const ERROR = 7;
const STOP = 8;
const CONTROL_INTS = 16;
/** Polls before a waiting thread blocks (tens of microseconds). */
const SPIN = 20000;

type Gemm = (params: number, u0: number, u1: number, work: number) => void;

/**
 * Units [u0, u1) of thread `t` of `n` (contiguous, even split).
 *
 * @param t thread index (0 = caller)
 * @param n threads
 * @param units total units
 * @returns [u0, u1)
 */
export function sliceUnits(t: number, n: number, units: number): [number, number] {
  return [Math.floor((t * units) / n), Math.floor(((t + 1) * units) / n)];
}

function workerMain(): void {
  const scope = globalThis as unknown as {
    onmessage: ((e: MessageEvent) => void) | null;
    postMessage(message: unknown): void;
    close(): void;
  };
  scope.onmessage = async (e: MessageEvent) => {
    scope.onmessage = null;
    const { bytes, memory, control, tid } = e.data;
    let gemm: Gemm;
    try {
      const { instance } = await WebAssembly.instantiate(bytes, { env: { memory, abort: () => {} } });
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
      try {
        const [u0, u1] = sliceUnits(tid, ctl[NTHREADS], ctl[UNITS]);
        if (u0 < u1) gemm(ctl[PARAMS], u0, u1, ctl[WORK] + tid * ctl[WORK_STRIDE]);
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

function workerSource(): string {
  const constants = { GEN, DONE, NTHREADS, UNITS, PARAMS, WORK, WORK_STRIDE, ERROR, STOP, SPIN };
  return [
    ...Object.entries(constants).map(([k, v]) => `const ${k} = ${v};`),
    sliceUnits.toString(),
    nextGeneration.toString(),
    `(${workerMain.toString()})();`,
  ].join("\n");
}

/** A started pool over one shared memory. */
export class MatMulPool {
  /** Threads taking part in a job (caller included). */
  readonly threads: number;
  readonly #workers: WorkerLike[];
  readonly #ctl: Int32Array;
  #broken = false;

  private constructor(workers: WorkerLike[], control: SharedArrayBuffer) {
    this.#workers = workers;
    this.threads = workers.length + 1;
    this.#ctl = new Int32Array(control);
  }

  /** Whether a worker failed (the pool must not be used again). */
  get broken(): boolean {
    return this.#broken;
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
    const workers = await startWorkers(workerSource(), threads, (tid) => ({ bytes, memory, control, tid }), "matmul");
    return new MatMulPool(workers, control);
  }

  /**
   * Run one job on every thread; returns when all slices are done.
   *
   * @param gemm the caller's `gemm` export (same module, same memory)
   * @param params byte offset of the job descriptor
   * @param units units of work
   * @param work byte offset of thread 0's work memory
   * @param workStride bytes of work memory per thread
   * @throws Error when a worker's slice failed (the pool is then broken)
   */
  run(gemm: Gemm, params: number, units: number, work: number, workStride: number): void {
    const ctl = this.#ctl;
    const n = this.threads;
    ctl[NTHREADS] = n;
    ctl[UNITS] = units;
    ctl[PARAMS] = params;
    ctl[WORK] = work;
    ctl[WORK_STRIDE] = workStride;
    publishJob(ctl, { gen: GEN, done: DONE, error: ERROR });
    let failure: unknown;
    try {
      const [u0, u1] = sliceUnits(0, n, units);
      if (u0 < u1) gemm(params, u0, u1, work);
    } catch (e) {
      failure = e;
    }
    const want = n - 1;
    let spins = 0;
    for (;;) {
      const done = Atomics.load(ctl, DONE);
      if (done >= want) break;
      if (++spins > SPIN) Atomics.wait(ctl, DONE, done, 50);
    }
    if (failure !== undefined) throw failure;
    if (Atomics.load(ctl, ERROR)) {
      this.#broken = true;
      throw new Error("a matmul worker failed while running its slice");
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
