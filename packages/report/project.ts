/**
 * 2-D projections of embeddings for the report's map: PCA by power iteration with deflation,
 * and a small exact t-SNE, both seeded and computed in float64.
 *
 * @module
 */
import {
  checkFiniteNumber,
  checkOneOf,
  checkPositiveInt,
  createRng,
  type Matrix,
  toMatrix,
  ValueError,
} from "@likeness/core";

/** Projection methods. */
export type ProjectionMethod = "pca" | "tsne";

/** Options for {@link project2d}. */
export interface Project2dOptions {
  /** `pca` (default) or `tsne`. */
  method?: ProjectionMethod;
  /** Seed of the start vectors (PCA) or the initial layout (t-SNE) (default 0). */
  seed?: number;
  /** PCA: maximum power iterations per component (default 500). t-SNE: gradient steps (default 500). */
  iterations?: number;
  /** t-SNE perplexity, roughly the number of neighbours kept (default `min(30, (n - 1) / 3)`). */
  perplexity?: number;
  /** t-SNE refuses more points than this, as it costs O(n²) per step (default 2000). */
  maxPoints?: number;
}

/** Result of {@link project2d}. */
export interface Projection2d {
  /** One `[x, y]` per input row, in input order. */
  points: [number, number][];
  /** The method used. */
  method: ProjectionMethod;
  /** PCA only: fraction of the total variance along each of the two axes. */
  explainedVariance?: [number, number];
}

/**
 * Project embeddings to two dimensions for plotting.
 *
 * - `pca`: the data are centred, then the two leading principal axes are found by power
 *   iteration on `XᵀX` (never formed) with deflation of the first axis; each axis's sign is
 *   fixed so that its largest-magnitude coordinate is positive, so the result does not depend
 *   on the seed beyond float rounding.
 * - `tsne`: exact t-SNE (Gaussian affinities calibrated to the perplexity by bisection,
 *   Student-t similarities in 2-D, early exaggeration, momentum and adaptive gains), seeded;
 *   costs O(n²) per step, so it is limited to `maxPoints` rows.
 *
 * @param embeddings `n × d` embeddings, nested arrays or a {@link Matrix}
 * @param options method, seed, iterations, perplexity, maxPoints
 * @returns one 2-D point per row
 * @throws {ShapeError} EMPTY_INPUT / SHAPE_MISMATCH for empty or ragged input
 * @throws {ValueError} NON_FINITE, UNKNOWN_NAME (method), INVALID_ARGUMENT (iterations, perplexity),
 *   TOO_LARGE (t-SNE over `maxPoints` rows)
 * @example
 * ```ts
 * import { project2d } from "@likeness/report";
 * const p = project2d([[1, 0, 0], [2, 0.1, 0], [3, 0, 0.1]], { method: "pca", seed: 1 });
 * console.log(p.points.length, p.explainedVariance); // 3 [~0.99, ...]
 * ```
 */
export function project2d(embeddings: number[][] | Matrix, options: Project2dOptions = {}): Projection2d {
  const m = toMatrix(embeddings, "embeddings");
  const method = checkOneOf(options.method ?? "pca", ["pca", "tsne"] as const, "projection method");
  const seed = options.seed ?? 0;
  if (method === "pca") return _pca(m, seed, checkPositiveInt(options.iterations ?? 500, "iterations"));
  const maxPoints = options.maxPoints ?? 2000;
  if (m.rows > maxPoints) {
    throw new ValueError(
      "TOO_LARGE",
      `Cannot run t-SNE on ${m.rows} points: the limit is ${maxPoints}; subsample the points, raise maxPoints, or use method "pca"`,
      { details: { rows: m.rows, maxPoints } },
    );
  }
  const iterations = checkPositiveInt(options.iterations ?? 500, "iterations");
  const perplexity = checkFiniteNumber(
    options.perplexity ?? Math.max(1, Math.min(30, (m.rows - 1) / 3)),
    "perplexity",
    "project2d t-SNE",
    { min: 0, minExclusive: true },
  );
  return _tsne(m, seed, iterations, perplexity);
}

function _centred(m: Matrix): Float64Array {
  const { rows, cols } = m;
  const x = new Float64Array(rows * cols);
  const mean = new Float64Array(cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) mean[j] += m.data[i * cols + j];
  for (let j = 0; j < cols; j++) mean[j] /= rows;
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) x[i * cols + j] = m.data[i * cols + j] - mean[j];
  return x;
}

/** y = Xᵀ(X v), i.e. (XᵀX) v without forming XᵀX. */
function _gram(x: Float64Array, rows: number, cols: number, v: Float64Array, out: Float64Array): void {
  out.fill(0);
  for (let i = 0; i < rows; i++) {
    let s = 0;
    const o = i * cols;
    for (let j = 0; j < cols; j++) s += x[o + j] * v[j];
    for (let j = 0; j < cols; j++) out[j] += s * x[o + j];
  }
}

function _dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

function _normalize(v: Float64Array): number {
  const n = Math.sqrt(_dot(v, v));
  if (n > 0) { for (let i = 0; i < v.length; i++) v[i] /= n; }
  return n;
}

function _pca(m: Matrix, seed: number, iterations: number): Projection2d {
  const { rows, cols } = m;
  const x = _centred(m);
  let total = 0;
  for (let i = 0; i < x.length; i++) total += x[i] * x[i];
  const rng = createRng(seed);
  const axes: Float64Array[] = [];
  const eig: number[] = [];
  const tmp = new Float64Array(cols);
  for (let c = 0; c < 2; c++) {
    const v = new Float64Array(cols);
    if (c >= cols) {
      axes.push(v); // fewer than two input dimensions: the second axis is all zeros
      eig.push(0);
      continue;
    }
    for (let j = 0; j < cols; j++) v[j] = rng.normal();
    const deflate = (w: Float64Array): void => {
      for (const a of axes) {
        const p = _dot(w, a);
        for (let j = 0; j < cols; j++) w[j] -= p * a[j];
      }
    };
    deflate(v);
    _normalize(v);
    let lambda = 0;
    for (let it = 0; it < iterations; it++) {
      _gram(x, rows, cols, v, tmp);
      deflate(tmp); // deflation: remove the components already found
      lambda = _normalize(tmp);
      if (lambda === 0) break;
      let diff = 0;
      for (let j = 0; j < cols; j++) diff = Math.max(diff, Math.abs(tmp[j] - v[j]));
      v.set(tmp);
      if (diff < 1e-10) break;
    }
    // Fix the sign: largest-magnitude coordinate positive.
    let big = 0;
    for (let j = 1; j < cols; j++) if (Math.abs(v[j]) > Math.abs(v[big])) big = j;
    if (v[big] < 0) { for (let j = 0; j < cols; j++) v[j] = -v[j]; }
    axes.push(v);
    eig.push(lambda);
  }
  const points: [number, number][] = [];
  for (let i = 0; i < rows; i++) {
    let a = 0;
    let b = 0;
    const o = i * cols;
    for (let j = 0; j < cols; j++) {
      a += x[o + j] * axes[0][j];
      b += x[o + j] * axes[1][j];
    }
    points.push([a, b]);
  }
  const explainedVariance: [number, number] = total > 0 ? [eig[0] / total, eig[1] / total] : [0, 0];
  return { points, method: "pca", explainedVariance };
}

/** Squared Euclidean distances, n × n. */
function _sqdist(m: Matrix): Float64Array {
  const { rows: n, cols } = m;
  const d = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let k = i + 1; k < n; k++) {
      let s = 0;
      for (let j = 0; j < cols; j++) {
        const t = m.data[i * cols + j] - m.data[k * cols + j];
        s += t * t;
      }
      d[i * n + k] = s;
      d[k * n + i] = s;
    }
  }
  return d;
}

/** Symmetric joint probabilities P with the given perplexity (bisection on each row's precision). */
function _affinities(d: Float64Array, n: number, perplexity: number): Float64Array {
  const p = new Float64Array(n * n);
  const target = Math.log(perplexity);
  const row = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let beta = 1;
    let lo = -Infinity;
    let hi = Infinity;
    // Scale by the row's mean distance so that beta starts near the right magnitude.
    let mean = 0;
    for (let k = 0; k < n; k++) if (k !== i) mean += d[i * n + k];
    mean = mean / Math.max(1, n - 1) || 1;
    for (let it = 0; it < 64; it++) {
      let sum = 0;
      let hsum = 0;
      for (let k = 0; k < n; k++) {
        if (k === i) {
          row[k] = 0;
          continue;
        }
        const v = Math.exp(-beta * d[i * n + k] / mean);
        row[k] = v;
        sum += v;
        hsum += v * d[i * n + k] / mean;
      }
      if (sum === 0) {
        hi = beta;
        beta = Number.isFinite(lo) ? (lo + hi) / 2 : beta / 2;
        continue;
      }
      const entropy = Math.log(sum) + beta * hsum / sum;
      for (let k = 0; k < n; k++) row[k] /= sum;
      const diff = entropy - target;
      if (Math.abs(diff) < 1e-5) break;
      if (diff > 0) {
        lo = beta;
        beta = Number.isFinite(hi) ? (beta + hi) / 2 : beta * 2;
      } else {
        hi = beta;
        beta = Number.isFinite(lo) ? (beta + lo) / 2 : beta / 2;
      }
    }
    for (let k = 0; k < n; k++) p[i * n + k] = row[k];
  }
  // Symmetrise and normalise.
  for (let i = 0; i < n; i++) {
    for (let k = i + 1; k < n; k++) {
      const v = Math.max((p[i * n + k] + p[k * n + i]) / (2 * n), 1e-12);
      p[i * n + k] = v;
      p[k * n + i] = v;
    }
    p[i * n + i] = 0;
  }
  return p;
}

function _tsne(m: Matrix, seed: number, iterations: number, perplexity: number): Projection2d {
  const n = m.rows;
  if (n < 3) {
    // Too few points for affinities: fall back to PCA, which is exact here.
    return { points: _pca(m, seed, 500).points, method: "tsne" };
  }
  const p = _affinities(_sqdist(m), n, perplexity);
  const rng = createRng(seed);
  const y = new Float64Array(2 * n);
  for (let i = 0; i < 2 * n; i++) y[i] = rng.normal() * 1e-4;
  const vel = new Float64Array(2 * n);
  const gains = new Float64Array(2 * n).fill(1);
  const grad = new Float64Array(2 * n);
  const q = new Float64Array(n * n);
  const lr = Math.max(n / 12, 50);
  const exaggerationSteps = Math.min(250, Math.floor(iterations / 4));
  for (let it = 0; it < iterations; it++) {
    const ex = it < exaggerationSteps ? 12 : 1;
    const momentum = it < exaggerationSteps ? 0.5 : 0.8;
    let qsum = 0;
    for (let i = 0; i < n; i++) {
      for (let k = i + 1; k < n; k++) {
        const dx = y[2 * i] - y[2 * k];
        const dy = y[2 * i + 1] - y[2 * k + 1];
        const v = 1 / (1 + dx * dx + dy * dy);
        q[i * n + k] = v;
        q[k * n + i] = v;
        qsum += 2 * v;
      }
    }
    grad.fill(0);
    for (let i = 0; i < n; i++) {
      let gx = 0;
      let gy = 0;
      for (let k = 0; k < n; k++) {
        if (k === i) continue;
        const w = q[i * n + k];
        const f = (ex * p[i * n + k] - w / qsum) * w;
        gx += f * (y[2 * i] - y[2 * k]);
        gy += f * (y[2 * i + 1] - y[2 * k + 1]);
      }
      grad[2 * i] = 4 * gx;
      grad[2 * i + 1] = 4 * gy;
    }
    for (let i = 0; i < 2 * n; i++) {
      gains[i] = Math.sign(grad[i]) !== Math.sign(vel[i]) ? gains[i] + 0.2 : Math.max(gains[i] * 0.8, 0.01);
      vel[i] = momentum * vel[i] - lr * gains[i] * grad[i];
      y[i] += vel[i];
    }
    // Re-centre.
    let mx = 0;
    let my = 0;
    for (let i = 0; i < n; i++) {
      mx += y[2 * i];
      my += y[2 * i + 1];
    }
    mx /= n;
    my /= n;
    for (let i = 0; i < n; i++) {
      y[2 * i] -= mx;
      y[2 * i + 1] -= my;
    }
  }
  const points: [number, number][] = [];
  for (let i = 0; i < n; i++) points.push([y[2 * i], y[2 * i + 1]]);
  return { points, method: "tsne" };
}
