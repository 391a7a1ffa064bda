/**
 * Data the benches share.
 *
 * @module
 */
import type { Matrix, Rng } from "@likeness/core";

/** `n` random unit vectors of `d` values (normal draws from `rng`, scaled to length 1). */
export function unitRows(rng: Rng, n: number, d: number): Matrix {
  const data = new Float32Array(n * d);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let t = 0; t < d; t++) s += (data[i * d + t] = rng.normal()) ** 2;
    const inv = 1 / Math.sqrt(s);
    for (let t = 0; t < d; t++) data[i * d + t] *= inv;
  }
  return { data, rows: n, cols: d };
}

/**
 * A synthetic clustered set (the `clustered-128-euclidean` rows of `bench:ann`): 100 centres with
 * normal coordinates × 4, each row a centre drawn uniformly plus unit normal noise; `n` index rows
 * then `nq` queries from the same clusters, all from `rng` (seeded: the same set in Deno and Bun).
 */
export function clusteredRows(rng: Rng, n: number, nq: number, dim: number): { train: Matrix; queries: Matrix } {
  const centers = Array.from({ length: 100 }, () => Float32Array.from({ length: dim }, () => rng.normal() * 4));
  const make = (rows: number): Matrix => {
    const data = new Float32Array(rows * dim);
    for (let i = 0; i < rows; i++) {
      const c = centers[rng.int(100)];
      for (let k = 0; k < dim; k++) data[i * dim + k] = c[k] + rng.normal();
    }
    return { data, rows, cols: dim };
  };
  return { train: make(n), queries: make(nq) };
}
