/**
 * tfjs loading and backend selection.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-wasm";
import { ValueError } from "@likeness/core";

export { tf };

/** tfjs backends likeness trains on. */
export type TfBackendName = "wasm" | "webgpu" | "cpu";

const TF_BACKENDS: readonly TfBackendName[] = ["wasm", "webgpu", "cpu"];

/**
 * Switch tfjs to a backend and wait until it is ready. `webgpu` is imported on demand.
 *
 * @param name `wasm` (default), `webgpu` or `cpu`
 * @returns the backend tfjs now uses
 * @throws {ValueError} UNKNOWN_NAME for other names; UNSUPPORTED when the backend cannot start
 * @example
 * ```ts
 * import { useTfBackend } from "@likeness/tf";
 * console.log(await useTfBackend("wasm")); // "wasm"
 * ```
 */
export async function useTfBackend(name: TfBackendName = "wasm"): Promise<TfBackendName> {
  if (!TF_BACKENDS.includes(name)) {
    throw new ValueError(
      "UNKNOWN_NAME",
      `Unknown tfjs backend ${JSON.stringify(name)}: use one of ${TF_BACKENDS.join(", ")}`,
    );
  }
  if (tf.getBackend() === name) return name;
  if (name === "webgpu") await import("@tensorflow/tfjs-backend-webgpu");
  let ok = false;
  try {
    ok = await tf.setBackend(name);
    await tf.ready();
  } catch (cause) {
    throw new ValueError("UNSUPPORTED", `tfjs backend "${name}" failed to start: ${(cause as Error).message}`, {
      cause,
    });
  }
  if (!ok) throw new ValueError("UNSUPPORTED", `tfjs backend "${name}" is not available in this runtime; use "wasm"`);
  return name;
}
