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
