/**
 * Seeded random numbers: identical sequences in Deno, Bun and browsers.
 *
 * @module
 */

/** A seeded generator. */
export interface Rng {
  /** Uniform float in [0, 1). */
  next(): number;
  /** Uniform integer in [0, n). */
  int(n: number): number;
  /** Standard normal sample (Box-Muller). */
  normal(): number;
  /** Shuffle in place (Fisher-Yates) and return the same array. */
  shuffle<T>(items: T[]): T[];
  /** The current internal state, to resume a sequence later. */
  state(): number;
}

/**
 * Create a mulberry32 generator from a 32-bit seed.
 *
 * @param seed any integer (default 0)
 * @returns a seeded {@link Rng}
 * @example
 * ```ts
 * import { createRng } from "@likeness/core";
 * import assert from "node:assert/strict";
 * const rng = createRng(42);
 * assert.equal(rng.int(10), 6); // same seed, same draws, in Deno and in Bun
 * assert.deepEqual(rng.shuffle([1, 2, 3]), [1, 3, 2]);
 * ```
 */
export function createRng(seed = 0): Rng {
  let s = seed >>> 0;
  const next = (): number => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number): number => Math.floor(next() * n);
  return {
    next,
    int,
    normal(): number {
      let u = 0;
      while (u === 0) u = next();
      const v = next();
      return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
    },
    shuffle<T>(items: T[]): T[] {
      for (let i = items.length - 1; i > 0; i--) {
        const j = int(i + 1);
        const tmp = items[i];
        items[i] = items[j];
        items[j] = tmp;
      }
      return items;
    },
    state: () => s,
  };
}
