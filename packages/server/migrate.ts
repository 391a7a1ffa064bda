/**
 * `migrateFileStore()`: copy the references of the old log format (`FileStore`: `snapshot.log` and
 * `wal.log`) into a new SQLite store, reading the log without changing it.
 *
 * @module
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { LikenessError } from "@likeness/core";
import { FileStore } from "./file_store.ts";
import { SqliteStore } from "./sqlite_store.ts";

/** What a migration did. */
export interface MigrationReport {
  /** Live items copied. */
  items: number;
  /** Vector dimension. */
  dim: number;
  /** Bytes of a torn tail at the end of wal.log (a write never acknowledged), left out. */
  tornBytes: number;
}

/**
 * Copy a FileStore directory into a new SQLite file, in batches of 1,000 items per transaction.
 *
 * @param fromDir the FileStore directory (`wal.log`, `snapshot.log`); read only
 * @param toFile the SQLite file to create (must not hold references yet)
 * @param options `dim` for an empty log (otherwise taken from the items)
 * @returns counts
 * @throws {LikenessError} NOT_FOUND without a log, CONFLICT when `toFile` already holds references,
 *   CORRUPT when the snapshot is damaged
 * @example
 * ```ts
 * import { FileStore, migrateFileStore } from "@likeness/server";
 * const dir = await Deno.makeTempDir();
 * const old = new FileStore(`${dir}/old`);
 * await old.load();
 * await old.write({ put: [{ id: "a", label: "x", vector: new Float32Array([1, 0]) }] });
 * await old.close();
 * console.log((await migrateFileStore(`${dir}/old`, `${dir}/new/likeness.db`)).items); // 1
 * ```
 */
export async function migrateFileStore(
  fromDir: string,
  toFile: string,
  options: { dim?: number } = {},
): Promise<MigrationReport> {
  if (!existsSync(join(fromDir, "wal.log")) && !existsSync(join(fromDir, "snapshot.log"))) {
    throw new LikenessError("NOT_FOUND", `${fromDir} has no wal.log or snapshot.log to migrate`);
  }
  const source = new FileStore(fromDir, { readOnly: true });
  const items = await source.load();
  const dim = items[0]?.vector.length ?? options.dim;
  if (dim === undefined) {
    throw new LikenessError("INVALID_ARGUMENT", `${fromDir} holds no references: give the dimension (--dim N)`);
  }
  // No payload limit here: every item the old log acknowledged is kept.
  const target = await SqliteStore.open(toFile, { dim, maxPayloadBytes: Number.MAX_SAFE_INTEGER });
  try {
    if ((await target.load()).length > 0) {
      throw new LikenessError("CONFLICT", `${toFile} already holds references; migrate into a new file`);
    }
    for (let i = 0; i < items.length; i += 1000) await target.write({ put: items.slice(i, i + 1000) });
  } finally {
    await target.close();
  }
  return { items: items.length, dim, tornBytes: source.tornBytes };
}
