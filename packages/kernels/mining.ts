/**
 * Mining and retrieval-metric kernels (WebAssembly, scalar or SIMD) behind the `Backend`
 * method signatures: batch-hard, triplet-margin, pair-margin and multi-similarity selection on
 * a B×B distance or similarity matrix with a `same` mask, and retrieval metrics from top-k.
 *
 * @module
 */
import { checkFiniteNumber, type Matrix, ShapeError, ValueError } from "@likeness/core";
import type {
  BatchHardResult,
  MiningOptions,
  Pairs,
  RetrievalMetrics,
  Synchronous,
  Triplets,
  TripletType,
} from "@likeness/kernels/types";
import { wasmBytes as miningScalar } from "./generated/mining_scalar.generated.ts";
import { wasmBytes as miningSimd } from "./generated/mining_simd.generated.ts";
import { wasmBytes as metricsScalar } from "./generated/metrics_scalar.generated.ts";
import { wasmBytes as metricsSimd } from "./generated/metrics_simd.generated.ts";
import { KernelModule, type Region } from "./wasm_module.ts";
import {
  checkMiningInput,
  checkMiningOptions,
  checkRetrievalInput,
  checkSmallerIsCloser,
  checkTripletType,
} from "./mining_input.ts";
import { hasWasmSimd } from "./probe.ts";

/** Which build of the kernels to run. */
export type MiningVariant = "scalar" | "simd";

/** Options for {@link createMiningKernels}. */
export interface MiningKernelsOptions {
  /** `simd` (default when the runtime supports WebAssembly SIMD) or `scalar`. */
  variant?: MiningVariant;
  /** Largest number of triplets `tripletMargin` may return (default 16,777,216 = 2^24). */
  maxTriplets?: number;
}

/**
 * Mining and retrieval-metric kernels with the `Backend` method signatures.
 *
 * Every mining method takes a B×B `dist` matrix and a B×B `same` mask and throws
 * `ShapeError` (SHAPE_MISMATCH when dist is not square or its data has the wrong length,
 * EMPTY_INPUT when B = 0, LABEL_MISMATCH when `same` is not B×B, TOO_LARGE when the output or
 * memory would be too large) and `ValueError` (NON_FINITE naming the first bad entry,
 * INVALID_ARGUMENT for bad margins or options, UNKNOWN_NAME for an unknown triplet type).
 * `retrievalMetrics` throws EMPTY_INPUT (no queries), SHAPE_MISMATCH (mask length ≠ Q × k),
 * INVALID_ARGUMENT (k not a positive integer, R < 0, more hits than R) and OUT_OF_RANGE (R > k).
 *
 * @example
 * ```ts
 * import { createMiningKernels } from "@likeness/kernels";
 * import assert from "node:assert/strict";
 * const k = createMiningKernels();
 * const dist = { data: new Float32Array([0, 1, 2, 1, 0, 3, 2, 3, 0]), rows: 3, cols: 3 };
 * const t = await k.tripletMargin(dist, new Uint8Array([1, 1, 0, 1, 1, 0, 0, 0, 1]), { margin: 2, type: "all" });
 * assert.equal(t.count, 2);
 * assert.deepEqual(t.indices, new Int32Array([0, 1, 2, 1, 0, 2])); // (anchor, positive, negative) triplets
 * ```
 */
export interface MiningKernels {
  /** The build in use. */
  readonly variant: MiningVariant;
  /** Hardest positive and negative per anchor; `same` is the B×B positive mask. */
  batchHard(dist: Matrix, same: Uint8Array, options?: MiningOptions): Promise<BatchHardResult>;
  /** Enumerate triplets by margin type (TripletMarginMiner semantics), ordered by (a, p, n). */
  tripletMargin(
    dist: Matrix,
    same: Uint8Array,
    options: MiningOptions & { margin: number; type: TripletType },
  ): Promise<Triplets>;
  /** PairMarginMiner: positives farther than posMargin, negatives closer than negMargin. */
  pairMargin(
    dist: Matrix,
    same: Uint8Array,
    options: MiningOptions & { posMargin: number; negMargin: number },
  ): Promise<Pairs>;
  /** MultiSimilarityMiner with margin epsilon. */
  multiSimilarity(dist: Matrix, same: Uint8Array, options: MiningOptions & { epsilon: number }): Promise<Pairs>;
  /** Retrieval metrics from a `Q × k` relevance mask and R per query. */
  retrievalMetrics(relevant: Uint8Array, relevantCount: Int32Array, k: number): Promise<RetrievalMetrics>;
  /**
   * The same kernels as plain calls on this thread, once the modules are instantiated: the same
   * results and errors, returned or thrown instead of settled (for callers that cannot await,
   * such as a loss inside tfjs's gradient tape).
   */
  synchronous(): Promise<SyncMiningKernels>;
  /** Release the modules' memory; later calls throw. */
  dispose(): void;
}

/** The synchronous form of {@link MiningKernels} (from `synchronous()`). */
export type SyncMiningKernels = Synchronous<Omit<MiningKernels, "synchronous" | "dispose">>;

/** Pair capacity of the first pass; larger outputs take a second, exactly sized pass. */
const FIRST_PASS_PAIRS = 65536;

interface Modules {
  mining: KernelModule;
  metrics: KernelModule;
}

type Fn = (...args: number[]) => number;

/**
 * Create mining and retrieval-metric kernels. The WebAssembly modules are instantiated on the
 * first call; each call copies its inputs into the module's memory, runs, and copies out.
 *
 * Semantics (shared with the float64 references in `@likeness/kernels/reference`): the diagonal
 * of `same` is ignored (an anchor is never its own positive or negative); non-zero means
 * positive; `smallerIsCloser: false` flips every comparison for similarity matrices; margin
 * comparisons are done in float64 on the float32 inputs; ties go to the lower index.
 *
 * @param options `variant` (default `simd` when supported) and `maxTriplets`
 * @returns the kernels
 * @throws {ValueError} UNKNOWN_NAME for an unknown variant; UNSUPPORTED when `simd` is asked for
 *   but the runtime lacks WebAssembly SIMD; INVALID_ARGUMENT for a bad `maxTriplets`
 * @example
 * ```ts
 * import { createMiningKernels } from "@likeness/kernels";
 * import { sameLabelMatrix } from "@likeness/core";
 * const kernels = createMiningKernels({ variant: "scalar" });
 * const dist = { data: new Float32Array([0, 1, 2, 1, 0, 3, 2, 3, 0]), rows: 3, cols: 3 };
 * const r = await kernels.batchHard(dist, sameLabelMatrix([0, 0, 1]));
 * console.log(r.positive, r.negative); // Int32Array [1, 0, -1] Int32Array [2, 2, 0]
 * kernels.dispose();
 * ```
 */
export function createMiningKernels(options: MiningKernelsOptions = {}): MiningKernels {
  const variant = options.variant === undefined ? (hasWasmSimd() ? "simd" : "scalar") : checkVariant(options.variant);
  if (variant === "simd" && !hasWasmSimd()) {
    throw new ValueError(
      "UNSUPPORTED",
      'Cannot create SIMD mining kernels: this runtime lacks WebAssembly SIMD; use { variant: "scalar" }',
    );
  }
  const maxTriplets = options.maxTriplets ?? 1 << 24;
  if (!Number.isInteger(maxTriplets) || maxTriplets < 0 || maxTriplets > 0x7fffffff / 12) {
    throw new ValueError(
      "INVALID_ARGUMENT",
      `Invalid maxTriplets: expected an integer from 0 to ${Math.floor(0x7fffffff / 12)}, got ${maxTriplets}`,
    );
  }
  let modules: Promise<void> | undefined;
  let loaded: Modules | undefined;
  let disposed = false;
  const disposedError = (op: string) =>
    new ValueError("INVALID_ARGUMENT", `Cannot ${op}: these kernels were disposed; call createMiningKernels() again`);
  /** Instantiate the modules once; after disposal nothing is loaded, and `now` throws. */
  const ready = (): Promise<unknown> => {
    if (disposed) return Promise.resolve();
    modules ??= (async () => {
      loaded = {
        mining: await KernelModule.create(variant === "simd" ? miningSimd() : miningScalar()),
        metrics: await KernelModule.create(variant === "simd" ? metricsSimd() : metricsScalar()),
      };
    })();
    return modules;
  };
  /** The instantiated modules (only reached after `ready`, so only disposal can take them away). */
  const now = (op: string): Modules => {
    if (disposed || !loaded) throw disposedError(op);
    return loaded;
  };

  const sync: SyncMiningKernels = {
    variant,
    batchHard(dist, same, opts = {}) {
      // the finite scan runs in the kernel (below), not in JS
      const b = checkMiningInput(dist, same, "batch-hard mining", { finite: false });
      const sign = checkSmallerIsCloser(checkMiningOptions(opts, "batch-hard mining"), "batch-hard mining") ? 1 : -1;
      const km = now("mine batch-hard").mining;
      const [d, s, pos, neg, posD, negD] = plan(km, "mine batch-hard", 4 * b * b, b * b, 4 * b, 4 * b, 4 * b, 4 * b);
      // the kernel checks each row for non-finite values as it reads it (one pass over memory)
      copyIn(km, d, s, dist, same, "mine batch-hard", false);
      const badRow = km.fn<Fn>("batch_hard_f32")(
        d.offset,
        s.offset,
        b,
        sign,
        pos.offset,
        neg.offset,
        posD.offset,
        negD.offset,
      );
      if (badRow >= 0) checkFiniteIn(km, d, dist, "mine batch-hard");
      const positive = copyOut(km.i32(pos));
      const negative = copyOut(km.i32(neg));
      const validPositive = new Uint8Array(b);
      const validNegative = new Uint8Array(b);
      for (let i = 0; i < b; i++) {
        validPositive[i] = positive[i] >= 0 ? 1 : 0;
        validNegative[i] = negative[i] >= 0 ? 1 : 0;
      }
      return {
        positive,
        negative,
        positiveDistance: copyOut(km.f32(posD)),
        negativeDistance: copyOut(km.f32(negD)),
        validPositive,
        validNegative,
      };
    },

    tripletMargin(dist, same, opts) {
      const op = "mine triplets";
      const what = "triplet mining";
      // the finite scan runs in the kernel (copyIn), not in JS
      const b = checkMiningInput(dist, same, what, { finite: false });
      const o = checkMiningOptions(opts, what);
      const sign = checkSmallerIsCloser(o, what) ? 1 : -1;
      const margin = checkFiniteNumber(o.margin, "margin", what);
      const type = checkTripletType(o.type);
      let lo = -Infinity;
      let hi = Infinity;
      if (type === "all") hi = margin;
      else if (type === "hard") hi = Math.min(margin, 0);
      else if (type === "semihard") {
        lo = 0;
        hi = margin;
      } else lo = margin;
      const km = now(op).mining;
      const run = km.fn<Fn>("triplet_margin_f32");
      const scratchBytes = 16 * b + 16;
      const [d, s, scratch] = plan(km, op, 4 * b * b, b * b, scratchBytes);
      copyIn(km, d, s, dist, same, op);
      const count = run(d.offset, s.offset, b, sign, lo, hi, scratch.offset, 0, 0);
      if (count > maxTriplets) {
        throw new ShapeError(
          `Cannot ${op}: ${count} triplets exceed maxTriplets (${maxTriplets}); use a smaller batch, a stricter type or margin, or raise maxTriplets in createMiningKernels()`,
          "TOO_LARGE",
          { details: { count, maxTriplets } },
        );
      }
      const [, , , out] = plan(km, op, 4 * b * b, b * b, scratchBytes, 12 * count);
      run(d.offset, s.offset, b, sign, lo, hi, scratch.offset, out.offset, count);
      return { indices: copyOut(km.i32(out)), count };
    },

    pairMargin(dist, same, opts) {
      const op = "mine margin pairs";
      const what = "pair-margin mining";
      // the finite scan runs in the kernel (copyIn), not in JS
      const b = checkMiningInput(dist, same, what, { finite: false });
      const o = checkMiningOptions(opts, what);
      const sign = checkSmallerIsCloser(o, what) ? 1 : -1;
      const posMargin = checkFiniteNumber(o.posMargin, "posMargin", what);
      const negMargin = checkFiniteNumber(o.negMargin, "negMargin", what);
      const km = now(op).mining;
      return runPairs(km, "pair_margin_f32", dist, same, b, [sign, posMargin, negMargin], op);
    },

    multiSimilarity(dist, same, opts) {
      const op = "mine multi-similarity pairs";
      const what = "multi-similarity mining";
      // the finite scan runs in the kernel (copyIn), not in JS
      const b = checkMiningInput(dist, same, what, { finite: false });
      const o = checkMiningOptions(opts, what);
      const sign = checkSmallerIsCloser(o, what) ? 1 : -1;
      const epsilon = checkFiniteNumber(o.epsilon, "epsilon", what);
      const km = now(op).mining;
      return runPairs(km, "multi_similarity_f32", dist, same, b, [sign, epsilon], op);
    },

    retrievalMetrics(relevant, relevantCount, k) {
      const op = "compute retrieval metrics";
      const q = checkRetrievalInput(relevant, relevantCount, k);
      const km = now(op).metrics;
      const [rel, cnt, out] = plan(km, op, q * k, 4 * q, 48);
      km.u8(rel).set(relevant);
      km.i32(cnt).set(relevantCount);
      km.fn<Fn>("retrieval_metrics")(rel.offset, cnt.offset, q, k, out.offset);
      const v = new Float64Array(km.memory.buffer, out.offset, 6);
      return {
        precisionAtK: v[0],
        recallAtK: v[1],
        mrr: v[2],
        rPrecision: v[3],
        mapAtR: v[4],
        queries: v[5],
      };
    },
  };

  return {
    variant,
    // Each runs its synchronous form once the modules are there (which validates, then throws if disposed).
    batchHard: (dist, same, opts) => ready().then(() => sync.batchHard(dist, same, opts)),
    tripletMargin: (dist, same, opts) => ready().then(() => sync.tripletMargin(dist, same, opts)),
    pairMargin: (dist, same, opts) => ready().then(() => sync.pairMargin(dist, same, opts)),
    multiSimilarity: (dist, same, opts) => ready().then(() => sync.multiSimilarity(dist, same, opts)),
    retrievalMetrics: (relevant, relevantCount, k) =>
      ready().then(() => sync.retrievalMetrics(relevant, relevantCount, k)),
    synchronous: () => disposed ? Promise.reject(disposedError("run synchronously")) : ready().then(() => sync),
    dispose() {
      disposed = true;
      modules = undefined;
      loaded = undefined;
    },
  };
}

function checkVariant(v: unknown): MiningVariant {
  if (v !== "scalar" && v !== "simd") {
    throw new ValueError("UNKNOWN_NAME", `Unknown mining kernel variant ${JSON.stringify(v)}: use one of scalar, simd`);
  }
  return v;
}

/** Lay out regions in the module's memory; a failed growth becomes a TOO_LARGE error. */
function plan(km: KernelModule, op: string, ...sizes: number[]): Region[] {
  const total = sizes.reduce((a, n) => a + n + 16, km.heapBase);
  if (total > 0xffff0000) {
    throw new ShapeError(
      `Cannot ${op}: it needs ${total} bytes of WebAssembly memory (at most 4 GiB); use a smaller batch`,
      "TOO_LARGE",
    );
  }
  try {
    return km.layout(...sizes);
  } catch (e) {
    throw new ShapeError(
      `Cannot ${op}: could not grow WebAssembly memory to ${total} bytes; use a smaller batch`,
      "TOO_LARGE",
      {
        cause: e,
      },
    );
  }
}

/** Copy dist and same into the module and (unless `check` is false) reject non-finite distances. */
function copyIn(
  km: KernelModule,
  d: Region,
  s: Region,
  dist: Matrix,
  same: Uint8Array,
  op: string,
  check = true,
): void {
  km.f32(d).set(dist.data);
  km.u8(s).set(same);
  if (check) checkFiniteIn(km, d, dist, op);
}

/** Throw NON_FINITE naming the first NaN or ±Infinity of dist (scanned in the kernel). */
function checkFiniteIn(km: KernelModule, d: Region, dist: Matrix, op: string): void {
  const bad = km.fn<Fn>("first_nonfinite_f32")(d.offset, dist.data.length);
  if (bad >= 0) {
    const b = dist.rows;
    throw new ValueError(
      "NON_FINITE",
      `Cannot ${op}: dist[${Math.floor(bad / b)}, ${bad % b}] is ${dist.data[bad]}; every distance must be finite`,
      { details: { row: Math.floor(bad / b), col: bad % b } },
    );
  }
}

/** Run a pair kernel with a first pass of bounded capacity and, if needed, an exact second pass. */
function runPairs(
  km: KernelModule,
  name: string,
  dist: Matrix,
  same: Uint8Array,
  b: number,
  params: number[],
  op: string,
): Pairs {
  const run = km.fn<Fn>(name);
  let capPos = Math.min(b * (b - 1), FIRST_PASS_PAIRS);
  let capNeg = capPos;
  let [d, s, counts, pos, neg] = plan(km, op, 4 * b * b, b * b, 8, 8 * capPos, 8 * capNeg);
  copyIn(km, d, s, dist, same, op);
  run(d.offset, s.offset, b, ...params, pos.offset, capPos, neg.offset, capNeg, counts.offset);
  let [np, nn] = km.i32(counts);
  if (np > capPos || nn > capNeg) {
    capPos = np;
    capNeg = nn;
    [d, s, counts, pos, neg] = plan(km, op, 4 * b * b, b * b, 8, 8 * capPos, 8 * capNeg);
    run(d.offset, s.offset, b, ...params, pos.offset, capPos, neg.offset, capNeg, counts.offset);
    [np, nn] = km.i32(counts);
  }
  return {
    positive: copyOut(new Int32Array(km.memory.buffer, pos.offset, 2 * np)),
    negative: copyOut(new Int32Array(km.memory.buffer, neg.offset, 2 * nn)),
  };
}

/**
 * Copy a view of module memory into a fresh array. `new T(n)` + `set` rather than `slice()`:
 * slicing a large view of WebAssembly memory is over 10× slower in V8 and in JavaScriptCore.
 */
function copyOut<T extends Int32Array | Float32Array>(view: T): T {
  const out = new (view.constructor as new (n: number) => T)(view.length);
  out.set(view);
  return out;
}
