/**
 * Registering likeness's WebAssembly kernels as tfjs kernels for the `wasm` backend, where
 * tfjs-backend-wasm 4.22 lacks them (convnet and embedding-lookup gradients) or, on request,
 * where likeness's are faster.
 *
 * @module
 */
import {
  type ConvKernels,
  type ConvVariant,
  createConvKernels,
  createMatMulKernels,
  defaultThreads,
  hasRelaxedSimd,
  hasWasmSimd,
  type MatMulKernels,
  type MatMulVariant,
} from "@likeness/kernels";
import { tf } from "@likeness/tf";
import {
  _conv2dBackpropFilter,
  _conv2dBackpropInput,
  type _KernelFunc,
  _maxPoolGrad,
  _unsortedSegmentSum,
} from "./_kernels.ts";
import { _gatherV2 } from "./_gather.ts";
import { _conv2d, _conv2dForward } from "./_conv2d.ts";
import { _matMulKernel, _WayChooser } from "./_matmul.ts";
import { _slice, _splitV } from "./_slice.ts";
import { _sum } from "./_sum.ts";

/** The tfjs kernels this package provides for the `wasm` backend where it lacks them. */
export const LIKENESS_WASM_KERNELS: readonly string[] = ["Conv2DBackpropFilter", "UnsortedSegmentSum"];

/**
 * tfjs-backend-wasm kernels that likeness implements faster (measured in `bench/conv_backprop.ts` and
 * `bench/matmul_tfjs.ts`); replaced only with `replace: true` (which importing this package does).
 */
export const LIKENESS_FASTER_WASM_KERNELS: readonly string[] = [
  "Conv2DBackpropInput",
  "MaxPoolGrad",
  "BatchMatMul",
  "_FusedMatMul",
  "GatherV2",
  "Slice",
  "SplitV",
  "Sum",
  "Conv2D",
  "FusedConv2D",
];

/** Options for {@link registerLikenessWasmKernels}. */
export interface RegisterOptions {
  /** Build of the WebAssembly conv kernels: `simd` (default where supported) or `scalar`. */
  variant?: ConvVariant;
  /**
   * Build of the matmul kernels: `relaxed` (the default where relaxed SIMD validates: one fused
   * multiply-add per step on V8, the fastest build there; JavaScriptCore runs it as a multiply then an
   * add), `simd` (a multiply then an add everywhere: the same bits in Deno and Bun) or `scalar`. A
   * later call with another build swaps the registered matmul kernels.
   */
  matMulVariant?: MatMulVariant;
  /**
   * Threads of the matmul kernels (default: the machine's cores, at most 4); Workers stop after a
   * second without a large product and restart on the next one.
   */
  threads?: number;
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
  /** Build of likeness's conv kernels (the first call's choice). */
  variant: ConvVariant;
  /** Build of likeness's matmul kernels (the first call's choice). */
  matMulVariant: MatMulVariant;
}

/** The conv build of the first call that created conv kernels (later calls keep it), once fixed. */
let _convVariant: ConvVariant | undefined;
let _convFixed = false;
/** Conv kernels on each matmul kernels' threads (the gradients share their Workers). */
const _convOn = new WeakMap<MatMulKernels, Promise<ConvKernels>>();
/** Matmul kernels by variant (a later call may ask for another build). */
const _matmul = new Map<MatMulVariant, Promise<MatMulKernels>>();
let _matmulVariant: MatMulVariant | undefined;
const _ours = new Set<unknown>();
/** Our matmul kernel functions and the build each runs. */
const _ourMatMul = new Map<unknown, MatMulVariant>();
/** The kernels registered before ours (tfjs-backend-wasm's), by name, for fallback and restore. */
const _before = new Map<string, tf.KernelConfig>();

const _defaultThreads = (): number => defaultThreads(4);

/**
 * Register, for tfjs's `wasm` backend, each kernel of {@link LIKENESS_WASM_KERNELS} that it lacks
 * (Conv2DBackpropFilter, needed to train any convnet; UnsortedSegmentSum, the gradient of
 * `tf.gather`); with `replace: true` also likeness's faster Conv2DBackpropInput, MaxPoolGrad,
 * BatchMatMul and _FusedMatMul (multi-threaded), GatherV2, Slice, SplitV, Sum (over every axis but the
 * last), and Conv2D / FusedConv2D for 1×1
 * stride-1 filters (as products; other convolutions fall back to tfjs's), replacing whatever is registered under these
 * names (the replaced kernel is kept: ours fall back to it for inputs they do not cover, and
 * {@link restoreTfjsWasmKernels} puts it back). Importing `@likeness/tfwasm` already calls this
 * with `replace: true`. Idempotent: without `replace`, kernels already present are left alone (a
 * later tfjs that ships its own keeps it); likeness's own are never registered twice. It does not
 * switch the backend.
 *
 * @param options kernel builds and threads (the first call's choice stays in effect) and `replace`
 * @returns which kernels were registered or replaced and which were left alone
 * @throws {ValueError} UNKNOWN_NAME for an unknown variant; UNSUPPORTED for a build the runtime lacks;
 *   INVALID_ARGUMENT for threads outside 1..64
 * @example
 * ```ts
 * import { useTfBackend } from "@likeness/tf";
 * import { registerLikenessWasmKernels } from "@likeness/tfwasm";
 * const report = await registerLikenessWasmKernels({ replace: true });
 * await useTfBackend("wasm"); // tf.grad through tf.conv2d now works on wasm
 * console.log(report.present.includes("BatchMatMul")); // true: importing @likeness/tfwasm registered it
 * ```
 */
export async function registerLikenessWasmKernels(options: RegisterOptions = {}): Promise<RegisterReport> {
  // Default: the fastest build the runtime has, as every other likeness kernel. "relaxed" is one FMA
  // per step on V8 (one rounding, so results differ from Bun's in the last bits, each within float
  // tolerance of tfjs's own); "simd" (multiply, then add) gives the same bits in every runtime.
  const mmVariant = options.matMulVariant ?? _matmulVariant ??
    (hasRelaxedSimd() ? "relaxed" : hasWasmSimd() ? "simd" : "scalar");
  if (!_matmul.has(mmVariant)) {
    const p = createMatMulKernels({ variant: mmVariant, threads: options.threads ?? _defaultThreads() });
    _matmul.set(mmVariant, p);
    p.catch(() => {
      if (_matmul.get(mmVariant) === p) _matmul.delete(mmVariant);
    });
  }
  const mm = await _matmul.get(mmVariant)!;
  let kp = _convOn.get(mm);
  if (!kp) {
    const p = createConvKernels({ variant: _convFixed ? _convVariant : options.variant, matmul: mm });
    _convOn.set(mm, kp = p);
    p.catch(() => {
      if (_convOn.get(mm) === p) _convOn.delete(mm);
    });
  }
  const k = await kp;
  if (!_convFixed) [_convFixed, _convVariant] = [true, k.variant];
  const fallback = (name: string) => _before.get(name)?.kernelFunc as unknown as _KernelFunc | undefined;
  // One chooser for every product kernel: their products run on the same kernels, so what one
  // measured (the warm-up, a shape family's times) holds for the others.
  const chooser = new _WayChooser();
  const funcs: Record<string, () => _KernelFunc> = {
    Conv2DBackpropFilter: () => _conv2dBackpropFilter(k),
    Conv2DBackpropInput: () => _conv2dBackpropInput(k),
    MaxPoolGrad: () => _maxPoolGrad(k),
    UnsortedSegmentSum: () => _unsortedSegmentSum(k),
    BatchMatMul: () => _matMulKernel(mm, false, fallback("BatchMatMul"), chooser),
    _FusedMatMul: () => _matMulKernel(mm, true, fallback("_FusedMatMul"), chooser),
    GatherV2: () => _gatherV2(fallback("GatherV2")),
    Slice: () => _slice(fallback("Slice")),
    SplitV: () => _splitV(fallback("SplitV")),
    Sum: () => _sum(fallback("Sum")),
    // Pointwise (1×1) convolutions as our products (in place or on the Workers: the same bits either
    // way, so a frozen encoder gives the same output call after call; tfjs's XNNPACK sums in another order).
    // Stride-1 convolutions as the input gradient of a flipped filter, when the kernels have Workers
    // (on one thread XNNPACK is faster): always then, so a model's output does not change with them.
    Conv2D: () =>
      _conv2d(
        _matMulKernel(mm, true, undefined, chooser),
        false,
        fallback("Conv2D"),
        mm.maxThreads > 1 ? _conv2dForward(k) : undefined,
      ),
    FusedConv2D: () => _conv2d(_matMulKernel(mm, true, undefined, chooser), true, fallback("FusedConv2D")),
  };
  const registered: string[] = [];
  const replaced: string[] = [];
  const present: string[] = [];
  const names = options.replace ? [...LIKENESS_WASM_KERNELS, ...LIKENESS_FASTER_WASM_KERNELS] : LIKENESS_WASM_KERNELS;
  for (const kernelName of names) {
    const existing = tf.getKernel(kernelName, "wasm");
    const otherBuild = _ourMatMul.has(existing?.kernelFunc) && _ourMatMul.get(existing?.kernelFunc) !== mm.variant;
    if (existing && !otherBuild && (_ours.has(existing.kernelFunc) || !options.replace)) {
      present.push(kernelName);
      continue;
    }
    if (existing) {
      if (!_ours.has(existing.kernelFunc)) {
        _before.set(kernelName, existing);
        replaced.push(kernelName);
      }
      tf.unregisterKernel(kernelName, "wasm");
    }
    const kernelFunc = funcs[kernelName]() as unknown as tf.KernelFunc;
    _ours.add(kernelFunc);
    if (kernelName === "BatchMatMul" || kernelName === "_FusedMatMul") {
      _ourMatMul.set(kernelFunc, mm.variant);
      _matmulVariant = mm.variant;
    }
    // The replaced kernel's setup (tfjs-backend-wasm binds its C function there) still runs when the
    // backend starts after this call, so the fallback works.
    const setupFunc = _before.get(kernelName)?.setupFunc;
    tf.registerKernel({ kernelName, backendName: "wasm", kernelFunc, setupFunc });
    registered.push(kernelName);
  }
  return { registered, replaced, present, variant: k.variant, matMulVariant: _matmulVariant ?? mm.variant };
}

/**
 * Put back the tfjs-backend-wasm kernels that {@link registerLikenessWasmKernels} replaced (to
 * compare with stock tfjs, or to rule likeness's kernels out); the kernels tfjs lacks stay. A later
 * `registerLikenessWasmKernels({ replace: true })` swaps them in again.
 *
 * @returns the kernel names put back
 * @example
 * ```ts
 * import { isLikenessWasmKernel, restoreTfjsWasmKernels } from "@likeness/tfwasm";
 * restoreTfjsWasmKernels();
 * console.log(isLikenessWasmKernel("BatchMatMul")); // false
 * ```
 */
export function restoreTfjsWasmKernels(): string[] {
  const restored: string[] = [];
  for (const [kernelName, config] of _before) {
    const current = tf.getKernel(kernelName, "wasm");
    if (current && !_ours.has(current.kernelFunc)) continue;
    if (current) tf.unregisterKernel(kernelName, "wasm");
    tf.registerKernel(config);
    restored.push(kernelName);
  }
  _before.clear();
  return restored;
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
