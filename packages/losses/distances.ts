/**
 * Distances as objects: cosine, dot, euclidean, squared euclidean and manhattan, each knowing
 * whether smaller means closer, with an all-pairs `matrix` and a `rowwise` form.
 *
 * Options cover both peers' conventions: Quaterion's cosine matrix is `(1 - cos) / 2`
 * (`scale: "half"`), pytorch-metric-learning's default is the L2 distance between
 * L2-normalised embeddings (`distance("euclidean", { normalize: true })`).
 *
 * @module
 */
import { tf } from "@likeness/tf";
import { checkFiniteNumber, checkName, checkOneOf, DISTANCE_ALIASES, ShapeError, ValueError } from "@likeness/core";
import { greaterMask } from "./grad_utils.ts";
import { _matMul } from "./_matmul.ts";

/** Names accepted by {@link distance}. */
export type DistanceName = "cosine" | "dot" | "euclidean" | "squared_euclidean" | "manhattan";

/** Peer and backend spellings {@link distance} accepts for a {@link DistanceName} (core's `DISTANCE_ALIASES`). */
export type DistanceAlias =
  | "l2"
  | "lp"
  | "sqeuclidean"
  | "lp_squared"
  | "l1"
  | "cityblock"
  | "cosine_similarity"
  | "dot_product";

/** Every distance name, in documentation order. */
export const DISTANCE_NAMES: readonly DistanceName[] = ["cosine", "dot", "euclidean", "squared_euclidean", "manhattan"];

/** Options of {@link distance}. */
export interface DistanceOptions {
  /** L2-normalise rows before measuring (pml's `normalize_embeddings`). Default false (cosine normalises anyway). */
  normalize?: boolean;
  /** Raise the distance to this power (pml's `power`). Default 1. Only for euclidean and manhattan. */
  power?: number;
  /**
   * Cosine only: `"full"` (default) gives `1 - cos` in [0, 2] and similarity `cos`; `"half"` gives
   * Quaterion's matrix form `(1 - cos) / 2` in [0, 1] and similarity `(1 + cos) / 2`.
   */
  scale?: "full" | "half";
  /**
   * What `matrix` and `rowwise` return: `"distance"` (default; smaller is closer) or `"similarity"`
   * (larger is closer: cos, dot, or `1 / (1 + d)` for euclidean and manhattan, as Quaterion defines it).
   */
  kind?: "distance" | "similarity";
  /** Floor used by the gradient-safe square root and by normalisation. Default 1e-12. */
  eps?: number;
}

/** A distance (or similarity) measure between embedding rows. */
export interface Distance {
  /** Which measure. */
  readonly name: DistanceName;
  /** True when smaller values of `matrix`/`rowwise` mean closer (a distance), false for a similarity. */
  readonly smallerIsCloser: boolean;
  /** The resolved options. */
  readonly options: Readonly<Required<DistanceOptions>>;
  /**
   * All pairs: `out[i][j]` measures row i of `a` against row j of `b` (of `a` when `b` is omitted;
   * then the diagonal of a distance is exactly 0).
   * @param a B×D
   * @param b R×D (default `a`)
   * @returns B×R
   */
  matrix(a: tf.Tensor2D, b?: tf.Tensor2D): tf.Tensor2D;
  /**
   * Row i of `a` against row i of `b`.
   * @param a B×D
   * @param b B×D
   * @returns length B
   */
  rowwise(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor1D;
  /** All-pairs similarity (larger is closer), whatever `kind` is. */
  similarityMatrix(a: tf.Tensor2D, b?: tf.Tensor2D): tf.Tensor2D;
  /** Row-wise similarity (larger is closer), whatever `kind` is. */
  similarityRowwise(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor1D;
}

/**
 * Gradient-safe square root: `sqrt(x)` for `x > eps`, exactly 0 (with zero gradient) otherwise,
 * so a zero distance never produces a NaN or infinite gradient.
 *
 * @param x non-negative values (small negatives from rounding are treated as 0)
 * @param eps floor (default 1e-12)
 * @returns elementwise safe square root
 * @example
 * ```ts
 * import { tf } from "@likeness/tf";
 * import { safeSqrt } from "@likeness/losses";
 * const g = tf.grad((x: tf.Tensor) => tf.sum(safeSqrt(x)))(tf.tensor([0, 4]));
 * console.log(await g.data()); // Float32Array [0, 0.25]
 * ```
 */
export function safeSqrt<T extends tf.Tensor>(x: T, eps = 1e-12): T {
  return tf.tidy(() => tf.mul(greaterMask(x, eps), tf.sqrt(tf.maximum(x, eps))) as T);
}

/**
 * L2-normalise each row: `x / max(||x||, eps)` (torch's `F.normalize`), gradient-safe at zero rows.
 *
 * @param x B×D
 * @param eps floor on the norm (default 1e-12)
 * @returns B×D with unit rows (zero rows stay zero)
 * @example
 * ```ts
 * import { tf } from "@likeness/tf";
 * import { l2Normalize } from "@likeness/losses";
 * console.log(await l2Normalize(tf.tensor2d([[3, 4]])).data()); // [0.6, 0.8]
 * ```
 */
export function l2Normalize(x: tf.Tensor2D, eps = 1e-12): tf.Tensor2D {
  return tf.tidy(() => {
    const sq = tf.sum(tf.square(x), 1, true);
    return tf.div(x, tf.sqrt(tf.maximum(sq, eps * eps))) as tf.Tensor2D;
  });
}

function checkPair(a: tf.Tensor2D, b: tf.Tensor2D, rowwise: boolean): void {
  if (a.rank !== 2 || b.rank !== 2) {
    throw new ShapeError(`Cannot compute distance: expected 2-D embeddings, got ranks ${a.rank} and ${b.rank}`);
  }
  if (a.shape[1] !== b.shape[1]) {
    throw new ShapeError(
      `Cannot compute pairwise distance: query has ${a.shape[1]} columns but reference has ${b.shape[1]}`,
    );
  }
  if (rowwise && a.shape[0] !== b.shape[0]) {
    throw new ShapeError(
      `Cannot compute row-wise distance: a has ${a.shape[0]} rows but b has ${
        b.shape[0]
      }; pass the same number of rows`,
    );
  }
}

/** Squared L2 distances for all pairs by ||a||² + ||b||² - 2ab, clamped at 0. */
function squaredL2Matrix(a: tf.Tensor2D, b: tf.Tensor2D, self: boolean): tf.Tensor2D {
  const na = tf.sum(tf.square(a), 1, true);
  // ||b||² as a row, broadcast by a K=1 product with a column of ones (exact): broadcasting it in tf.add
  // would make the gradient a column sum of the B×R upstream, which is slow on wasm
  const nb = _matMul(tf.ones([a.shape[0], 1]), tf.reshape(tf.sum(tf.square(b), 1), [1, -1]));
  let d = tf.relu(tf.sub(tf.add(na, nb), tf.mul(2, _matMul(a, b, false, true)))) as tf.Tensor2D;
  if (self) {
    const n = a.shape[0];
    d = tf.mul(d, tf.sub(1, tf.eye(n))) as tf.Tensor2D;
  }
  return d;
}

class DistanceImpl implements Distance {
  readonly name: DistanceName;
  readonly smallerIsCloser: boolean;
  readonly options: Readonly<Required<DistanceOptions>>;

  constructor(name: DistanceName, options: Required<DistanceOptions>) {
    this.name = name;
    this.options = Object.freeze({ ...options });
    this.smallerIsCloser = options.kind === "distance";
  }

  private prep(x: tf.Tensor2D): tf.Tensor2D {
    return this.options.normalize || this.name === "cosine" ? l2Normalize(x, this.options.eps) : x;
  }

  /** Raw measure: cosine -> cos, dot -> dot, others -> distance (with power). */
  private rawMatrix(a: tf.Tensor2D, b: tf.Tensor2D | undefined): tf.Tensor2D {
    const self = b === undefined;
    const bb = b ?? a;
    checkPair(a, bb, false);
    const x = this.prep(a);
    const y = self ? x : this.prep(bb);
    switch (this.name) {
      case "cosine":
      case "dot":
        return _matMul(x, y, false, true);
      case "squared_euclidean":
        return this.pow(squaredL2Matrix(x, y, self), true);
      case "euclidean":
        return this.pow(squaredL2Matrix(x, y, self), false);
      case "manhattan": {
        const diff = tf.sub(tf.expandDims(x, 1), tf.expandDims(y, 0));
        return this.pow(tf.sum(tf.abs(diff), 2) as tf.Tensor2D, true);
      }
    }
  }

  private rawRowwise(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor1D {
    checkPair(a, b, true);
    const x = this.prep(a);
    const y = this.prep(b);
    switch (this.name) {
      case "cosine":
      case "dot":
        return tf.sum(tf.mul(x, y), 1);
      case "squared_euclidean":
        return this.pow(tf.sum(tf.square(tf.sub(x, y)), 1), true);
      case "euclidean":
        return this.pow(tf.sum(tf.square(tf.sub(x, y)), 1), false);
      case "manhattan":
        return this.pow(tf.sum(tf.abs(tf.sub(x, y)), 1), true);
    }
  }

  /** `d` is already a distance when `isDistance`, else a squared L2 distance. */
  private pow<T extends tf.Tensor>(d: T, isDistance: boolean): T {
    const p = this.options.power;
    if (isDistance) return p === 1 ? d : tf.pow(d, p) as T;
    // d is squared euclidean: distance^p = (d^2)^(p/2)
    if (p === 2) return d;
    if (p === 1) return safeSqrt(d, this.options.eps);
    return tf.pow(safeSqrt(d, this.options.eps), p) as T;
  }

  private toDistance<T extends tf.Tensor>(raw: T): T {
    if (this.name === "cosine") {
      const d = tf.sub(1, raw);
      return (this.options.scale === "half" ? tf.div(d, 2) : d) as T;
    }
    if (this.name === "dot") return tf.neg(raw) as T;
    return raw;
  }

  private toSimilarity<T extends tf.Tensor>(raw: T): T {
    if (this.name === "cosine") return (this.options.scale === "half" ? tf.div(tf.add(raw, 1), 2) : raw) as T;
    if (this.name === "dot") return raw;
    return tf.div(1, tf.add(1, raw)) as T;
  }

  matrix(a: tf.Tensor2D, b?: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => {
      const raw = this.rawMatrix(a, b);
      return this.options.kind === "distance" ? this.toDistance(raw) : this.toSimilarity(raw);
    });
  }

  rowwise(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor1D {
    return tf.tidy(() => {
      const raw = this.rawRowwise(a, b);
      return this.options.kind === "distance" ? this.toDistance(raw) : this.toSimilarity(raw);
    });
  }

  similarityMatrix(a: tf.Tensor2D, b?: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => this.toSimilarity(this.rawMatrix(a, b)));
  }

  similarityRowwise(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor1D {
    return tf.tidy(() => this.toSimilarity(this.rawRowwise(a, b)));
  }
}

/**
 * Create a distance object by name.
 *
 * Defaults: cosine is `1 - cos` (smaller is closer), dot is `-a·b`, euclidean and manhattan are
 * plain (not normalised) with power 1. Use `kind: "similarity"` for the larger-is-closer form.
 *
 * @param name `cosine`, `dot`, `euclidean`, `squared_euclidean` or `manhattan`
 * @param options normalisation, power, cosine scale, kind, eps
 * @returns a {@link Distance}
 * @throws {ValueError} UNKNOWN_NAME for other names or option values; INVALID_ARGUMENT for a bad power or eps
 * @example
 * ```ts
 * import { tf } from "@likeness/tf";
 * import { distance } from "@likeness/losses";
 * const d = distance("cosine", { scale: "half" }); // Quaterion's distance_matrix
 * const m = d.matrix(tf.tensor2d([[1, 0], [0, 1]]));
 * console.log(await m.data()); // [0, 0.5, 0.5, 0]
 * ```
 */
export function distance(name: DistanceName | DistanceAlias, options: DistanceOptions = {}): Distance {
  const n = checkName(name, DISTANCE_NAMES, "distance", DISTANCE_ALIASES);
  const scale = checkOneOf(options.scale ?? "full", ["full", "half"] as const, "cosine scale");
  const kind = checkOneOf(options.kind ?? "distance", ["distance", "similarity"] as const, "distance kind");
  const power = checkFiniteNumber(options.power ?? 1, "power", "a distance", { min: 0, minExclusive: true });
  if (power !== 1 && (n === "cosine" || n === "dot")) {
    throw new ValueError(
      "INVALID_ARGUMENT",
      `Invalid distance power ${power} for ${n}: power applies to euclidean and manhattan only`,
    );
  }
  const eps = options.eps ?? 1e-12;
  if (typeof eps !== "number" || !(eps > 0)) {
    throw new ValueError("INVALID_ARGUMENT", `Invalid eps ${eps}: use a small positive number such as 1e-12`);
  }
  return new DistanceImpl(n, { normalize: options.normalize ?? false, power, scale, kind, eps });
}

/**
 * Accept a distance object or a name (with default options).
 *
 * @param d a {@link Distance}, a {@link DistanceName}, or undefined
 * @param fallback name used when `d` is undefined
 * @returns a Distance
 * @throws {ValueError} UNKNOWN_NAME for an unknown name
 * @example
 * ```ts
 * import { resolveDistance } from "@likeness/losses";
 * console.log(resolveDistance(undefined, "euclidean").name); // euclidean
 * ```
 */
export function resolveDistance(d: Distance | DistanceName | undefined, fallback: DistanceName): Distance {
  if (d === undefined) return distance(fallback);
  if (typeof d === "string") return distance(d);
  return d;
}
