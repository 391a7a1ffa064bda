/**
 * The `wasm-simd` and `wasm` backends: the WebAssembly kernels of `@likeness/kernels` (dense
 * kernels for pairwise, norms, normalisation and top-k; mining kernels for batch-hard, triplet,
 * pair-margin, multi-similarity and retrieval metrics) behind the {@link Backend} interface.
 *
 * @module
 */
import { type Matrix, ValueError } from "@likeness/core";
import {
  createDenseKernels,
  createMiningKernels,
  type DenseKernels,
  type DenseVariant,
  hasRelaxedSimd,
  hasWasmSimd,
  type MiningKernels,
} from "@likeness/kernels";
import type {
  Backend,
  BackendInfo,
  BatchHardResult,
  Metric,
  MiningOptions,
  Pairs,
  RetrievalMetrics,
  SyncMiningOps,
  TopKOptions,
  TopKResult,
  Triplets,
  TripletType,
} from "./types.ts";
import {
  _checkBatchHard,
  _checkMultiSimilarity,
  _checkPairMargin,
  _checkPairwise,
  _checkRetrieval,
  _checkTopK,
  _checkTriplet,
} from "./_validate.ts";
import { _settle } from "./_settle.ts";

/** Options for {@link createWasmBackend}. */
export interface WasmBackendOptions {
  /** `true` (default): the `wasm-simd` backend; `false`: the scalar `wasm` backend. */
  simd?: boolean;
  /**
   * Use the relaxed-SIMD build of the dense kernels (fused multiply-add). Default: when
   * `hasRelaxedSimd()` holds. Ignored for the scalar backend.
   */
  relaxed?: boolean;
  /** Worker threads for pairwise and top-k (default 1). */
  threads?: number;
}

/**
 * Create the `wasm-simd` (default) or scalar `wasm` backend.
 *
 * @param options `simd`, `relaxed`, `threads`
 * @returns the backend
 * @throws {ValueError} UNSUPPORTED when SIMD (or relaxed SIMD) is asked for but the runtime lacks it;
 *   INVALID_ARGUMENT for a bad thread count
 * @example
 * ```ts
 * import { createWasmBackend } from "@likeness/backend";
 * const b = createWasmBackend({ simd: true });
 * const q = { data: new Float32Array([1, 0]), rows: 1, cols: 2 };
 * console.log(b.info.name, (await b.pairwise(q, q, "cosine")).data); // wasm-simd Float32Array [1]
 * b.dispose();
 * ```
 */
export function createWasmBackend(options: WasmBackendOptions = {}): Backend {
  const simd = options.simd ?? true;
  if (typeof simd !== "boolean") {
    throw new ValueError("INVALID_ARGUMENT", `Invalid simd: expected true or false, got ${String(simd)}`);
  }
  if (simd && !hasWasmSimd()) {
    throw new ValueError("UNSUPPORTED", 'WebAssembly SIMD is not available in this runtime; use the "wasm" backend');
  }
  let variant: DenseVariant = "scalar";
  if (simd) {
    const relaxed = options.relaxed ?? hasRelaxedSimd();
    variant = relaxed ? "relaxed" : "simd";
  }
  const dense = createDenseKernels({ variant, threads: options.threads ?? 1 });
  const mining = createMiningKernels({ variant: simd ? "simd" : "scalar" });
  return new WasmBackend(simd ? "wasm-simd" : "wasm", dense, mining);
}

/** WebAssembly backend composing the dense and mining kernels. */
class WasmBackend implements Backend {
  readonly #name: "wasm-simd" | "wasm";
  readonly #dense: DenseKernels;
  readonly #mining: MiningKernels;

  constructor(name: "wasm-simd" | "wasm", dense: DenseKernels, mining: MiningKernels) {
    this.#name = name;
    this.#dense = dense;
    this.#mining = mining;
  }

  /** Live view: the dense kernels may drop to 1 thread when Workers fail to start. */
  get info(): BackendInfo {
    const d = this.#dense.info;
    const info: BackendInfo = {
      name: this.#name,
      detail: `dense kernels: ${d.detail}; mining kernels: ${this.#mining.variant} build`,
      threads: d.threads,
    };
    if (this.#name === "wasm-simd") info.relaxed = this.#dense.variant === "relaxed";
    return info;
  }

  pairwise(query: Matrix, reference: Matrix, metric: Metric): Promise<Matrix> {
    return _settle(() => this.#dense.pairwise(query, reference, _checkPairwise(query, reference, metric)));
  }

  norms(m: Matrix): Promise<Float32Array> {
    return _settle(() => this.#dense.norms(m));
  }

  normalize(m: Matrix): Promise<Matrix> {
    return _settle(() => this.#dense.normalize(m));
  }

  topk(query: Matrix, reference: Matrix, options: TopKOptions): Promise<TopKResult> {
    return _settle(() => {
      const c = _checkTopK(query, reference, options);
      return this.#dense.topk(query, reference, { ...options, k: c.k, metric: c.metric, largest: c.largest });
    });
  }

  batchHard(dist: Matrix, same: Uint8Array, options?: MiningOptions): Promise<BatchHardResult> {
    return _settle(() => this.#mining.batchHard(dist, same, { smallerIsCloser: _checkBatchHard(dist, same, options) }));
  }

  tripletMargin(
    dist: Matrix,
    same: Uint8Array,
    options: MiningOptions & { margin: number; type: TripletType },
  ): Promise<Triplets> {
    return _settle(() => this.#mining.tripletMargin(dist, same, _checkTriplet(dist, same, options)));
  }

  pairMargin(
    dist: Matrix,
    same: Uint8Array,
    options: MiningOptions & { posMargin: number; negMargin: number },
  ): Promise<Pairs> {
    return _settle(() => this.#mining.pairMargin(dist, same, _checkPairMargin(dist, same, options)));
  }

  multiSimilarity(dist: Matrix, same: Uint8Array, options: MiningOptions & { epsilon: number }): Promise<Pairs> {
    return _settle(() => this.#mining.multiSimilarity(dist, same, _checkMultiSimilarity(dist, same, options)));
  }

  retrievalMetrics(relevant: Uint8Array, relevantCount: Int32Array, k: number): Promise<RetrievalMetrics> {
    return _settle(() => {
      _checkRetrieval(relevant, relevantCount, k);
      return this.#mining.retrievalMetrics(relevant, relevantCount, k);
    });
  }

  /** Pairwise and normalisation on the calling thread (never the Workers), and the mining kernels. */
  async synchronous(): Promise<SyncMiningOps> {
    const [dense, mining] = await Promise.all([this.#dense.synchronous(), this.#mining.synchronous()]);
    return {
      pairwise: (query, reference, metric) =>
        dense.pairwise(query, reference, _checkPairwise(query, reference, metric)),
      normalize: (m) => dense.normalize(m),
      batchHard: (dist, same, o) => mining.batchHard(dist, same, { smallerIsCloser: _checkBatchHard(dist, same, o) }),
      tripletMargin: (dist, same, o) => mining.tripletMargin(dist, same, _checkTriplet(dist, same, o)),
      pairMargin: (dist, same, o) => mining.pairMargin(dist, same, _checkPairMargin(dist, same, o)),
      multiSimilarity: (dist, same, o) => mining.multiSimilarity(dist, same, _checkMultiSimilarity(dist, same, o)),
    };
  }

  dispose(): void {
    this.#dense.dispose();
    this.#mining.dispose();
  }
}
