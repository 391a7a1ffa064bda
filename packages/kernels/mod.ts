/**
 * AssemblyScript WebAssembly kernels (scalar, SIMD, relaxed SIMD) with plain-TS float64
 * references: pairwise distances, top-k, mining and retrieval metrics.
 *
 * @example
 * ```ts
 * import { hasWasmSimd } from "@likeness/kernels";
 * console.log("SIMD:", hasWasmSimd());
 * ```
 *
 * @module
 */
export * from "./probe.ts";
export * from "./wasm_module.ts";
export * from "./mining.ts";
export * from "./mining_input.ts";
export * from "./threads.ts";
export * from "./dense.ts";
export * from "./dense_resident.ts";
export * from "./conv.ts";
export * from "./types.ts";
export * from "./hnsw.ts";

export * from "./matmul.ts";
export * from "./quant_resident.ts";
