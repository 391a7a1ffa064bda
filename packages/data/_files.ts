/**
 * Private file helpers of the loaders: reading (whole or a prefix), gunzip through `node:zlib`,
 * finding installed npm packages and the data directory. Only loader files import this.
 *
 * @module
 */
import { existsSync } from "node:fs";
import { open, readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { createRequire } from "node:module";
import { constants as zc, gunzipSync } from "node:zlib";
import process from "node:process";
import { LikenessError } from "@likeness/core";

/** True when the bytes start with the gzip magic 1f 8b. */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/**
 * Read a file (gunzipping when it is gzip). With `minBytes`, read only enough to yield at
 * least that many (decompressed) bytes, or the whole file if it is shorter.
 */
export async function readMaybeGzip(path: string, minBytes?: number): Promise<Uint8Array> {
  if (minBytes === undefined) {
    const raw = new Uint8Array(await readFile(path));
    return isGzip(raw) ? new Uint8Array(gunzipSync(raw)) : raw;
  }
  const fh = await open(path, "r");
  try {
    const size = (await fh.stat()).size;
    let want = Math.min(size, Math.max(minBytes, 4096));
    for (;;) {
      const buf = new Uint8Array(want);
      const { bytesRead } = await fh.read(buf, 0, want, 0);
      const raw = buf.subarray(0, bytesRead);
      if (!isGzip(raw)) return raw;
      // A gzip prefix inflates without error with a sync flush: enough when it yields minBytes.
      const out = new Uint8Array(gunzipSync(raw, { finishFlush: zc.Z_SYNC_FLUSH }));
      if (out.length >= minBytes || want >= size) return out;
      want = Math.min(size, want * 2);
    }
  } finally {
    await fh.close();
  }
}

/** Read a text file (gunzipping when it is gzip). */
export async function readText(path: string): Promise<string> {
  return new TextDecoder().decode(await readMaybeGzip(path));
}

/** The folder of an installed npm package, or undefined when it is not installed. */
export function packageDir(name: string): string | undefined {
  try {
    return dirname(createRequire(import.meta.url).resolve(`${name}/package.json`));
  } catch {
    return undefined;
  }
}

/** `$LIKENESS_DATA_DIR`, when set and readable. */
export function dataDirFromEnv(): string | undefined {
  try {
    const v = process.env.LIKENESS_DATA_DIR;
    return v && v.length > 0 ? v : undefined;
  } catch {
    return undefined; // no env permission
  }
}

/** The repository root guessed from this file (packages/data/ -> ../..) and the working directory. */
export function repoRoots(): string[] {
  const roots: string[] = [];
  try {
    roots.push(process.cwd());
  } catch {
    // no cwd access
  }
  try {
    roots.push(join(dirname(new URL(import.meta.url).pathname), "..", ".."));
  } catch {
    // not a file URL
  }
  return roots;
}

/** The first existing path among the candidates. */
export function firstExisting(candidates: readonly (string | undefined)[]): string | undefined {
  for (const c of candidates) if (c && existsSync(c)) return c;
  return undefined;
}

/** A typed MISSING_DEPENDENCY error saying what to install. */
export function missing(what: string, install: string, looked: readonly (string | undefined)[]): LikenessError {
  const where = looked.filter((x): x is string => !!x);
  return new LikenessError(
    "MISSING_DEPENDENCY",
    `Cannot load ${what}: not found${
      where.length ? ` (looked in ${where.join(", ")})` : ""
    }; install it with: ${install}`,
    { details: { install, looked: where } },
  );
}
