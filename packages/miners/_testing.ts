/**
 * Private helpers for the miner tests: seeded embeddings and float64 brute-force distances.
 *
 * @module
 */
import { createRng, type Label, type LabelMatcher, type Matrix } from "@likeness/core";

/**
 * Seeded Gaussian embeddings.
 *
 * @param rows number of rows
 * @param cols number of columns
 * @param seed seed
 * @returns a float32 matrix
 */
export function randomMatrix(rows: number, cols: number, seed: number): Matrix {
  const rng = createRng(seed);
  const data = new Float32Array(rows * cols);
  for (let i = 0; i < data.length; i++) data[i] = rng.normal();
  return { data, rows, cols };
}

/**
 * Brute-force all-pairs measure in float64.
 *
 * @param m embeddings
 * @param kind "lp" (L2 of normalised rows) or "cos" (cosine similarity)
 * @returns dist[i][j]
 */
export function bruteDist(m: Matrix, kind: "lp" | "cos"): number[][] {
  const rows: number[][] = [];
  for (let i = 0; i < m.rows; i++) {
    const r = Array.from(m.data.subarray(i * m.cols, (i + 1) * m.cols));
    const n = Math.sqrt(r.reduce((s, v) => s + v * v, 0));
    rows.push(r.map((v) => v / n));
  }
  return rows.map((a) =>
    rows.map((b) => {
      if (kind === "cos") return a.reduce((s, v, k) => s + v * b[k], 0);
      return Math.sqrt(a.reduce((s, v, k) => s + (v - b[k]) ** 2, 0));
    })
  );
}

/**
 * Brute-force positive relation (i ≠ j and labels match).
 *
 * @param labels labels
 * @param match matcher
 * @returns isPos(i, j)
 */
export function positives(labels: readonly Label[], match: LabelMatcher): (i: number, j: number) => boolean {
  return (i, j) => i !== j && match(labels[i], labels[j]);
}

/**
 * Sort tuples for set comparison.
 *
 * @param xs tuples
 * @returns sorted string keys
 */
export function keys(xs: readonly (readonly number[])[] | undefined): string[] {
  return (xs ?? []).map((x) => x.join(",")).sort();
}
