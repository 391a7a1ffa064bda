/**
 * The backend abstraction: one async `Backend` interface, implementations `webgpu`,
 * `wasm-simd`, `wasm` and `js`, and `createBackend()` that picks the best available.
 *
 * @module
 */
export * from "./types.ts";
