/**
 * `createBackend()`: pick the best available backend by priority (`webgpu` on a real GPU,
 * then `wasm-simd`, `wasm`, `js`), record why each skipped candidate was skipped, and start the
 * matching tfjs backend for training when asked (`tf: true`).
 *
 * @module
 */
import { checkOneOf, LikenessError, ValueError } from "@likeness/core";
import { checkThreads } from "@likeness/kernels";
import type { Backend, BackendName } from "./types.ts";
import { type EnvSource, readEnv } from "./env.ts";
import { createJsBackend } from "./js_backend.ts";
import { createWasmBackend } from "./wasm_backend.ts";
import { createWebGpuBackend } from "./webgpu_backend.ts";
import { probeWebGpu, type WebGpuProbe } from "./webgpu_probe.ts";

/** Backend names in priority order (the order `auto` tries them). */
export const BACKEND_NAMES: readonly BackendName[] = ["webgpu", "wasm-simd", "wasm", "js"];

/** Name of the environment variable that overrides the backend choice. */
export const BACKEND_ENV = "LIKENESS_BACKEND";

/** Options for {@link createBackend}. */
export interface CreateBackendOptions {
  /**
   * Backend to try first (default `auto`: the `LIKENESS_BACKEND` environment variable if set,
   * else the whole priority list). Candidates below it in the priority list are tried next.
   */
  prefer?: BackendName | "auto";
  /** Only the preferred backend: throw instead of falling back (default false). */
  strict?: boolean;
  /** Worker threads for the WebAssembly kernels (default 1). */
  threads?: number;
  /**
   * Accept a software fallback WebGPU adapter (llvmpipe, SwiftShader). Default: false for `auto`,
   * true when `webgpu` is asked for by name (option or environment).
   */
  allowFallbackAdapter?: boolean;
  /** Where to read `LIKENESS_BACKEND` (default: `Deno.env` or `process.env`, if readable). */
  env?: EnvSource;
  /**
   * Also start the matching tfjs backend (`webgpu` for webgpu, else `wasm`) for training (default
   * false: callers that only want compute never load tfjs; pass `tf: true` to train).
   */
  tf?: boolean;
  /** A WebGPU probe result to reuse (default: probe now). */
  probe?: WebGpuProbe;
}

/** A candidate that was not chosen, and why. */
export interface SkippedBackend {
  /** The candidate. */
  name: BackendName;
  /** Why it was skipped. */
  reason: string;
}

/** What {@link createBackend} chose. */
export interface BackendSelection {
  /** The backend (its `info` names it and its details). */
  backend: Backend;
  /** Candidates tried before it, with the reason each was skipped. */
  skipped: SkippedBackend[];
  /** Where the preference came from. */
  source: "option" | "env" | "auto";
  /** The tfjs backend started (`null` when `tf: false` or it failed; see `tfReason`). */
  tf: "webgpu" | "wasm" | null;
  /** Why tfjs is not on the matching backend, when it is not. */
  tfReason?: string;
}

/**
 * Choose and create a backend.
 *
 * Rules: the preference is `options.prefer` when given and not `auto`, else `LIKENESS_BACKEND`,
 * else `auto`. Candidates are the priority list `webgpu, wasm-simd, wasm, js` starting at the
 * preference; each one that cannot start is recorded in `skipped` with its reason. `webgpu`
 * needs an adapter that is not a software fallback unless `allowFallbackAdapter` (default true
 * only when `webgpu` is named). `js` always starts.
 *
 * @param options preference, strictness, threads, fallback-adapter policy, env source, tf
 * @returns the backend, the skipped candidates and the tfjs backend started
 * @throws {ValueError} UNKNOWN_NAME for an unknown backend name (option or `LIKENESS_BACKEND`, any case);
 *   INVALID_ARGUMENT for a thread count that is not an integer from 1 to 64
 * @throws {LikenessError} UNSUPPORTED with `strict: true` when the preferred backend cannot start
 * @example
 * ```ts
 * import { createBackend } from "@likeness/backend";
 * const { backend, skipped } = await createBackend({ tf: false });
 * console.log(backend.info.name, skipped.map((s) => `${s.name}: ${s.reason}`));
 * backend.dispose();
 * ```
 */
export async function createBackend(options: CreateBackendOptions = {}): Promise<BackendSelection> {
  const allowed = [...BACKEND_NAMES, "auto"] as const;
  let source: BackendSelection["source"] = "auto";
  let preferred: BackendName | "auto" = "auto";
  if (options.prefer !== undefined && options.prefer !== "auto") {
    preferred = checkOneOf(options.prefer, allowed, "backend");
    source = "option";
  } else {
    const fromEnv = readEnv(BACKEND_ENV, options.env)?.toLowerCase();
    if (fromEnv !== undefined) {
      if (!(allowed as readonly string[]).includes(fromEnv)) {
        throw new ValueError(
          "UNKNOWN_NAME",
          `Unknown backend ${JSON.stringify(fromEnv)} in ${BACKEND_ENV}: use one of ${allowed.join(", ")}, or unset it`,
        );
      }
      preferred = fromEnv as BackendName | "auto";
      if (preferred !== "auto") source = "env";
    }
  }
  // Checked here: a bad value must not make every WebAssembly candidate fail and silently pick js.
  if (options.threads !== undefined) checkThreads(options.threads, "createBackend");
  const start = preferred === "auto" ? 0 : BACKEND_NAMES.indexOf(preferred);
  const candidates = options.strict ? [BACKEND_NAMES[start]] : BACKEND_NAMES.slice(start);
  const allowFallbackAdapter = options.allowFallbackAdapter ?? preferred === "webgpu";
  const skipped: SkippedBackend[] = [];
  let backend: Backend | undefined;
  for (const name of candidates) {
    try {
      backend = await start1(name, options, allowFallbackAdapter);
      break;
    } catch (e) {
      skipped.push({ name, reason: (e as Error).message });
    }
  }
  if (!backend) {
    const why = skipped.map((s) => `${s.name}: ${s.reason}`).join("; ");
    throw new LikenessError("UNSUPPORTED", `No backend could start (${why}); drop strict or prefer "js"`, {
      details: { skipped },
    });
  }
  const selection: BackendSelection = { backend, skipped, source, tf: null };
  if (options.tf === true) await startTf(selection);
  return selection;
}

/** What an earlier probe found when WebGPU was unusable (no adapter, or a fallback one). */
let unusable: { adapter: string | null; reason: string } | undefined;

async function start1(
  name: BackendName,
  options: CreateBackendOptions,
  allowFallbackAdapter: boolean,
): Promise<Backend> {
  switch (name) {
    case "js":
      return createJsBackend();
    case "wasm":
      return await startWasm(false, options.threads);
    case "wasm-simd":
      return await startWasm(true, options.threads);
    case "webgpu": {
      // A probe that found no adapter, or only a fallback one, is remembered for the process so
      // that later auto selections skip WebGPU at once (requestAdapter costs ~0.5 s on llvmpipe).
      if (!options.probe && unusable && (unusable.adapter === null || !allowFallbackAdapter)) {
        throw new LikenessError("UNSUPPORTED", unusable.reason);
      }
      const probe = options.probe ?? (await probeWebGpu());
      if (!probe.adapter) {
        const reason = `WebGPU is unavailable: ${probe.reason}`;
        if (!options.probe) unusable = { adapter: null, reason };
        throw new LikenessError("UNSUPPORTED", reason);
      }
      if (probe.fallback && !options.probe) {
        unusable = {
          adapter: probe.description,
          reason: `WebGPU adapter "${probe.description}" is a software fallback, slower than WASM ` +
            `(pass allowFallbackAdapter: true, or prefer "webgpu", to use it)`,
        };
      }
      if (probe.fallback && !allowFallbackAdapter) {
        throw new LikenessError(
          "UNSUPPORTED",
          `WebGPU adapter "${probe.description}" is a software fallback, slower than WASM ` +
            `(pass allowFallbackAdapter: true, or prefer "webgpu", to use it)`,
        );
      }
      let delegate: Backend;
      try {
        delegate = await startWasm(true, options.threads);
      } catch {
        delegate = createJsBackend();
      }
      try {
        return await createWebGpuBackend({ delegate, allowFallbackAdapter, probe });
      } catch (e) {
        delegate.dispose();
        throw e;
      }
    }
  }
}

/**
 * Create a WebAssembly backend and make one tiny call of each kernel module, so that a runtime
 * that forbids compiling WebAssembly from bytes (some edge platforms) is skipped here, with the
 * reason, rather than failing on the first real call.
 */
async function startWasm(simd: boolean, threads: number | undefined): Promise<Backend> {
  const b = createWasmBackend({ simd, threads });
  try {
    const n = await b.norms({ data: new Float32Array([3, 4]), rows: 1, cols: 2 });
    await b.batchHard({ data: new Float32Array(1), rows: 1, cols: 1 }, new Uint8Array([1]));
    if (Math.abs(n[0] - 5) > 1e-6) throw new Error(`self-check failed: norm of [3, 4] is ${n[0]}`);
  } catch (e) {
    b.dispose();
    throw new LikenessError("UNSUPPORTED", `WebAssembly kernels failed to start: ${(e as Error).message}`, {
      cause: e,
    });
  }
  return b;
}

async function startTf(selection: BackendSelection): Promise<void> {
  const want = selection.backend.info.name === "webgpu" ? "webgpu" : "wasm";
  let useTfBackend: (name: "webgpu" | "wasm") => Promise<unknown>;
  try {
    ({ useTfBackend } = await import("@likeness/tf"));
  } catch (e) {
    selection.tfReason = `@likeness/tf could not be loaded: ${(e as Error).message}`;
    return;
  }
  try {
    await useTfBackend(want);
    selection.tf = want;
    return;
  } catch (e) {
    selection.tfReason = `tfjs ${want} backend failed: ${(e as Error).message}`;
  }
  if (want === "webgpu") {
    try {
      await useTfBackend("wasm");
      selection.tf = "wasm";
      selection.tfReason += "; using tfjs wasm";
    } catch (e) {
      selection.tfReason += `; tfjs wasm failed too: ${(e as Error).message}`;
    }
  }
}
