/**
 * Workers of a multi-threaded HNSW build and search (private): `threads - 1` Workers instantiate
 * the threads build of the HNSW kernel on the graph's shared memory; for each build job they
 * configure their instance (the graph's layout, their own search scratch) and run `insertShared`,
 * claiming nodes from the shared counter beside the calling thread; for each search job they run
 * the kernel's `search` over their share of a batch of queries (the graph is only read). A Worker that dies reports through its
 * `error` event; the job then fails (the caller rolls the build back) and the pool is not used again.
 *
 * @module
 */
import { startWorkers, type WorkerLike } from "./_worker_pool.ts";

/**
 * One search job for a Worker: its `configure` and `configureCodes` arguments, the entry point and
 * top layer (`setEntry`), and the kernel's `search` arguments for its share of the queries.
 */
export interface HnswSearchJob {
  /** Arguments of the kernel's `configure` (layout, with this thread's scratch). */
  configure: number[];
  /** Arguments of `configureCodes`. */
  codes: [number, number];
  /** Entry node and top layer. */
  entry: [number, number];
  /** Arguments of `search` (q, nq, k, ef, filt, outIdx, outDist, full, qc). */
  search: number[];
}

/** One build job for a Worker: its `configure` and `configureThreads` arguments and efConstruction. */
export interface HnswBuildJob {
  /** Arguments of the kernel's `configure` (layout, with this thread's scratch). */
  configure: number[];
  /** Arguments of `configureCodes`. */
  codes: [number, number];
  /** Arguments of `configureThreads` (lock words, control words). */
  threads: [number, number];
  /** Candidate list size. */
  efc: number;
}

/** Worker module source: instantiate, then run build jobs until told to stop. */
function workerMain(): void {
  // deno-lint-ignore no-explicit-any
  const self_ = globalThis as any;
  // deno-lint-ignore no-explicit-any
  let ex: any = null;
  let crash = false;
  // Synchronous handler: a job's error is thrown, uncaught, to the Worker's `error` event.
  self_.onmessage = (e: MessageEvent) => {
    const m = e.data;
    if (m.init) {
      const env = {
        memory: m.memory,
        abort: () => {
          throw new Error("kernel abort");
        },
      };
      WebAssembly.instantiate(m.module as WebAssembly.Module, { env }).then((instance) => {
        ex = instance.exports;
        self_.postMessage({ ready: true });
      }, (err) => self_.postMessage({ error: String(err) }));
      return;
    }
    if (m.crash) {
      crash = true;
      return;
    }
    if (crash) throw new Error("injected worker fault");
    if (m.job.search) {
      // A share of a batch of queries: read-only on the graph, this thread's own scratch.
      ex.configure(...m.job.configure);
      ex.configureCodes(...m.job.codes);
      ex.configureThreads(0, 0);
      ex.setEntry(...m.job.entry);
      ex.search(...m.job.search);
      self_.postMessage({ done: true, inserted: 0 });
      return;
    }
    ex.configure(...m.job.configure);
    ex.configureCodes(...m.job.codes);
    ex.configureThreads(...m.job.threads);
    const inserted = ex.insertShared(m.job.efc);
    ex.configureThreads(0, 0);
    self_.postMessage({ done: true, inserted });
  };
}

/** The Workers of one graph's multi-threaded builds. */
export class HnswBuildPool {
  /** Threads of a build (the calling thread included). */
  readonly threads: number;
  readonly #workers: WorkerLike[];
  /** Nodes each Worker inserted in the last job (index t − 1 for thread t). */
  readonly inserted: number[];
  #failure: string | null = null;
  #waiters: ((failure: string | null) => void)[] = [];
  #pending = 0;

  private constructor(workers: WorkerLike[]) {
    this.#workers = workers;
    this.threads = workers.length + 1;
    this.inserted = workers.map(() => 0);
    workers.forEach((w, i) => {
      w.onerror = (e: Event) => {
        e.preventDefault?.();
        this.#fail(`worker ${i + 1} died: ${(e as ErrorEvent).message ?? "error"}`);
      };
      w.onmessage = (e: MessageEvent) => {
        if (e.data?.done) {
          this.inserted[i] = e.data.inserted;
          this.#settle();
        }
      };
    });
  }

  /**
   * Start the Workers.
   *
   * @param bytes the threads build of the kernel
   * @param memory the graph's shared memory
   * @param threads total threads (≥ 2)
   * @returns the pool
   * @throws Error `hnsw worker failed: ...` when a Worker cannot start
   */
  static async start(bytes: Uint8Array, memory: WebAssembly.Memory, threads: number): Promise<HnswBuildPool> {
    const source = `(${workerMain.toString()})();`;
    const workers = await startWorkers(source, threads, bytes, (_, module) => ({ init: true, module, memory }), "hnsw");
    return new HnswBuildPool(workers);
  }

  /** Why the pool stopped working, or null. */
  get failure(): string | null {
    return this.#failure;
  }

  #fail(why: string): void {
    this.#failure ??= why;
    this.#pending = 0;
    for (const w of this.#waiters.splice(0)) w(this.#failure);
  }

  #settle(): void {
    if (--this.#pending <= 0) { for (const w of this.#waiters.splice(0)) w(this.#failure); }
  }

  /**
   * Hand every Worker its job (they start at once, beside the caller).
   *
   * @param job per Worker (index t − 1 for thread t): a build or a search job
   */
  post(jobs: (HnswBuildJob | HnswSearchJob)[]): void {
    this.#pending = this.#workers.length;
    this.inserted.fill(0);
    this.#workers.forEach((w, i) => w.postMessage({ job: jobs[i] }));
  }

  /**
   * Wait until every Worker finished its job, or one died.
   *
   * @returns null when all finished, else why not
   */
  join(): Promise<string | null> {
    if (this.#failure !== null || this.#pending <= 0) return Promise.resolve(this.#failure);
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /**
   * Test-only: make Worker `tid` die as a real one does: `throw` (an uncaught error at its next
   * job) or `terminate` (now).
   *
   * @param how `throw` or `terminate`
   * @param tid 1 ≤ tid < threads
   */
  injectFault(how: "throw" | "terminate", tid: number): void {
    if (!Number.isInteger(tid) || tid < 1 || tid >= this.threads) throw new RangeError(`No worker ${tid}`);
    if (how === "throw") this.#workers[tid - 1].postMessage({ crash: true });
    else {
      this.#workers[tid - 1].terminate();
      this.#fail(`worker ${tid} was terminated`);
    }
  }

  /** Stop the Workers. */
  dispose(): void {
    for (const w of this.#workers) w.terminate();
    this.#fail(this.#failure ?? "the pool was disposed");
  }
}
