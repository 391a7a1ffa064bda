/**
 * "Did you mean …?" suggestions by edit distance, for unknown names and keys in configs.
 *
 * @module
 */

/**
 * Optimal-string-alignment edit distance (insertions, deletions, substitutions and swaps of
 * two neighbouring characters each cost 1), case-insensitive.
 *
 * @param a first string
 * @param b second string
 * @returns the number of edits turning `a` into `b`
 * @example
 * ```ts
 * import { editDistance } from "@likeness/core";
 * import assert from "node:assert/strict";
 * assert.equal(editDistance("TriplteMarginLoss", "TripletMarginLoss"), 1);
 * ```
 */
export function editDistance(a: string, b: string): number {
  const s = a.toLowerCase(), t = b.toLowerCase();
  const n = s.length, m = t.length;
  if (n === 0) return m;
  if (m === 0) return n;
  let prev2 = new Array<number>(m + 1).fill(0);
  let prev = Array.from({ length: m + 1 }, (_, j) => j);
  for (let i = 1; i <= n; i++) {
    const cur = new Array<number>(m + 1);
    cur[0] = i;
    for (let j = 1; j <= m; j++) {
      const cost = s[i - 1] === t[j - 1] ? 0 : 1;
      let d = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost);
      if (i > 1 && j > 1 && s[i - 1] === t[j - 2] && s[i - 2] === t[j - 1]) d = Math.min(d, prev2[j - 2] + 1);
      cur[j] = d;
    }
    prev2 = prev;
    prev = cur;
  }
  return prev[m];
}

/**
 * The closest candidate to `input`, when it is close enough to be a likely typo: at most
 * max(2, a third of the longer name) edits away, or equal ignoring case and `-`/`_`.
 *
 * @param input what the user wrote
 * @param candidates the valid names
 * @returns the best candidate, or undefined when none is close
 * @example
 * ```ts
 * import { suggest } from "@likeness/core";
 * import assert from "node:assert/strict";
 * assert.equal(suggest("epoch", ["epochs", "batchSize"]), "epochs");
 * assert.equal(suggest("zzz", ["epochs"]), undefined);
 * ```
 */
export function suggest(input: string, candidates: readonly string[]): string | undefined {
  const squash = (x: string) => x.toLowerCase().replace(/[-_ ]/g, "");
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    if (squash(c) === squash(input)) return c;
    const d = editDistance(input, c);
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  if (best === undefined) return undefined;
  const limit = Math.max(2, Math.floor(Math.max(input.length, best.length) / 3));
  return bestD <= limit ? best : undefined;
}

/**
 * The tail of an "unknown name" message: `; did you mean "x"?` or `; use one of a, b, c`.
 *
 * @param input what the user wrote
 * @param candidates the valid names
 * @returns the hint text, starting with "; "
 * @example
 * ```ts
 * import { didYouMean } from "@likeness/core";
 * import assert from "node:assert/strict";
 * assert.equal(didYouMean("adma", ["adam", "sgd"]), '; did you mean "adam"?');
 * ```
 */
export function didYouMean(input: string, candidates: readonly string[]): string {
  const s = suggest(input, candidates);
  if (s !== undefined) return `; did you mean "${s}"?`;
  const list = candidates.length > 12 ? `${candidates.slice(0, 12).join(", ")}, ...` : candidates.join(", ");
  return `; use one of ${list}`;
}
