/**
 * Registering likeness's WebAssembly kernels as tfjs kernels for the `wasm` backend, where
 * tfjs-backend-wasm 4.22 lacks them (convnet and embedding-lookup gradients) or, on request,
 * where likeness's are faster.
 *
 * @module
 */
import { type ConvKernels, type ConvVariant, createConvKernels } from "@likeness/kernels";
import { tf } from "@likeness/tf";
import {
  _conv2dBackpropFilter,
  _conv2dBackpropInput,
  type _KernelFunc,
  _maxPoolGrad,
  _unsortedSegmentSum,
} from "./_kernels.ts";

/** The tfjs kernels this package provides for the `wasm` backend where it lacks them. */
export const LIKENESS_WASM_KERNELS: readonly string[] = ["Conv2DBackpropFilter", "UnsortedSegmentSum"];

/**
 * tfjs-backend-wasm kernels that likeness implements faster (measured in `bench/conv_backprop.ts`);
 * replaced only with `replace: true`.
 */
export const LIKENESS_FASTER_WASM_KERNELS: readonly string[] = ["Conv2DBackpropInput", "MaxPoolGrad"];

/** Options for {@link registerLikenessWasmKernels}. */
export interface RegisterOptions {
  /** Build of the WebAssembly kernels: `simd` (default where supported) or `scalar`. */
  variant?: ConvVariant;
  /**
   * Also register {@link LIKENESS_FASTER_WASM_KERNELS} (faster than tfjs-backend-wasm's own), and
   * replace any kernel of either list registered by someone else (tfjs, or a stopgap composed
   * from other kernels). Default false: only missing kernels are registered.
   */
  replace?: boolean;
}

/** What {@link registerLikenessWasmKernels} did. */
export interface RegisterReport {
  /** Kernels registered by this call (including replacements). */
  registered: string[];
  /** Of those, the ones that replaced a tfjs-backend-wasm kernel. */
  replaced: string[];
  /** Kernels left as they were (tfjs's own, or likeness's from an earlier call). */
  present: string[];
  /** Build of likeness's kernels (the first call's choice). */
  variant: ConvVariant;
}

let _kernels: Promise<ConvKernels> | undefined;
const _ours = new Set<unknown>();

/**
 * Register, for tfjs's `wasm` backend, each kernel of {@link LIKENESS_WASM_KERNELS} that it lacks
 * (Conv2DBackpropFilter, needed to train any convnet; UnsortedSegmentSum, the gradient of
 * `tf.gather`); with `replace: true` also likeness's faster Conv2DBackpropInput and MaxPoolGrad,
 * replacing whatever is registered under these names. Idempotent: without `replace`, kernels
 * already present are left alone (a later tfjs that ships its own keeps it); likeness's own are
 * never registered twice. Call once before training; it does not switch the backend.
 *
 * @param options kernel build (the first call's choice stays in effect) and `replace`
 * @returns which kernels were registered or replaced and which were left alone
 * @throws {ValueError} UNKNOWN_NAME for an unknown variant; UNSUPPORTED for `simd` without WebAssembly SIMD
 * @example
 * ```ts
 * import { useTfBackend } from "@likeness/tf";
 * import { registerLikenessWasmKernels } from "@likeness/tfwasm";
 * await registerLikenessWasmKernels({ replace: true });
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
    Conv2DBackpropInput: _conv2dBackpropInput(k),
    MaxPoolGrad: _maxPoolGrad(k),
    UnsortedSegmentSum: _unsortedSegmentSum(k),
  };
  const registered: string[] = [];
  const replaced: string[] = [];
  const present: string[] = [];
  const names = options.replace ? [...LIKENESS_WASM_KERNELS, ...LIKENESS_FASTER_WASM_KERNELS] : LIKENESS_WASM_KERNELS;
  for (const kernelName of names) {
    const existing = tf.getKernel(kernelName, "wasm");
    if (existing && (_ours.has(existing.kernelFunc) || !options.replace)) {
      present.push(kernelName);
      continue;
    }
    if (existing) {
      tf.unregisterKernel(kernelName, "wasm");
      replaced.push(kernelName);
    }
    const kernelFunc = funcs[kernelName] as unknown as tf.KernelFunc;
    _ours.add(kernelFunc);
    tf.registerKernel({ kernelName, backendName: "wasm", kernelFunc });
    registered.push(kernelName);
  }
  return { registered, replaced, present, variant: k.variant };
}

/**
 * Whether the kernel registered for `wasm` under this name is likeness's own.
 *
 * @param kernelName a tfjs kernel name, e.g. "Conv2DBackpropFilter"
 * @returns true when {@link registerLikenessWasmKernels} registered the current kernel
 * @example
 * ```ts
 * import { isLikenessWasmKernel, registerLikenessWasmKernels } from "@likeness/tfwasm";
 * await registerLikenessWasmKernels();
 * console.log(isLikenessWasmKernel("Conv2DBackpropFilter")); // true
 * ```
 */
export function isLikenessWasmKernel(kernelName: string): boolean {
  const k = tf.getKernel(kernelName, "wasm");
  return k !== undefined && _ours.has(k.kernelFunc);
}
