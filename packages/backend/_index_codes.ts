/**
 * Where the codes of an `int8` or `binary` index live (private): resident in the quant kernel
 * module's WebAssembly memory on `wasm` / `wasm-simd` (and `webgpu`, which delegates), or
 * `null` on `js`, whose index scores its codes in plain TS (the reference).
 *
 * @module
 */
import { type CodeKind, createResidentCodes, hasWasmSimd, type ResidentCodes } from "@likeness/kernels";
import type { Backend } from "./types.ts";

/**
 * The resident code engine for an index on `backend` (same build family and threads as its row
 * store), or null for the `js` reference.
 *
 * @param backend the index's backend (undefined: the default, one thread)
 * @param kind int8 or binary
 * @param dim vector dimension
 * @param capacity initial rows
 * @returns the engine, or null
 */
export async function codesFor(
  backend: Backend | undefined,
  kind: CodeKind,
  dim: number,
  capacity: number,
): Promise<ResidentCodes | null> {
  const name = backend?.info.name;
  if (name === "js") return null;
  const variant = name === "wasm" || !hasWasmSimd() ? "scalar" : "simd";
  const threads = name === undefined ? 1 : backend?.info.threads ?? 1;
  return await createResidentCodes({ dim, kind, variant, threads, capacity });
}
