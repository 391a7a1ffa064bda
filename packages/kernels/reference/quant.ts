/**
 * Plain-TS references for the quantised-code kernel family (`kernels/quant`): int8 dot products,
 * Hamming distances over sign bits and the selection of the m best code rows. The spec and test
 * oracle of the WebAssembly builds; integer arithmetic is exact, keys are float64.
 *
 * @module
 */

/**
 * Integer dot product of query codes and one int8 code row.
 *
 * @param q query codes (integers, one per dimension)
 * @param codes int8 code rows
 * @param offset first element of the row in `codes`
 * @param dim dimensions
 * @returns Σ q[d] · codes[offset + d]
 * @example
 * ```ts
 * import { int8DotRef } from "@likeness/kernels/reference";
 * import assert from "node:assert/strict";
 * assert.equal(int8DotRef([1, -2], new Int8Array([3, 4]), 0, 2), -5);
 * ```
 */
export function int8DotRef(q: ArrayLike<number>, codes: Int8Array, offset: number, dim: number): number {
  let s = 0;
  for (let d = 0; d < dim; d++) s += q[d] * codes[offset + d];
  return s;
}

/**
 * Hamming distance between two bit rows stored as 32-bit words (bit d in word d >> 5).
 *
 * @param a first row's words
 * @param ao first word of `a`
 * @param b second row's words
 * @param bo first word of `b`
 * @param bits bits to compare (the words hold at least that many)
 * @returns the number of differing bits among the first `bits`
 * @example
 * ```ts
 * import { hammingRef } from "@likeness/kernels/reference";
 * import assert from "node:assert/strict";
 * assert.equal(hammingRef(new Uint32Array([0b1011]), 0, new Uint32Array([0b0110]), 0, 4), 3);
 * ```
 */
export function hammingRef(a: Uint32Array, ao: number, b: Uint32Array, bo: number, bits: number): number {
  let h = 0;
  for (let d = 0; d < bits; d++) {
    const x = (a[ao + (d >>> 5)] >>> (d & 31)) & 1, y = (b[bo + (d >>> 5)] >>> (d & 31)) & 1;
    if (x !== y) h++;
  }
  return h;
}

/**
 * The `m` eligible positions with the smallest keys, best first, ties to the lower position
 * (-1 padding when fewer are eligible): a stable sort, written for clarity.
 *
 * @param keys one float64 key per position
 * @param m how many
 * @param eligible one byte per position (non-zero = eligible), or null
 * @returns positions, length m
 * @example
 * ```ts
 * import { smallestKeysRef } from "@likeness/kernels/reference";
 * import assert from "node:assert/strict";
 * assert.deepEqual([...smallestKeysRef([3, 1, 2, 1], 3, null)], [1, 3, 2]);
 * ```
 */
export function smallestKeysRef(keys: ArrayLike<number>, m: number, eligible: Uint8Array | null): Int32Array {
  const order: number[] = [];
  for (let p = 0; p < keys.length; p++) if (!eligible || eligible[p]) order.push(p);
  order.sort((a, b) => keys[a] - keys[b] || a - b);
  const out = new Int32Array(m).fill(-1);
  for (let t = 0; t < Math.min(m, order.length); t++) out[t] = order[t];
  return out;
}

/**
 * Keys of the int8 scan for one query: `-(dot · scale)` (mode 0: dot and cosine) or
 * `sq[p] - 2 · (dot · scale)` (mode 1: distances), in that float64 order.
 *
 * @param dots integer dot products, one per code row
 * @param scale the query's scale
 * @param sq squared norm per code row (mode 1)
 * @param mode 0 or 1
 * @returns one key per code row
 * @example
 * ```ts
 * import { int8KeysRef } from "@likeness/kernels/reference";
 * import assert from "node:assert/strict";
 * assert.deepEqual([...int8KeysRef([2, 5], 0.5, null, 0)], [-1, -2.5]);
 * ```
 */
export function int8KeysRef(
  dots: ArrayLike<number>,
  scale: number,
  sq: ArrayLike<number> | null,
  mode: 0 | 1,
): Float64Array {
  return Float64Array.from(dots, (a, p) => mode === 0 ? -(a * scale) : sq![p] - 2 * (a * scale));
}
