/**
 * Feature probes: tiny pure functions over tiny modules.
 *
 * @module
 */
import { wasmBytes as simdProbe } from "./generated/probe_simd.generated.ts";
import { wasmBytes as relaxedProbe } from "./generated/probe_relaxed.generated.ts";
import { validates } from "./wasm_module.ts";

/**
 * Whether this runtime supports WebAssembly SIMD (validates a one-instruction module).
 *
 * @returns true when fixed-width SIMD is available
 * @example
 * ```ts
 * import { hasWasmSimd } from "@likeness/kernels";
 * console.log(hasWasmSimd());
 * ```
 */
export function hasWasmSimd(): boolean {
  return validates(simdProbe());
}

/**
 * Whether this runtime supports relaxed SIMD (`f32x4.relaxed_madd`).
 *
 * @returns true when relaxed SIMD is available
 * @example
 * ```ts
 * import { hasRelaxedSimd } from "@likeness/kernels";
 * console.log(hasRelaxedSimd());
 * ```
 */
export function hasRelaxedSimd(): boolean {
  return validates(relaxedProbe());
}

/**
 * Whether WebAssembly threads (shared memory and Workers) are available.
 *
 * @returns true when SharedArrayBuffer, Atomics and Worker exist
 */
export function hasWasmThreads(): boolean {
  return typeof SharedArrayBuffer === "function" && typeof Atomics === "object" &&
    typeof (globalThis as { Worker?: unknown }).Worker === "function";
}
