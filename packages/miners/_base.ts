/**
 * Private helpers shared by the miners: input validation, the same-label mask, the distance
 * matrix on the backend, and conversion of kernel results to {@link MinedIndices}.
 *
 * @module
 */
import {
  checkFiniteNumber,
  checkLabels,
  checkMatrix,
  equalLabels,
  type Label,
  labelIds,
  type LabelMatcher,
  type Matrix,
  sameLabelMatrix,
  ShapeError,
  ValueError,
} from "@likeness/core";
import type { Pairs, SyncMiningOps, Triplets } from "@likeness/backend";
import { createBackend, type CreateBackendOptions, largerIsCloser } from "@likeness/backend";
import type { Distance } from "@likeness/losses";
import { tf } from "@likeness/tf";
import type {
  MinedIndices,
  MineOptions,
  Miner,
  MinerBackend,
  MinerDistance,
  MinerInput,
  MinerOptions,
  SyncMiner,
} from "./types.ts";

export { LP_NORMALIZED } from "./distances.ts";

let defaultBackend: Promise<MinerBackend> | undefined;

/**
 * A miner backend from `createBackend` of `@likeness/backend` (WebGPU, WASM SIMD, WASM or JS by
 * priority, `LIKENESS_BACKEND` overrides). A failure is reported, never replaced by something
 * else: an unknown `LIKENESS_BACKEND` is a `ValueError` UNKNOWN_NAME here too.
 *
 * @param options createBackend's options (tfjs is never started for mining)
 * @returns the backend's mining operations
 * @throws {ValueError} UNKNOWN_NAME for an unknown backend name (rejects)
 */
export async function _backendFrom(options: CreateBackendOptions = {}): Promise<MinerBackend> {
  const selection = await createBackend({ ...options, tf: false });
  return selection.backend as MinerBackend;
}

/**
 * The default backend, created once on first use by {@link _backendFrom}. A rejection is passed
 * on to the miner's caller and not cached, so fixing the environment and retrying works.
 *
 * @returns the shared default backend
 */
export function _defaultBackend(): Promise<MinerBackend> {
  defaultBackend ??= _backendFrom().catch((e) => {
    defaultBackend = undefined;
    throw e;
  });
  return defaultBackend;
}

/** A batch prepared for selection. */
export interface _Prepared {
  /** Embeddings as a matrix. */
  emb: Matrix;
  /** B×B distance or similarity values. */
  dist: Matrix;
  /** B×B positive mask (diagonal 1; selection ignores it). */
  same: Uint8Array;
  /** Whether smaller values of `dist` mean closer. */
  smallerIsCloser: boolean;
}

/**
 * Where a miner's steps run: the backend's operations, async or plain, and how to read a tensor
 * (`data()` or `dataSync()`).
 */
export interface _Ctx {
  /** The backend's mining operations. */
  readonly ops: MinerBackend | SyncMiningOps;
  /** A tensor's values. */
  read(t: tf.Tensor): unknown;
}

/**
 * A miner's body, written once for both forms: it yields each backend call or tensor read as a
 * step; `mine` awaits each step, the synchronous form runs it directly.
 */
export type _Steps<R> = Generator<(c: _Ctx) => unknown, R, unknown>;

/**
 * One step of a miner's body: `f`'s result, awaited or direct.
 *
 * @param f the call, given the context
 * @returns (to `yield*`) the call's value
 */
export function* _step<T>(f: (c: _Ctx) => T | Promise<T>): _Steps<T> {
  return (yield f) as T;
}

/**
 * Run steps directly in a synchronous context; each step's value (or error) is passed back into
 * the body, so its `finally` blocks run.
 */
function drive<R>(steps: _Steps<R>, ctx: _Ctx): R {
  let r = steps.next();
  while (!r.done) {
    let v: unknown;
    try {
      v = r.value(ctx);
      if (v instanceof Promise) throw new TypeError("A synchronous miner step returned a promise");
    } catch (e) {
      r = steps.throw(e);
      continue;
    }
    r = steps.next(v);
  }
  return r.value;
}

/**
 * Run a miner's body on its backend, awaiting each step (what `mine` does).
 *
 * @param backend the miner's backend option (undefined: the shared default)
 * @param steps the body
 * @returns its result
 */
async function _mine<R>(backend: MinerOptions["backend"], steps: _Steps<R>): Promise<R> {
  const ctx: _Ctx = { ops: await (backend ?? _defaultBackend()), read: (t) => t.data() };
  let r = steps.next();
  while (!r.done) {
    let v: unknown;
    try {
      v = await r.value(ctx);
    } catch (e) {
      r = steps.throw(e);
      continue;
    }
    r = steps.next(v);
  }
  return r.value;
}

/**
 * The synchronous form of a miner: its body run step by step with the backend's plain
 * operations and `dataSync()`, or undefined when the backend has none (WebGPU).
 *
 * @param backend the miner's backend option (undefined: the shared default)
 * @param body the miner's body for one call
 * @returns the synchronous miner, or undefined
 */
async function _synchronous(
  backend: MinerOptions["backend"],
  body: (embeddings: MinerInput, labels: readonly Label[], options?: MineOptions) => _Steps<MinedIndices>,
): Promise<SyncMiner | undefined> {
  const be = await (backend ?? _defaultBackend());
  if (typeof be.synchronous !== "function") return undefined;
  const ctx: _Ctx = { ops: await be.synchronous(), read: (t) => t.dataSync() };
  return { mine: (embeddings, labels, options) => drive(body(embeddings, labels, options), ctx) };
}

/**
 * What every miner shares: `mine` and `synchronous` run the miner's body (`_steps`) on its
 * backend, awaited or direct.
 */
export abstract class _SteppedMiner implements Miner {
  /** pytorch-metric-learning's class name. */
  abstract readonly name: string;
  readonly #backend: MinerOptions["backend"];

  /** @param backend the backend option (undefined: the shared default) */
  constructor(backend: MinerOptions["backend"]) {
    this.#backend = backend;
  }

  /**
   * Mine index tuples from a batch (which tuples: see the class).
   *
   * @param embeddings B×D tensor or matrix; not modified, not disposed
   * @param labels one label per row
   * @param options label matcher (default equality)
   * @returns triplets, ordered by (a, p, n), or positive and negative pairs
   * @throws {ShapeError} LABEL_MISMATCH when labels and rows differ; EMPTY_INPUT / SHAPE_MISMATCH for bad embeddings
   * @throws {ValueError} NON_FINITE for NaN or infinite embeddings (rejects)
   */
  mine(embeddings: MinerInput, labels: readonly Label[], options?: MineOptions): Promise<MinedIndices> {
    return _mine(this.#backend, this._steps(embeddings, labels, options));
  }

  /**
   * This miner as a plain call (see `Miner.synchronous`).
   *
   * @returns the synchronous miner, or undefined on a backend without synchronous operations (WebGPU)
   */
  synchronous(): Promise<SyncMiner | undefined> {
    return _synchronous(this.#backend, (e, l, o) => this._steps(e, l, o));
  }

  /** The miner's body for one call, as steps (see {@link _Steps}). */
  protected abstract _steps(
    embeddings: MinerInput,
    labels: readonly Label[],
    options?: MineOptions,
  ): _Steps<MinedIndices>;
}

/**
 * Convert a tensor or matrix to a validated matrix.
 *
 * @param embeddings tensor or matrix
 * @returns (to `yield*`) a checked matrix (a copy for tensors)
 */
export function* _toMatrix(embeddings: MinerInput): _Steps<Matrix> {
  let m: Matrix;
  if (embeddings && "data" in embeddings && embeddings.data instanceof Float32Array) {
    m = embeddings as Matrix;
  } else {
    const t = embeddings as { shape?: number[]; rank?: number; data?: () => Promise<unknown> };
    if (!t || !Array.isArray(t.shape) || typeof t.data !== "function") {
      throw new ShapeError("Cannot mine: embeddings must be a tf.Tensor2D or { data: Float32Array, rows, cols }");
    }
    if (t.shape.length !== 2) {
      throw new ShapeError(`Cannot mine: embeddings must be 2-D (B×D) but have shape [${t.shape.join(", ")}]`);
    }
    const data = yield* _step((c) => c.read(t as unknown as tf.Tensor));
    // `data()` and `dataSync()` already return a fresh copy; only other dtypes need converting
    m = {
      data: data instanceof Float32Array ? data : Float32Array.from(data as ArrayLike<number>),
      rows: t.shape[0],
      cols: t.shape[1],
    };
  }
  checkMatrix(m, "embeddings");
  return m;
}

/**
 * Whether a distance option is a `Distance` object of `@likeness/losses`.
 *
 * @param d distance option
 * @returns true for a Distance object
 */
export function _isDistanceObject(d: MinerDistance | Distance): d is Distance {
  return typeof (d as Distance)?.matrix === "function" && typeof (d as Distance).smallerIsCloser === "boolean";
}

/**
 * Validate the distance option.
 *
 * @param d distance spec
 * @returns the spec
 */
export function _checkDistance(d: MinerDistance | Distance): MinerDistance | Distance {
  if (_isDistanceObject(d)) return d;
  const metrics = ["dot", "cosine", "l2", "sqeuclidean", "l1"];
  if (!d || !metrics.includes(d.metric)) {
    throw new ValueError(
      "UNKNOWN_NAME",
      `Unknown miner distance metric ${JSON.stringify(d?.metric)}: use one of ${metrics.join(", ")}`,
    );
  }
  if (d.power !== undefined) checkFiniteNumber(d.power, "power", "a distance", { min: 0, minExclusive: true });
  return d;
}

/**
 * Distance matrix of embeddings with themselves on the backend.
 *
 * @param emb embeddings
 * @param distance distance spec
 * @returns (to `yield*`) B×B matrix
 */
export function* _distanceMatrix(emb: Matrix, distance: MinerDistance | Distance): _Steps<Matrix> {
  if (_isDistanceObject(distance)) {
    const m = tf.tidy(() => distance.matrix(tf.tensor2d(emb.data, [emb.rows, emb.cols])));
    try {
      const data = yield* _step((c) => c.read(m));
      return { data: Float32Array.from(data as ArrayLike<number>), rows: emb.rows, cols: emb.rows };
    } finally {
      m.dispose();
    }
  }
  const x = distance.normalize ? yield* _step((c) => c.ops.normalize(emb)) : emb;
  const dist = yield* _step((c) => c.ops.pairwise(x, x, distance.metric));
  const power = distance.power ?? 1;
  if (power !== 1) { for (let i = 0; i < dist.data.length; i++) dist.data[i] = dist.data[i] ** power; }
  return dist;
}

/**
 * Whether smaller values mean closer for a distance option.
 *
 * @param d distance option
 * @returns true for distances, false for similarities
 */
export function _smallerIsCloser(d: MinerDistance | Distance): boolean {
  return _isDistanceObject(d) ? d.smallerIsCloser : !largerIsCloser(d.metric);
}

/**
 * Same-label mask (diagonal 1) as 0/1 bytes; for the default matcher it compares dense integer
 * class ids instead of calling the matcher B² times (same result as `sameLabelMatrix`).
 *
 * @param labels one label per row (already checked)
 * @param match label matcher
 * @returns B×B mask, row-major
 */
export function _sameMatrix(labels: readonly Label[], match: LabelMatcher): Uint8Array {
  if (match !== equalLabels) return sameLabelMatrix(labels, match);
  const ids = labelIds(labels);
  const b = labels.length;
  const out = new Uint8Array(b * b);
  for (let i = 0; i < b; i++) {
    const id = ids[i];
    const row = i * b;
    for (let j = 0; j < b; j++) out[row + j] = ids[j] === id ? 1 : 0;
  }
  return out;
}

/**
 * Validate inputs and compute the distance matrix and positive mask.
 *
 * @param embeddings tensor or matrix
 * @param labels one label per row
 * @param options label matcher
 * @param distance distance spec
 * @returns (to `yield*`) the prepared batch
 */
export function* _prepare(
  embeddings: MinerInput,
  labels: readonly Label[],
  options: MineOptions | undefined,
  distance: MinerDistance | Distance,
): _Steps<_Prepared> {
  const emb = yield* _toMatrix(embeddings);
  checkLabels(labels, emb.rows);
  const match = options?.match ?? equalLabels;
  if (typeof match !== "function") {
    throw new ValueError("INVALID_ARGUMENT", "Invalid match option: expected a function (a, b) => boolean");
  }
  const same = _sameMatrix(labels, match);
  const dist = yield* _distanceMatrix(emb, distance);
  return { emb, dist, same, smallerIsCloser: _smallerIsCloser(distance) };
}

/**
 * Flat triplets to tuples.
 *
 * @param t kernel triplets
 * @returns mined indices with `triplets`
 */
export function _fromTriplets(t: Triplets): MinedIndices {
  const ind = t.indices;
  const triplets = new Array<[number, number, number]>(t.count);
  for (let i = 0; i < t.count; i++) triplets[i] = [ind[3 * i], ind[3 * i + 1], ind[3 * i + 2]];
  return { triplets };
}

/**
 * Flat pairs to tuples.
 *
 * @param flat [a, b, a, b, ...]
 * @returns pairs
 */
export function _pairs(flat: ArrayLike<number>): [number, number][] {
  const out = new Array<[number, number]>(flat.length >> 1);
  for (let k = 0; k < out.length; k++) out[k] = [flat[2 * k], flat[2 * k + 1]];
  return out;
}

/**
 * Kernel pairs to mined indices.
 *
 * @param p kernel pairs
 * @returns mined indices with positive and negative pairs
 */
export function _fromPairs(p: Pairs): MinedIndices {
  return { positivePairs: _pairs(p.positive), negativePairs: _pairs(p.negative) };
}
