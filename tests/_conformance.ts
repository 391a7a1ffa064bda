/**
 * Set-up shared by the conformance suites (`backend_`, `index_`, `hnsw_conformance_test.ts`):
 * environment switches, the reasons a backend is skipped, the backends an index runs on, and the
 * seeded test matrices.
 *
 * @module
 */
import type { Matrix, Rng } from "@likeness/core";
import { type Backend, createJsBackend, createWasmBackend, createWebGpuBackend } from "@likeness/backend";
import { hasWasmSimd } from "@likeness/kernels";

/** An environment variable in Deno or Bun (undefined when unset or not readable). */
export function env(name: string): string | undefined {
  try {
    const g = globalThis as {
      Deno?: { env: { get(n: string): string | undefined } };
      process?: { env: Record<string, string | undefined> };
    };
    return g.Deno ? g.Deno.env.get(name) : g.process?.env[name];
  } catch {
    return undefined;
  }
}

/** Running under Bun. */
export const isBun: boolean = typeof (globalThis as { Bun?: unknown }).Bun !== "undefined";

/** Why the SIMD backends are skipped here (undefined: they run). */
export const SIMD_SKIP: string | undefined = hasWasmSimd() ? undefined : "this runtime lacks WebAssembly SIMD";

/**
 * Why WebGPU cases are skipped here (undefined: they run, with `LIKENESS_TEST_WEBGPU=1` in Deno).
 *
 * @param suite what runs only when asked for, e.g. `WebGPU index conformance`
 * @param why why it is opt-in, e.g. `(the index delegates to wasm-simd there)`
 * @returns the reason, or undefined
 */
export function webGpuSkip(suite: string, why: string): string | undefined {
  if (isBun) return "Bun has no WebGPU (navigator.gpu is undefined)";
  return env("LIKENESS_TEST_WEBGPU") === "1" ? undefined : `${suite} runs only with LIKENESS_TEST_WEBGPU=1 ${why}`;
}

/** A backend a suite runs on; a skipped one states its reason. */
export interface Target {
  /** Shown in the test name. */
  name: string;
  /** Why it does not run here. */
  skip?: string;
  /** A fresh backend (the test disposes it). */
  make(): Promise<Backend>;
}

/** The backends every vector index kind runs on: the `js` reference, `wasm`, `wasm-simd` on 1 and 2 threads, `webgpu`. */
export const INDEX_TARGETS: readonly Target[] = [
  { name: "js", make: () => Promise.resolve(createJsBackend()) },
  { name: "wasm", make: () => Promise.resolve(createWasmBackend({ simd: false })) },
  { name: "wasm-simd", skip: SIMD_SKIP, make: () => Promise.resolve(createWasmBackend({ simd: true })) },
  { name: "wasm-simd×2", skip: SIMD_SKIP, make: () => Promise.resolve(createWasmBackend({ simd: true, threads: 2 })) },
  {
    name: "webgpu",
    skip: webGpuSkip("WebGPU index conformance", "(the index delegates to wasm-simd there)"),
    make: () => createWebGpuBackend({ delegate: createWasmBackend(), allowFallbackAdapter: true }),
  },
];

/** Uniform values in [-1, 1). */
export function rand(rng: Rng, rows: number, cols: number): Matrix {
  const data = new Float32Array(rows * cols);
  for (let i = 0; i < data.length; i++) data[i] = rng.next() * 2 - 1;
  return { data, rows, cols };
}

/** Small integers in [-range, range]: every metric except cosine is exact in float32, so indices must match exactly. */
export function ints(rng: Rng, rows: number, cols: number, range: number): Matrix {
  const data = new Float32Array(rows * cols);
  for (let i = 0; i < data.length; i++) data[i] = rng.int(2 * range + 1) - range;
  return { data, rows, cols };
}
