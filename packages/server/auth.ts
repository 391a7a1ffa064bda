/**
 * Constant-time token comparison.
 *
 * @module
 */

/**
 * Compare two strings in time that depends only on their lengths' maximum, not on where they differ.
 *
 * @param a candidate
 * @param b secret
 * @returns whether they are equal
 * @example
 * ```ts
 * import { timingSafeEqualStrings } from "@likeness/server";
 * console.log(timingSafeEqualStrings("abc", "abc")); // true
 * ```
 */
export function timingSafeEqualStrings(a: string, b: string): boolean {
  const x = new TextEncoder().encode(a);
  const y = new TextEncoder().encode(b);
  const n = Math.max(x.length, y.length);
  let diff = x.length ^ y.length;
  for (let i = 0; i < n; i++) diff |= (x[i % (x.length || 1)] ?? 0) ^ (y[i % (y.length || 1)] ?? 0);
  return diff === 0;
}
