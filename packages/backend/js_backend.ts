/**
 * The `js` backend: the plain-TS float64 references of `@likeness/kernels/reference`, with the
 * results rounded to float32. Slow, dependency-free and always available; the oracle every
 * other backend is tested against.
 *
 * @module
 */
import type { Matrix } from "@likeness/core";
import {
  batchHardRef,
  multiSimilarityRef,
  normalizeRef,
  normsRef,
  pairMarginRef,
  pairwiseRef,
  retrievalMetricsRef,
  topkRef,
  tripletMarginRef,
} from "@likeness/kernels/reference";
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

/**
 * Create the `js` reference backend.
 *
 * @returns a backend computing in float64 and returning float32
 * @example
 * ```ts
 * import { createJsBackend } from "@likeness/backend";
 * const js = createJsBackend();
 * const q = { data: new Float32Array([3, 4]), rows: 1, cols: 2 };
 * console.log(await js.norms(q)); // Float32Array [5]
 * ```
 */
export function createJsBackend(): Backend {
  return new JsBackend();
}

/** The reference backend (see {@link createJsBackend}). */
class JsBackend implements Backend {
  readonly info: BackendInfo = {
    name: "js",
    detail: "plain TypeScript float64 reference, float32 results",
    threads: 1,
  };

  readonly #sync: SyncMiningOps = {
    pairwise(query, reference, metric) {
      const r = pairwiseRef(query, reference, _checkPairwise(query, reference, metric));
      return { data: Float32Array.from(r.data), rows: r.rows, cols: r.cols };
    },
    normalize(m) {
      const r = normalizeRef(m);
      return { data: Float32Array.from(r.data), rows: r.rows, cols: r.cols };
    },
    batchHard: (dist, same, opts) => batchHardRef(dist, same, { smallerIsCloser: _checkBatchHard(dist, same, opts) }),
    tripletMargin: (dist, same, opts) => tripletMarginRef(dist, same, _checkTriplet(dist, same, opts)),
    pairMargin: (dist, same, opts) => pairMarginRef(dist, same, _checkPairMargin(dist, same, opts)),
    multiSimilarity: (dist, same, opts) => multiSimilarityRef(dist, same, _checkMultiSimilarity(dist, same, opts)),
  };

  pairwise(query: Matrix, reference: Matrix, metric: Metric): Promise<Matrix> {
    return _settle(() => this.#sync.pairwise(query, reference, metric));
  }

  norms(m: Matrix): Promise<Float32Array> {
    return _settle(() => Float32Array.from(normsRef(m)));
  }

  normalize(m: Matrix): Promise<Matrix> {
    return _settle(() => this.#sync.normalize(m));
  }

  topk(query: Matrix, reference: Matrix, opts: TopKOptions): Promise<TopKResult> {
    return _settle(() => {
      const c = _checkTopK(query, reference, opts);
      const r = topkRef(query, reference, { ...opts, k: c.k, metric: c.metric, largest: c.largest });
      return { indices: r.indices, values: Float32Array.from(r.values), rows: r.rows, k: r.k };
    });
  }

  batchHard(dist: Matrix, same: Uint8Array, opts?: MiningOptions): Promise<BatchHardResult> {
    return _settle(() => this.#sync.batchHard(dist, same, opts));
  }

  tripletMargin(
    dist: Matrix,
    same: Uint8Array,
    opts: MiningOptions & { margin: number; type: TripletType },
  ): Promise<Triplets> {
    return _settle(() => this.#sync.tripletMargin(dist, same, opts));
  }

  pairMargin(
    dist: Matrix,
    same: Uint8Array,
    opts: MiningOptions & { posMargin: number; negMargin: number },
  ): Promise<Pairs> {
    return _settle(() => this.#sync.pairMargin(dist, same, opts));
  }

  multiSimilarity(dist: Matrix, same: Uint8Array, opts: MiningOptions & { epsilon: number }): Promise<Pairs> {
    return _settle(() => this.#sync.multiSimilarity(dist, same, opts));
  }

  synchronous(): Promise<SyncMiningOps> {
    return Promise.resolve(this.#sync);
  }

  retrievalMetrics(relevant: Uint8Array, relevantCount: Int32Array, k: number): Promise<RetrievalMetrics> {
    return _settle(() => {
      _checkRetrieval(relevant, relevantCount, k);
      return retrievalMetricsRef(relevant, relevantCount, k);
    });
  }

  dispose(): void {}
}
