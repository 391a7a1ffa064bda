/**
 * Private helpers of the sentence-transformers-style losses: pair and score validation.
 *
 * @module
 */
import { ShapeError, ValueError } from "@likeness/core";
import type { LossTarget } from "../types.ts";

/**
 * Pairs of row indices from a target, checked against the batch size.
 *
 * @param target loss target
 * @param n number of rows
 * @param loss loss name
 * @returns [first rows, second rows]
 */
export function _pairRows(target: LossTarget | undefined, n: number, loss: string): [number[], number[]] {
  const pairs = target?.pairs;
  if (!pairs || pairs.length === 0) {
    throw new ValueError("INVALID_ARGUMENT", `Cannot compute ${loss}: pass target.pairs ([row a, row b] per pair)`);
  }
  const a: number[] = [];
  const b: number[] = [];
  for (let k = 0; k < pairs.length; k++) {
    const p = pairs[k];
    if (!p || p.length !== 2) throw new ShapeError(`Cannot compute ${loss}: pair ${k} is not [a, b]`);
    for (const i of p) {
      if (!Number.isInteger(i) || i < 0 || i >= n) {
        throw new ValueError(
          "OUT_OF_RANGE",
          `Cannot compute ${loss}: pair ${k} refers to row ${i} but the batch has ${n} rows`,
        );
      }
    }
    a.push(p[0]);
    b.push(p[1]);
  }
  return [a, b];
}

/**
 * One finite score per pair.
 *
 * @param target loss target
 * @param count number of pairs
 * @param loss loss name
 * @returns the scores
 */
export function _scores(target: LossTarget | undefined, count: number, loss: string): readonly number[] {
  const s = target?.scores;
  if (!s) throw new ValueError("INVALID_ARGUMENT", `Cannot compute ${loss}: pass target.scores (one score per pair)`);
  if (s.length !== count) {
    throw new ShapeError(
      `Cannot compute ${loss}: got ${s.length} scores for ${count} pairs; pass one score per pair`,
      "LABEL_MISMATCH",
    );
  }
  for (let i = 0; i < s.length; i++) {
    if (typeof s[i] !== "number" || !Number.isFinite(s[i])) {
      throw new ValueError(
        "NON_FINITE",
        `Cannot compute ${loss}: score ${i} is ${s[i]}; scores must be finite numbers`,
      );
    }
  }
  return s;
}
