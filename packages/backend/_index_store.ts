/**
 * Row stores under the vector index (private): where the float32 rows live and how an exact
 * top-k over them runs. `js`: a plain Float32Array and float64 loops (the reference); `wasm`:
 * the dense kernel module's memory ({@link ResidentDense}).
 *
 * @module
 */
import {
  createResidentDense,
  type DenseVariant,
  hasRelaxedSimd,
  hasWasmSimd,
  INJECT_WORKER_FAULT,
  type WorkerFault,
} from "@likeness/kernels";
import type { ResidentTopK, ResidentTopKOptions } from "@likeness/kernels";
import type { Backend } from "./types.ts";

/** Where rows live and how they are searched exactly. */
export interface RowStore {
  /** Where it runs, in words. */
  readonly detail: string;
  /** Threads used by a search. */
  readonly threads: number;
  /** Rows that fit now. */
  readonly capacity: number;
  /** Bytes held by the rows (and the kernel's work area). */
  readonly memoryBytes: number;
  /** Make room for `rows` rows (doubling). */
  reserve(rows: number): void;
  /** View of `capacity × dim` rows (take again after reserve). */
  rows(): Float32Array;
  /** Unit-normalise rows [from, to) in place (zero rows stay zero). */
  normalizeRows(from: number, to: number): void;
  /** Exact top-k over rows [0, options.rows). */
  topk(query: Float32Array, queryRows: number, options: ResidentTopKOptions): Promise<ResidentTopK>;
  /** Release. */
  dispose(): void;
  /** Test-only: make kernel Worker `tid` die (the `js` store has none). */
  [INJECT_WORKER_FAULT]?(how: WorkerFault, tid: number): void;
}

/** Value of `metric` between query row `q` (at qo) and stored row `p`, in float64. */
export function exactValue(
  metric: ResidentTopKOptions["metric"],
  q: ArrayLike<number>,
  qo: number,
  rows: Float32Array,
  p: number,
  dim: number,
): number {
  const ro = p * dim;
  let s = 0;
  if (metric === "dot") {
    for (let d = 0; d < dim; d++) s += q[qo + d] * rows[ro + d];
    return s;
  }
  if (metric === "l1") {
    for (let d = 0; d < dim; d++) s += Math.abs(q[qo + d] - rows[ro + d]);
    return s;
  }
  for (let d = 0; d < dim; d++) {
    const t = q[qo + d] - rows[ro + d];
    s += t * t;
  }
  return metric === "l2" ? Math.sqrt(s) : s;
}

/**
 * The `m` smallest keys among eligible positions [0, n), ties to the lower position, best first.
 * A bounded max-heap: O(n) comparisons plus O(log m) per accepted candidate.
 *
 * @param keys one key per position
 * @param n positions
 * @param m how many (≤ eligible count; fewer eligible: the rest are -1)
 * @param eligible one byte per position, or null
 * @returns positions, best first (-1 padding)
 */
export function smallestKeys(
  keys: ArrayLike<number>,
  n: number,
  m: number,
  eligible: Uint8Array | null,
): Int32Array {
  const hk = new Float64Array(m).fill(Infinity);
  const hp = new Int32Array(m).fill(-1);
  const worse = (ka: number, pa: number, kb: number, pb: number) => ka > kb || (ka === kb && pa > pb);
  const sift = (size: number, key: number, p: number) => {
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= size) break;
      let c = l;
      if (l + 1 < size && worse(hk[l + 1], hp[l + 1], hk[l], hp[l])) c = l + 1;
      if (!worse(hk[c], hp[c], key, p)) break;
      hk[i] = hk[c];
      hp[i] = hp[c];
      i = c;
    }
    hk[i] = key;
    hp[i] = p;
  };
  for (let p = 0; p < n; p++) {
    const key = keys[p];
    if (!(key < hk[0])) continue;
    if (eligible && !eligible[p]) continue;
    sift(m, key, p);
  }
  for (let size = m - 1; size > 0; size--) {
    const k = hk[size], p = hp[size];
    hk[size] = hk[0];
    hp[size] = hp[0];
    sift(size, k, p);
  }
  return hp;
}

/** The plain-TS reference store: float32 rows, float64 arithmetic. */
export class JsRowStore implements RowStore {
  readonly detail = "js reference (float64 arithmetic)";
  readonly threads = 1;
  #dim: number;
  #rows: Float32Array;

  constructor(dim: number, capacity: number) {
    this.#dim = dim;
    this.#rows = new Float32Array(capacity * dim);
  }

  get capacity(): number {
    return this.#rows.length / this.#dim;
  }

  get memoryBytes(): number {
    return this.#rows.byteLength;
  }

  reserve(rows: number): void {
    let cap = Math.max(1, this.capacity);
    if (rows <= cap) return;
    while (cap < rows) cap *= 2;
    const next = new Float32Array(cap * this.#dim);
    next.set(this.#rows);
    this.#rows = next;
  }

  rows(): Float32Array {
    return this.#rows;
  }

  normalizeRows(from: number, to: number): void {
    const D = this.#dim, x = this.#rows;
    for (let p = from; p < to; p++) {
      let s = 0;
      for (let d = 0; d < D; d++) s += x[p * D + d] * x[p * D + d];
      const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
      for (let d = 0; d < D; d++) x[p * D + d] *= inv;
    }
  }

  topk(query: Float32Array, queryRows: number, options: ResidentTopKOptions): Promise<ResidentTopK> {
    const D = this.#dim, R = options.rows, k = options.k;
    const q = Float64Array.from(query.subarray(0, queryRows * D));
    if (options.normalizeQuery) normalize64(q, queryRows, D);
    const positions = new Int32Array(queryRows * k);
    const values = new Float32Array(queryRows * k);
    const keys = new Float64Array(R);
    const sign = options.metric === "dot" ? -1 : 1;
    for (let i = 0; i < queryRows; i++) {
      for (let p = 0; p < R; p++) keys[p] = sign * exactValue(options.metric, q, i * D, this.#rows, p, D);
      const skip = options.exclude ? options.exclude[i] : -1;
      if (skip >= 0 && skip < R) keys[skip] = Infinity;
      const best = smallestKeys(keys, R, k, options.eligible ?? null);
      for (let t = 0; t < k; t++) {
        positions[i * k + t] = best[t];
        values[i * k + t] = best[t] < 0 ? NaN : sign * keys[best[t]];
      }
    }
    return Promise.resolve({ positions, values });
  }

  dispose(): void {
    this.#rows = new Float32Array(0);
  }
}

/** Scale each row of a float64 matrix to unit norm in place (zero rows stay zero). */
export function normalize64(q: Float64Array, rows: number, D: number): void {
  for (let i = 0; i < rows; i++) {
    let s = 0;
    for (let d = 0; d < D; d++) s += q[i * D + d] * q[i * D + d];
    const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
    for (let d = 0; d < D; d++) q[i * D + d] *= inv;
  }
}

/** Which row store a backend's index uses, and the words for `info.detail`. */
export async function storeFor(
  backend: Backend | undefined,
  dim: number,
  capacity: number,
): Promise<RowStore> {
  const name = backend?.info.name;
  if (name === "js") return new JsRowStore(dim, capacity);
  let variant: DenseVariant;
  let threads = backend?.info.threads ?? 1;
  let prefix = "";
  if (name === "wasm") variant = "scalar";
  else if (name === "wasm-simd") variant = backend?.info.relaxed ? "relaxed" : "simd";
  else {
    variant = hasRelaxedSimd() ? "relaxed" : hasWasmSimd() ? "simd" : "scalar";
    if (name === "webgpu") prefix = `webgpu: delegated to ${variant === "scalar" ? "wasm" : "wasm-simd"}, `;
    if (name === undefined) threads = 1;
  }
  const engine = await createResidentDense({ dim, variant, threads, capacity });
  return {
    get detail() {
      return `${prefix}${engine.info.name} ${engine.info.detail}`;
    },
    get threads() {
      return engine.info.threads;
    },
    get capacity() {
      return engine.capacity;
    },
    get memoryBytes() {
      return engine.memoryBytes;
    },
    reserve: (rows) => engine.reserve(rows),
    rows: () => engine.rows(),
    normalizeRows: (from, to) => engine.normalizeRows(from, to),
    topk: (q, n, o) => engine.topk(q, n, o),
    dispose: () => engine.dispose(),
    [INJECT_WORKER_FAULT]: (how, tid) => engine[INJECT_WORKER_FAULT](how, tid),
  };
}
