/**
 * The backend abstraction: one async `Backend` interface over pairwise distances, top-k,
 * mining and retrieval metrics, implemented by `webgpu` (WGSL compute shaders), `wasm-simd`,
 * `wasm` (scalar) and `js` (the float64 reference), and `createBackend()` that picks the best
 * available one, says why it skipped the others, and starts the matching tfjs backend.
 *
 * @example
 * ```ts
 * import { createBackend } from "@likeness/backend";
 * const { backend, skipped } = await createBackend({ tf: false });
 * console.log(backend.info.name, backend.info.detail, skipped);
 * const q = { data: new Float32Array([1, 0, 0, 1]), rows: 2, cols: 2 };
 * console.log((await backend.pairwise(q, q, "cosine")).data); // Float32Array [1, 0, 0, 1]
 * backend.dispose();
 * ```
 *
 * @module
 */
export * from "./types.ts";
export * from "./index_types.ts";
export * from "./index_format.ts";
export * from "./vector_index.ts";
export * from "./env.ts";
export * from "./js_backend.ts";
export * from "./wasm_backend.ts";
export * from "./webgpu_probe.ts";
export * from "./webgpu_backend.ts";
export * from "./create_backend.ts";
export * from "./hnsw_index.ts";
export * from "./index_kinds.ts";
