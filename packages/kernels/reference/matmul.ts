/**
 * Float64 reference of the matmul kernels (spec and test oracle): C = act(op(A)·op(B) + bias),
 * batched with broadcasting of a batch of 1.
 *
 * @module
 */

/** Activations fused into the matmul (tfjs's `_FusedMatMul` names). */
export type MatMulActivation = "linear" | "relu" | "relu6" | "leakyrelu" | "prelu" | "sigmoid" | "elu";

/** Shape and options of one (batched) matrix product. */
export interface MatMulSpec {
  /** Rows of the output (of op(A)). */
  m: number;
  /** Columns of the output (of op(B)). */
  n: number;
  /** Inner dimension. */
  k: number;
  /** Output batches (default 1). */
  batch?: number;
  /** Batches held by A: `batch` or 1 (broadcast). Default `batch`. */
  batchA?: number;
  /** Batches held by B: `batch` or 1 (broadcast). Default `batch`. */
  batchB?: number;
  /** A is stored as `K × M` (default false: `M × K`). */
  transposeA?: boolean;
  /** B is stored as `N × K` (default false: `K × N`). */
  transposeB?: boolean;
  /** Added to every row: N values, or 1 (broadcast). */
  bias?: ArrayLike<number>;
  /** Applied after the bias (default `linear`). */
  activation?: MatMulActivation;
  /** Slope of `leakyrelu` (default 0.2, as tfjs). */
  leakyreluAlpha?: number;
  /** Slopes of `prelu`: N values, or 1. */
  prelu?: ArrayLike<number>;
  /**
   * An identity for B's values (a frozen weight's tensor, say): products given the same key promise
   * the same B, so the WebAssembly kernels may keep B in their memory and not copy it again
   * (`MATMUL_RESIDENT_AFTER` in `matmul.ts`). Never give one key to other values. The reference
   * ignores it.
   */
  bKey?: object;
}

function act(spec: MatMulSpec, x: number, j: number): number {
  switch (spec.activation ?? "linear") {
    case "relu":
      return Math.max(0, x);
    case "relu6":
      return Math.min(6, Math.max(0, x));
    case "leakyrelu":
      return x < 0 ? (spec.leakyreluAlpha ?? 0.2) * x : x;
    case "prelu": {
      const p = spec.prelu!;
      return x < 0 ? p[p.length === 1 ? 0 : j] * x : x;
    }
    case "sigmoid":
      return 1 / (1 + Math.exp(-x));
    case "elu":
      return x >= 0 ? x : Math.exp(x) - 1;
    default:
      return x;
  }
}

/**
 * C = act(op(A)·op(B) + bias) in float64, written for clarity.
 *
 * @param a A, `batchA × M × K` (or `batchA × K × M` when transposed), row-major
 * @param b B, `batchB × K × N` (or `batchB × N × K` when transposed), row-major
 * @param spec shapes and options
 * @returns C, `batch × M × N`, row-major
 * @example
 * ```ts
 * import { matMulReference } from "./matmul.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual([...matMulReference([1, 2], [3, 4], { m: 1, n: 1, k: 2 })], [11]);
 * ```
 */
export function matMulReference(a: ArrayLike<number>, b: ArrayLike<number>, spec: MatMulSpec): Float64Array {
  const { m, n, k } = spec;
  const batch = spec.batch ?? 1;
  const ba = spec.batchA ?? batch;
  const bb = spec.batchB ?? batch;
  const out = new Float64Array(batch * m * n);
  for (let t = 0; t < batch; t++) {
    const ao = ba === 1 ? 0 : t * m * k;
    const bo = bb === 1 ? 0 : t * k * n;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let p = 0; p < k; p++) {
          const x = a[ao + (spec.transposeA ? p * m + i : i * k + p)];
          const y = b[bo + (spec.transposeB ? j * k + p : p * n + j)];
          s += x * y;
        }
        if (spec.bias) s += spec.bias[spec.bias.length === 1 ? 0 : j];
        out[(t * m + i) * n + j] = act(spec, s, j);
      }
    }
  }
  return out;
}
