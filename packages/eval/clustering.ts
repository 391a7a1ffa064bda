/**
 * Clustering quality: seeded k-means (k-means++ initialisation, Lloyd iterations),
 * normalized mutual information and adjusted mutual information (scikit-learn's definitions
 * with the arithmetic-mean normaliser, which pytorch-metric-learning calls).
 *
 * @module
 */
import { checkPositiveInt, createRng, type Matrix, ShapeError, toMatrix, ValueError } from "@likeness/core";
import type { EmbeddingsInput } from "./knn.ts";

/** Options for {@link kmeans}. */
export interface KMeansOptions {
  /** Seed of the initialisation (default 0). */
  seed?: number;
  /** Maximum Lloyd iterations (default 100). */
  maxIterations?: number;
  /** Independent restarts; the lowest inertia wins (default 1). */
  runs?: number;
}

/** Result of {@link kmeans}. */
export interface KMeansResult {
  /** Cluster id (0..k-1) per row. */
  assignments: Int32Array;
  /** k × D centroids, row-major. */
  centroids: Float64Array;
  /** Sum of squared distances to the assigned centroid. */
  inertia: number;
  /** Lloyd iterations of the winning run. */
  iterations: number;
}

/**
 * Seeded k-means on the rows of `data` (squared Euclidean), identical in Deno and Bun.
 *
 * @param data N×D rows
 * @param k number of clusters (1 ≤ k ≤ N)
 * @param options seed, iterations, restarts
 * @returns assignments, centroids and inertia
 * @throws {ValueError} INVALID_ARGUMENT for a bad k; K_TOO_LARGE when k > N
 * @example
 * ```ts
 * import { kmeans } from "@likeness/eval";
 * import assert from "node:assert/strict";
 * const r = kmeans([[0, 0], [0, 1], [10, 10], [10, 11]], 2, { seed: 1 });
 * assert.equal(r.assignments[0], r.assignments[1]);
 * assert.notEqual(r.assignments[0], r.assignments[2]);
 * ```
 */
export function kmeans(data: EmbeddingsInput, k: number, options: KMeansOptions = {}): KMeansResult {
  const m = toMatrix(data, "data");
  checkPositiveInt(k, "k");
  if (k > m.rows) {
    throw new ValueError("K_TOO_LARGE", `Cannot make ${k} clusters from ${m.rows} rows; lower k to at most ${m.rows}`);
  }
  const runs = checkPositiveInt(options.runs ?? 1, "runs");
  const rng = createRng(options.seed ?? 0);
  let best: KMeansResult | undefined;
  for (let run = 0; run < runs; run++) {
    const r = lloyd(m, k, rng.int(0x7fffffff), options.maxIterations ?? 100);
    if (!best || r.inertia < best.inertia) best = r;
  }
  return best!;
}

function sqDist(x: Float64Array, i: number, c: Float64Array, j: number, d: number): number {
  const xo = i * d;
  const co = j * d;
  let s = 0;
  for (let t = 0; t < d; t++) {
    const v = x[xo + t] - c[co + t];
    s += v * v;
  }
  return s;
}

function lloyd(m: Matrix, k: number, seed: number, maxIterations: number): KMeansResult {
  const rng = createRng(seed);
  const n = m.rows;
  const d = m.cols;
  const x = Float64Array.from(m.data);
  const centroids = new Float64Array(k * d);
  const setCentroid = (j: number, i: number) => centroids.set(x.subarray(i * d, (i + 1) * d), j * d);
  // k-means++ initialisation.
  setCentroid(0, rng.int(n));
  const closest = new Float64Array(n).fill(Infinity);
  for (let j = 1; j < k; j++) {
    let total = 0;
    for (let i = 0; i < n; i++) {
      const v = sqDist(x, i, centroids, j - 1, d);
      if (v < closest[i]) closest[i] = v;
      total += closest[i];
    }
    let pick = n - 1;
    if (total > 0) {
      let u = rng.next() * total;
      for (let i = 0; i < n; i++) {
        u -= closest[i];
        if (u < 0) {
          pick = i;
          break;
        }
      }
    } else pick = rng.int(n);
    setCentroid(j, pick);
  }
  const assignments = new Int32Array(n).fill(-1);
  const counts = new Int32Array(k);
  let iterations = 0;
  let inertia = 0;
  for (let it = 0; it < maxIterations; it++) {
    iterations = it + 1;
    let changed = false;
    inertia = 0;
    for (let i = 0; i < n; i++) {
      let bj = 0;
      let bd = Infinity;
      for (let j = 0; j < k; j++) {
        const v = sqDist(x, i, centroids, j, d);
        if (v < bd) {
          bd = v;
          bj = j;
        }
      }
      inertia += bd;
      if (assignments[i] !== bj) {
        assignments[i] = bj;
        changed = true;
      }
    }
    if (!changed) break;
    centroids.fill(0);
    counts.fill(0);
    for (let i = 0; i < n; i++) {
      const co = assignments[i] * d;
      counts[assignments[i]]++;
      for (let t = 0; t < d; t++) centroids[co + t] += x[i * d + t];
    }
    for (let j = 0; j < k; j++) {
      if (counts[j] === 0) {
        setCentroid(j, rng.int(n)); // re-seed an empty cluster
        continue;
      }
      for (let t = 0; t < d; t++) centroids[j * d + t] /= counts[j];
    }
  }
  return { assignments, centroids, inertia, iterations };
}

interface Contingency {
  n: number;
  a: number[];
  b: number[];
  cells: Map<number, number>;
  nb: number;
}

function contingency(truth: ArrayLike<number>, pred: ArrayLike<number>): Contingency {
  if (truth.length !== pred.length) {
    throw new ShapeError(
      `Cannot compare clusterings: ${truth.length} true labels but ${pred.length} cluster labels; pass one each per item`,
      "LABEL_MISMATCH",
    );
  }
  if (truth.length === 0) throw new ShapeError("Cannot compare clusterings: no items", "EMPTY_INPUT");
  const ta = new Map<number, number>();
  const pb = new Map<number, number>();
  const ti = new Int32Array(truth.length);
  const pi = new Int32Array(truth.length);
  for (let i = 0; i < truth.length; i++) {
    if (!ta.has(truth[i])) ta.set(truth[i], ta.size);
    if (!pb.has(pred[i])) pb.set(pred[i], pb.size);
    ti[i] = ta.get(truth[i])!;
    pi[i] = pb.get(pred[i])!;
  }
  const a = new Array<number>(ta.size).fill(0);
  const b = new Array<number>(pb.size).fill(0);
  const cells = new Map<number, number>();
  for (let i = 0; i < truth.length; i++) {
    a[ti[i]]++;
    b[pi[i]]++;
    const key = ti[i] * pb.size + pi[i];
    cells.set(key, (cells.get(key) ?? 0) + 1);
  }
  return { n: truth.length, a, b, cells, nb: pb.size };
}

function entropy(counts: number[], n: number): number {
  let h = 0;
  for (const c of counts) if (c > 0) h -= (c / n) * Math.log(c / n);
  return h;
}

function mutualInfo(c: Contingency): number {
  let mi = 0;
  for (const [key, nij] of c.cells) {
    const i = Math.floor(key / c.nb);
    const j = key % c.nb;
    mi += (nij / c.n) * Math.log((c.n * nij) / (c.a[i] * c.b[j]));
  }
  return Math.max(mi, 0);
}

/**
 * Normalized mutual information between true labels and cluster labels, with the arithmetic
 * mean of the two entropies as normaliser (scikit-learn's default). 1 when both are a single
 * cluster.
 *
 * @param truth true class per item
 * @param pred cluster per item
 * @returns NMI in [0, 1]
 * @throws {ShapeError} LABEL_MISMATCH when lengths differ; EMPTY_INPUT when empty
 * @example
 * ```ts
 * import { normalizedMutualInfo } from "@likeness/eval";
 * import assert from "node:assert/strict";
 * assert.ok(Math.abs(normalizedMutualInfo([0, 0, 1, 1], [1, 1, 0, 0]) - 1) < 1e-12);
 * ```
 */
export function normalizedMutualInfo(truth: ArrayLike<number>, pred: ArrayLike<number>): number {
  const c = contingency(truth, pred);
  if ((c.a.length === 1 && c.b.length === 1) || (c.a.length === c.n && c.b.length === c.n)) return 1;
  const mi = mutualInfo(c);
  const norm = (entropy(c.a, c.n) + entropy(c.b, c.n)) / 2;
  return norm === 0 ? 0 : Math.min(1, mi / norm);
}

/**
 * Adjusted mutual information (corrected for chance; scikit-learn's definition, arithmetic
 * normaliser): `(MI - E[MI]) / (mean(H(U), H(V)) - E[MI])`.
 *
 * @param truth true class per item
 * @param pred cluster per item
 * @returns AMI (1 for identical clusterings, about 0 for random ones)
 * @throws {ShapeError} LABEL_MISMATCH when lengths differ; EMPTY_INPUT when empty
 * @example
 * ```ts
 * import { adjustedMutualInfo } from "@likeness/eval";
 * import assert from "node:assert/strict";
 * assert.ok(Math.abs(adjustedMutualInfo([0, 0, 1, 1], [1, 1, 0, 0]) - 1) < 1e-12);
 * ```
 */
export function adjustedMutualInfo(truth: ArrayLike<number>, pred: ArrayLike<number>): number {
  const c = contingency(truth, pred);
  if ((c.a.length === 1 && c.b.length === 1) || (c.a.length === c.n && c.b.length === c.n)) return 1;
  const mi = mutualInfo(c);
  const emi = expectedMutualInfo(c.a, c.b, c.n);
  const norm = (entropy(c.a, c.n) + entropy(c.b, c.n)) / 2;
  let denom = norm - emi;
  const eps = Number.EPSILON;
  denom = denom < 0 ? Math.min(denom, -eps) : Math.max(denom, eps);
  return (mi - emi) / denom;
}

function expectedMutualInfo(a: number[], b: number[], n: number): number {
  const lf = new Float64Array(n + 1); // log factorials
  for (let i = 2; i <= n; i++) lf[i] = lf[i - 1] + Math.log(i);
  let emi = 0;
  for (const ai of a) {
    for (const bj of b) {
      const lo = Math.max(1, ai + bj - n);
      const hi = Math.min(ai, bj);
      const fixed = lf[ai] + lf[bj] + lf[n - ai] + lf[n - bj] - lf[n];
      for (let nij = lo; nij <= hi; nij++) {
        const logP = fixed - lf[nij] - lf[ai - nij] - lf[bj - nij] - lf[n - ai - bj + nij];
        emi += (nij / n) * Math.log((n * nij) / (ai * bj)) * Math.exp(logP);
      }
    }
  }
  return emi;
}
