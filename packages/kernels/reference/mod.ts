/**
 * Plain-TS float64 references for every kernel family: the spec and the test oracle of the
 * WebAssembly kernels, written for clarity rather than speed.
 *
 * @example
 * ```ts
 * import { batchHardRef } from "@likeness/kernels/reference";
 * import assert from "node:assert/strict";
 * const dist = { data: new Float32Array([0, 1, 2, 1, 0, 3, 2, 3, 0]), rows: 3, cols: 3 };
 * assert.deepEqual([...batchHardRef(dist, new Uint8Array([1, 1, 0, 1, 1, 0, 0, 0, 1])).negative], [2, 2, 0]);
 * ```
 *
 * @module
 */
export * from "./mining.ts";
export * from "./metrics.ts";
export * from "./pairwise.ts";
export * from "./topk.ts";
export * from "./conv.ts";
export * from "./hnsw.ts";

export * from "./matmul.ts";
export * from "./quant.ts";
