/**
 * tfjs `BatchMatMul` and `_FusedMatMul` for the wasm backend on likeness's matmul kernels
 * (`createMatMulKernels` from `@likeness/kernels`): transposed operands are read in place, bias and
 * activation are fused, large products run on every thread of the kernels' Worker pool. What they
 * do not cover (non-float32 inputs, batch shapes that broadcast other than by a batch of 1, a bias or
 * PReLU weights that are not one value per column) runs on the kernel that was registered before.
 *
 * @module
 */
import type { MatMulActivation, MatMulKernels, MatMulSpec } from "@likeness/kernels";
import { MATMUL_ACTIVATIONS } from "@likeness/kernels";
import type { _KernelFunc } from "./_kernels.ts";

interface _TensorInfo {
  dataId: object;
  shape: number[];
  dtype: string;
}

interface _WasmBackend {
  makeOutput(shape: number[], dtype: string): _TensorInfo;
  typedArrayFromHeap(t: _TensorInfo): Float32Array | Int32Array | Uint8Array;
}

type _MatMulAttrs = {
  transposeA: boolean;
  transposeB: boolean;
  activation?: string;
  leakyreluAlpha?: number;
};

const _size = (shape: number[]): number => shape.reduce((p, d) => p * d, 1);

/** The output batch shape when A's and B's batch shapes broadcast as our kernels can (equal, or one has 1 batch). */
function _batchShape(a: number[], b: number[]): number[] | null {
  const sa = _size(a);
  const sb = _size(b);
  if (sa === 1 && sb === 1) return a.length >= b.length ? a : b;
  if (sb === 1) return b.length <= a.length ? a : null;
  if (sa === 1) return a.length <= b.length ? b : null;
  if (a.length !== b.length || a.some((d, i) => d !== b[i])) return null;
  return a;
}

/**
 * A BatchMatMul (`fused` false) or _FusedMatMul (`fused` true) kernel; `fallback` runs what ours do not cover.
 *
 * @param k the matmul kernels
 * @param fused whether bias, activation and PReLU weights come with it
 * @param fallback the kernel registered before ours (tfjs-backend-wasm's)
 * @returns the kernel function
 */
export function _matMulKernel(k: MatMulKernels, fused: boolean, fallback?: _KernelFunc): _KernelFunc {
  return (args) => {
    const { inputs, backend, attrs } = args;
    const { a, b, bias, preluActivationWeights: prelu } = inputs;
    const at = attrs as _MatMulAttrs;
    const activation = (fused ? at.activation ?? "linear" : "linear") as MatMulActivation;
    const ra = a.shape.length;
    const rb = b.shape.length;
    const m = at.transposeA ? a.shape[ra - 1] : a.shape[ra - 2];
    const kk = at.transposeA ? a.shape[ra - 2] : a.shape[ra - 1];
    const kb = at.transposeB ? b.shape[rb - 1] : b.shape[rb - 2];
    const n = at.transposeB ? b.shape[rb - 2] : b.shape[rb - 1];
    const outer = _batchShape(a.shape.slice(0, -2), b.shape.slice(0, -2));
    const ours = a.dtype === "float32" && b.dtype === "float32" && ra >= 2 && rb >= 2 && kk === kb &&
      outer !== null && MATMUL_ACTIVATIONS.includes(activation) &&
      (!bias || (bias.dtype === "float32" && (_size(bias.shape) === n || _size(bias.shape) === 1) &&
        (bias.shape.length <= 1 || bias.shape.slice(0, -1).every((d) => d === 1)))) &&
      (activation !== "prelu" ||
        (prelu !== undefined && prelu.dtype === "float32" &&
          (_size(prelu.shape) === n || _size(prelu.shape) === 1)));
    if (!ours) {
      if (!fallback) {
        throw new Error(
          `${fused ? "_FusedMatMul" : "BatchMatMul"} on wasm (likeness): unsupported inputs ` +
            `(${a.dtype} ${JSON.stringify(a.shape)} × ${b.dtype} ${
              JSON.stringify(b.shape)
            }) and no tfjs kernel to fall back to`,
        );
      }
      return fallback(args);
    }
    const be = backend as _WasmBackend;
    const batch = _size(outer);
    const out = be.makeOutput([...outer, m, n], "float32");
    const spec: MatMulSpec = {
      m,
      n,
      k: kk,
      batch,
      batchA: _size(a.shape.slice(0, -2)),
      batchB: _size(b.shape.slice(0, -2)),
      transposeA: at.transposeA,
      transposeB: at.transposeB,
      activation,
      leakyreluAlpha: at.leakyreluAlpha ?? 0.2,
    };
    // Views after makeOutput: its allocation may grow (and detach) the heap.
    if (bias) spec.bias = be.typedArrayFromHeap(bias) as Float32Array;
    if (activation === "prelu") spec.prelu = be.typedArrayFromHeap(prelu) as Float32Array;
    k.matMul(
      be.typedArrayFromHeap(a) as Float32Array,
      be.typedArrayFromHeap(b) as Float32Array,
      spec,
      be.typedArrayFromHeap(out) as Float32Array,
    );
    return out;
  };
}
