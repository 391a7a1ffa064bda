/**
 * File-system edge of the cache: one file per entry in a directory (node:fs, which Deno and
 * Bun both provide). Writes go to a temporary file that is then renamed, so a crash never
 * leaves a half-written entry under the real name.
 *
 * @module
 */
import { ValueError } from "@likeness/core";
import { mkdir, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { CacheStore } from "./store.ts";

const SUFFIX = ".lkemb";

function checkKey(key: string): string {
  if (!/^[A-Za-z0-9._-]{1,200}$/.test(key) || key.startsWith(".")) {
    throw new ValueError(
      "INVALID_ARGUMENT",
      `Invalid cache key ${JSON.stringify(key)}: use letters, digits, ".", "_" and "-" only`,
    );
  }
  return key;
}

/**
 * Directory-backed store: entry `key` is the file `<dir>/<key>.lkemb`.
 *
 * @example
 * ```ts
 * import { DirStore, EmbeddingCache } from "@likeness/cache";
 * const cache = new EmbeddingCache({ store: new DirStore("/tmp/likeness-cache") });
 * console.log(cache.stats.misses); // 0
 * ```
 */
export class DirStore implements CacheStore {
  /** The directory. */
  readonly dir: string;

  /**
   * @param dir directory (created on first write)
   */
  constructor(dir: string) {
    this.dir = dir;
  }
  /** @inheritdoc */
  async get(key: string): Promise<Uint8Array | undefined> {
    try {
      return new Uint8Array(await readFile(join(this.dir, checkKey(key) + SUFFIX)));
    } catch (e) {
      if ((e as { code?: string }).code === "ENOENT") return undefined;
      throw e;
    }
  }
  /** @inheritdoc */
  async set(key: string, bytes: Uint8Array): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    const path = join(this.dir, checkKey(key) + SUFFIX);
    const tmp = join(this.dir, `.${key}.${crypto.randomUUID()}.tmp`);
    try {
      await writeFile(tmp, bytes);
      await rename(tmp, path);
    } catch (e) {
      await rm(tmp, { force: true });
      throw e;
    }
  }
  /** @inheritdoc */
  async delete(key: string): Promise<void> {
    await rm(join(this.dir, checkKey(key) + SUFFIX), { force: true });
  }
  /** @inheritdoc */
  async keys(): Promise<string[]> {
    try {
      return (await readdir(this.dir)).filter((f) => f.endsWith(SUFFIX) && !f.startsWith(".")).map((f) =>
        f.slice(0, -SUFFIX.length)
      );
    } catch (e) {
      if ((e as { code?: string }).code === "ENOENT") return [];
      throw e;
    }
  }
}
