/**
 * What the shared-memory worker pools (`_dense_pool.ts`, `_matmul_pool.ts`, `_hnsw_build_pool.ts`)
 * have in common (private): starting `threads - 1` Workers from a module source, handing each the
 * kernel module compiled once, waiting until each has instantiated it, and the worker side's wait
 * for the next job.
 *
 * @module
 */

/** The part of a Worker the pools use. */
export interface WorkerLike {
  postMessage(message: unknown): void;
  terminate(): void;
  onmessage: ((e: MessageEvent) => void) | null;
  onerror: ((e: Event) => void) | null;
}

/**
 * Start `threads - 1` Workers running `source`, send worker `t` the message `init(t, module)`, and
 * wait until each answers `{ ready: true }`. On any failure every started Worker is terminated.
 *
 * The kernel's bytes are compiled here once and each Worker gets the compiled `WebAssembly.Module`
 * (Deno and Bun clone it to Workers), so every thread runs one shared compiled module. Workers that
 * compiled the bytes themselves ran slower than the calling thread in Deno 2.9: the matmul
 * kernel's Worker ran one chunk for the caller's three (simd build, 1024 × 512 × 512, 26 GFLOP/s on
 * 2 threads against 56 with the module shared; relaxed build 67 → 71).
 *
 * @param source JavaScript module source of the worker
 * @param threads total threads (the caller counts as one)
 * @param bytes the WebAssembly module the Workers instantiate
 * @param init the start message of worker `t` (1 ≤ t < threads), given the compiled module
 * @param what names the pool in errors (`dense`, `matmul`)
 * @returns the started Workers, in thread order
 * @throws Error `<what> worker failed: ...` when a worker cannot start
 */
export async function startWorkers(
  source: string,
  threads: number,
  bytes: Uint8Array,
  init: (tid: number, module: WebAssembly.Module) => unknown,
  what: string,
): Promise<WorkerLike[]> {
  const module = await WebAssembly.compile(bytes as BufferSource);
  const WorkerCtor = (globalThis as unknown as { Worker: new (url: URL, o: { type: "module" }) => WorkerLike })
    .Worker;
  const url = URL.createObjectURL(new Blob([source], { type: "text/javascript" }));
  const workers: WorkerLike[] = [];
  try {
    const ready: Promise<void>[] = [];
    for (let t = 1; t < threads; t++) {
      const w = new WorkerCtor(new URL(url), { type: "module" });
      workers.push(w);
      ready.push(
        new Promise<void>((resolve, reject) => {
          w.onmessage = (e: MessageEvent) => {
            w.onmessage = null;
            if (e.data?.ready) resolve();
            else reject(new Error(`${what} worker failed: ${e.data?.error ?? "unknown"}`));
          };
          w.onerror = (e: Event) => {
            e.preventDefault?.();
            reject(new Error(`${what} worker failed: ${(e as ErrorEvent).message ?? "error"}`));
          };
        }),
      );
      w.postMessage(init(t, module));
    }
    await Promise.all(ready);
  } catch (e) {
    for (const w of workers) w.terminate();
    throw e;
  } finally {
    URL.revokeObjectURL(url);
  }
  return workers;
}

/**
 * Worker side: wait until the generation counter `ctl[slot]` moves past `gen` (poll `spin` times,
 * then block in `Atomics.wait`). Its source is sent to the Workers as text, so it uses only its
 * arguments.
 *
 * @param ctl the control block
 * @param slot index of the generation counter
 * @param gen the generation last served
 * @param spin polls before blocking
 * @returns the new generation
 */
export function nextGeneration(ctl: Int32Array, slot: number, gen: number, spin: number): number {
  let spins = 0;
  while (Atomics.load(ctl, slot) === gen) {
    if (++spins > spin) {
      Atomics.wait(ctl, slot, gen);
      spins = 0;
    }
  }
  return Atomics.load(ctl, slot);
}

/**
 * Caller side: publish the job already written into the control block: clear the error flag and
 * the done counter, then bump the generation counter and wake the waiting workers.
 *
 * @param ctl the control block
 * @param slots indices of the generation counter, done counter and error flag
 */
export function publishJob(ctl: Int32Array, slots: { gen: number; done: number; error: number }): void {
  ctl[slots.error] = 0;
  Atomics.store(ctl, slots.done, 0);
  Atomics.add(ctl, slots.gen, 1);
  Atomics.notify(ctl, slots.gen);
}

/**
 * One turn of the event loop (timers and I/O callbacks run) through a MessageChannel: about
 * 2–10 µs, where `setTimeout(0)` waits 1–2 ms in Deno and Bun.
 *
 * @returns resolves on the next turn
 */
export function nextTurn(): Promise<void> {
  return new Promise((resolve) => {
    const { port1, port2 } = new MessageChannel();
    port1.onmessage = () => {
      port1.close();
      resolve();
    };
    port2.postMessage(null);
  });
}

/**
 * The stall bound of a job whose waiter cannot rely on an `error` event (a Worker that ends
 * silently, or a synchronous wait that no event can reach): fed a progress value on each check,
 * it says how long progress has stood still once that passes `ms`.
 */
export class StallWatch {
  #seen = -1;
  #at = performance.now();

  /** @param ms how long progress may stand still */
  constructor(readonly ms: number) {}

  /**
   * @param progress any value that changes whenever the job moves
   * @returns the milliseconds without progress when over the bound, else 0
   */
  stalledFor(progress: number): number {
    const now = performance.now();
    if (progress !== this.#seen) {
      this.#seen = progress;
      this.#at = now;
      return 0;
    }
    return now - this.#at > this.ms ? now - this.#at : 0;
  }
}
