/**
 * The one rule for a kernel thread count, used by every multi-threaded kernel family (dense,
 * resident dense and codes, matMul) and by `createBackend` of `@likeness/backend`.
 *
 * @module
 */
import { checkFiniteNumber } from "@likeness/core";

/** Most kernel threads (Workers sharing one WebAssembly memory) a family runs. */
export const MAX_THREADS = 64;

/**
 * Check a thread count: an integer from 1 to {@link MAX_THREADS}.
 *
 * @param threads the requested count
 * @param owner what runs them, for the message (`dense kernels`, `createBackend`)
 * @returns the count
 * @throws {ValueError} INVALID_ARGUMENT
 * @example
 * ```ts
 * import { checkThreads } from "@likeness/kernels";
 * import assert from "node:assert/strict";
 * assert.equal(checkThreads(2, "dense kernels"), 2);
 * assert.throws(() => checkThreads(0, "dense kernels"), { code: "INVALID_ARGUMENT" });
 * assert.throws(() => checkThreads(1.5, "dense kernels"), { code: "INVALID_ARGUMENT" });
 * ```
 */
export function checkThreads(threads: unknown, owner: string): number {
  return checkFiniteNumber(threads, "threads", owner, { min: 1, max: MAX_THREADS, integer: true });
}

/**
 * How many kernel threads a default may use: the runtime's `navigator.hardwareConcurrency`, at
 * most `cap` (and at least 1 where the runtime does not say).
 *
 * @param cap the most to use
 * @returns a thread count from 1 to `cap`
 * @example
 * ```ts
 * import { defaultThreads } from "@likeness/kernels";
 * import assert from "node:assert/strict";
 * const t = defaultThreads(2);
 * assert.ok(t === 1 || t === 2);
 * ```
 */
export function defaultThreads(cap: number): number {
  const cores = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency ?? 1;
  return Math.max(1, Math.min(cap, cores));
}
