/**
 * Byte helpers shared by the packages that build files and hashes (the cache's content hash,
 * model identities, PNG encoding, request bodies, weight shards).
 *
 * @module
 */

/**
 * Concatenate byte arrays into one new array (a single part is still copied, so the result never
 * aliases an input).
 *
 * @param parts the arrays, in order
 * @returns their bytes end to end
 * @example
 * ```ts
 * import { concatBytes } from "@likeness/core";
 * import assert from "node:assert/strict";
 * assert.deepEqual(concatBytes([new Uint8Array([1, 2]), new Uint8Array([]), new Uint8Array([3])]), new Uint8Array([1, 2, 3]));
 * ```
 */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  let total = 0;
  for (const p of parts) total += p.length;
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
