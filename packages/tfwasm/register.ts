/**
 * Registering likeness's WebAssembly kernels as tfjs kernels for the `wasm` backend, where
 * tfjs-backend-wasm 4.22 lacks them (convnet and embedding-lookup gradients).
 *
 * @module
 */
import { type ConvKernels, type ConvVariant, createConvKernels } from "@likeness/kernels";
import { tf } from "@likeness/tf";
import { _conv2dBackpropFilter, type _KernelFunc, _unsortedSegmentSum } from "./_kernels.ts";

/** The tfjs kernels this package can provide for the `wasm` backend. */
export const LIKENESS_WASM_KERNELS: readonly string[] = ["Conv2DBackpropFilter", "UnsortedSegmentSum"];

/** Options for {@link registerLikenessWasmKernels}. */
export interface RegisterOptions {
  /** Build of the WebAssembly kernels: `simd` (default where supported) or `scalar`. */
  variant?: ConvVariant;
}

/** What {@link registerLikenessWasmKernels} did. */
export interface RegisterReport {
  /** Kernels registered by this call. */
  registered: string[];
  /** Kernels the wasm backend already had (from tfjs, or from an earlier call). */
  present: string[];
  /** Build of the kernels that serve the registered names (of the first call that registered any). */
  variant: ConvVariant;
}

let _kernels: Promise<ConvKernels> | undefined;

/**
 * Register, for tfjs's `wasm` backend, each kernel of {@link LIKENESS_WASM_KERNELS} that it lacks
 * (Conv2DBackpropFilter, needed to train any convnet; UnsortedSegmentSum, the gradient of
 * `tf.gather`). Idempotent: kernels already present are left alone, so a later tfjs that ships
 * its own keeps it. Call once before training; it does not switch the backend.
 *
 * @param options kernel build (the first call's choice stays in effect)
 * @returns which kernels were registered and which were already there
 * @throws {ValueError} UNKNOWN_NAME for an unknown variant; UNSUPPORTED for `simd` without WebAssembly SIMD
 * @example
 * ```ts
 * import { useTfBackend } from "@likeness/tf";
 * import { registerLikenessWasmKernels } from "@likeness/tfwasm";
 * await registerLikenessWasmKernels();
 * await useTfBackend("wasm"); // tf.grad through tf.conv2d now works on wasm
 * ```
 */
export async function registerLikenessWasmKernels(options: RegisterOptions = {}): Promise<RegisterReport> {
  if (!_kernels) {
    const p = createConvKernels({ variant: options.variant });
    _kernels = p;
    p.catch(() => {
      if (_kernels === p) _kernels = undefined;
    });
  }
  const k = await _kernels;
  const funcs: Record<string, _KernelFunc> = {
    Conv2DBackpropFilter: _conv2dBackpropFilter(k),
    UnsortedSegmentSum: _unsortedSegmentSum(k),
  };
  const registered: string[] = [];
  const present: string[] = [];
  for (const kernelName of LIKENESS_WASM_KERNELS) {
    if (tf.getKernel(kernelName, "wasm")) {
      present.push(kernelName);
      continue;
    }
    tf.registerKernel({ kernelName, backendName: "wasm", kernelFunc: funcs[kernelName] as unknown as tf.KernelFunc });
    registered.push(kernelName);
  }
  return { registered, present, variant: k.variant };
}
