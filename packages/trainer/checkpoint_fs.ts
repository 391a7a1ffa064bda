/**
 * File-system edge of checkpoints (node:fs, which Deno and Bun both provide): one directory
 * per checkpoint name, written to a temporary directory and renamed.
 *
 * @module
 */
import { ValueError } from "@likeness/core";
import { mkdir, readdir, readFile, rename, rm } from "node:fs/promises";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { CheckpointStore } from "./checkpoint.ts";

function checkName(name: string): string {
  if (!/^[A-Za-z0-9_-][A-Za-z0-9._-]{0,100}$/.test(name)) {
    throw new ValueError(
      "INVALID_ARGUMENT",
      `Invalid checkpoint name ${JSON.stringify(name)}: use letters, digits, ".", "_" and "-"`,
    );
  }
  return name;
}

/**
 * Checkpoints as directories `<dir>/<name>/`.
 *
 * @example
 * ```ts
 * import { DirCheckpointStore } from "@likeness/trainer";
 * const store = new DirCheckpointStore("runs/mnist/checkpoints");
 * console.log(store.dir);
 * ```
 */
export class DirCheckpointStore implements CheckpointStore {
  /** Root directory. */
  readonly dir: string;
  /** @param dir root directory (created on first save) */
  constructor(dir: string) {
    this.dir = dir;
  }
  /** @inheritdoc */
  async save(name: string, files: Record<string, Uint8Array>): Promise<void> {
    const target = join(this.dir, checkName(name));
    await mkdir(this.dir, { recursive: true });
    const tmp = join(this.dir, `.${name}.tmp-${crypto.randomUUID()}`);
    const old = join(this.dir, `.${name}.old-${crypto.randomUUID()}`);
    try {
      await mkdir(tmp);
      for (const [f, bytes] of Object.entries(files)) await writeFile(join(tmp, f), bytes);
      let moved = false;
      try {
        await rename(target, old);
        moved = true;
      } catch (e) {
        if ((e as { code?: string }).code !== "ENOENT") throw e;
      }
      await rename(tmp, target);
      if (moved) await rm(old, { recursive: true, force: true });
    } catch (e) {
      await rm(tmp, { recursive: true, force: true });
      throw e;
    }
  }
  /** @inheritdoc */
  async load(name: string): Promise<Record<string, Uint8Array> | undefined> {
    const dir = join(this.dir, checkName(name));
    let names: string[];
    try {
      names = await readdir(dir);
    } catch (e) {
      if ((e as { code?: string }).code === "ENOENT") return undefined;
      throw e;
    }
    const out: Record<string, Uint8Array> = {};
    for (const f of names) out[f] = new Uint8Array(await readFile(join(dir, f)));
    return out;
  }
}
