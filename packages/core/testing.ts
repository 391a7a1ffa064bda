/**
 * Test helpers shared by every package's tests: one float comparison with relative and
 * absolute tolerance that reports the worst index.
 *
 * @module
 */
import assert from "node:assert/strict";

/** Tolerances for {@link assertClose}. */
export interface CloseOptions {
  /** Relative tolerance (default 1e-5). */
  rtol?: number;
  /** Absolute tolerance (default 1e-6). */
  atol?: number;
  /** Label for the message. */
  what?: string;
}

/** Result of {@link compareClose}. */
export interface CloseReport {
  /** Whether every element is within tolerance. */
  ok: boolean;
  /** Index of the worst element (largest excess over the tolerance). */
  worstIndex: number;
  /** |actual - expected| at the worst index. */
  worstDiff: number;
  /** Actual value at the worst index. */
  actual: number;
  /** Expected value at the worst index. */
  expected: number;
}

function flatten(x: unknown, out: number[]): number[] {
  if (typeof x === "number") out.push(x);
  else if (ArrayBuffer.isView(x)) out.push(...Array.from(x as unknown as ArrayLike<number>));
  else if (Array.isArray(x)) { for (const v of x) flatten(v, out); }
  else throw new TypeError(`compareClose: cannot flatten ${typeof x}`);
  return out;
}

/**
 * Compare numbers or (nested) arrays elementwise: |a - e| <= atol + rtol * |e|.
 * NaN matches NaN; infinities must match exactly.
 *
 * @param actual computed values
 * @param expected reference values
 * @param options tolerances
 * @returns a report naming the worst index
 * @example
 * ```ts
 * import { compareClose } from "@likeness/core/testing";
 * console.log(compareClose([1, 2], [1, 2.000001]).ok); // true
 * ```
 */
export function compareClose(actual: unknown, expected: unknown, options: CloseOptions = {}): CloseReport {
  const rtol = options.rtol ?? 1e-5;
  const atol = options.atol ?? 1e-6;
  const a = flatten(actual, []);
  const e = flatten(expected, []);
  if (a.length !== e.length) {
    return { ok: false, worstIndex: -1, worstDiff: Infinity, actual: a.length, expected: e.length };
  }
  let worst = -1;
  let worstExcess = -Infinity;
  let worstDiff = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    const y = e[i];
    let diff: number;
    if (Number.isNaN(y) || Number.isNaN(x)) diff = Number.isNaN(x) && Number.isNaN(y) ? 0 : Infinity;
    else if (!Number.isFinite(y) || !Number.isFinite(x)) diff = x === y ? 0 : Infinity;
    else diff = Math.abs(x - y);
    const excess = diff - (atol + rtol * (Number.isFinite(y) ? Math.abs(y) : 0));
    if (excess > worstExcess) {
      worstExcess = excess;
      worst = i;
      worstDiff = diff;
    }
  }
  return {
    ok: worstExcess <= 0,
    worstIndex: worst,
    worstDiff,
    actual: worst >= 0 ? a[worst] : NaN,
    expected: worst >= 0 ? e[worst] : NaN,
  };
}

/**
 * Assert elementwise closeness (see {@link compareClose}); the message names the worst index.
 *
 * @param actual computed values
 * @param expected reference values
 * @param options tolerances and label
 * @throws {assert.AssertionError} when any element is out of tolerance or lengths differ
 * @example
 * ```ts
 * import { assertClose } from "@likeness/core/testing";
 * assertClose([0.1 + 0.2], [0.3]);
 * ```
 */
export function assertClose(actual: unknown, expected: unknown, options: CloseOptions = {}): void {
  const r = compareClose(actual, expected, options);
  if (!r.ok) {
    const what = options.what ? `${options.what}: ` : "";
    if (r.worstIndex < 0) assert.fail(`${what}length ${r.actual} differs from expected length ${r.expected}`);
    assert.fail(
      `${what}worst index ${r.worstIndex}: actual ${r.actual} expected ${r.expected} (|diff| ${r.worstDiff}, rtol ${
        options.rtol ?? 1e-5
      }, atol ${options.atol ?? 1e-6})`,
    );
  }
}

/**
 * `p`, or a rejection "hung" once `ms` milliseconds pass first: a test of a call that must
 * not wait forever (a dead Worker, a stuck writer) fails with that message instead of hanging.
 *
 * @param p the awaited call
 * @param ms how long it may take
 * @returns what `p` resolves to
 * @throws {Error} "hung: no answer within ms ms" when `p` takes longer; what `p` rejects with
 * @example
 * ```ts
 * import { bounded } from "@likeness/core/testing";
 * import assert from "node:assert/strict";
 * assert.equal(await bounded(Promise.resolve(3), 1000), 3);
 * await assert.rejects(bounded(new Promise(() => {}), 10), /hung: no answer within 10 ms/);
 * ```
 */
export async function bounded<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const hung = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`hung: no answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([p, hung]);
  } finally {
    clearTimeout(timer);
  }
}
