// What the SQLite store's two threads share (private): the schema, the start-up checks (the WAL
// read before SQLite's recovery, PRAGMA quick_check, the batch record in `likeness.db.seq`) and
// the messages that say what is damaged. The main thread uses them for a read-only replica; the
// writer Worker (`_sqlite_writer.ts`) for the writer's own connection. Not exported from mod.ts.
import { existsSync, readFileSync } from "node:fs";
import { LikenessError } from "@likeness/core";
import { type SqlDatabase, sqliteCode } from "./_sqlite.ts";
import { checkWal } from "./_wal.ts";

/** The schema version this code writes and reads. */
export const SQLITE_SCHEMA_VERSION = 1;

/**
 * Refuse a `-wal` file with damage that SQLite's recovery would hide (committed frames after a
 * damaged one). Must run before SQLite opens the file.
 *
 * @param path the database file
 * @throws {LikenessError} CORRUPT naming the damaged frame and what can be recovered
 */
export function checkWalFile(path: string): void {
  const walPath = `${path}-wal`;
  if (!existsSync(walPath)) return;
  const r = checkWal(readFileSync(walPath));
  if (!r.damage) return;
  throw new LikenessError(
    "CORRUPT",
    `${walPath} is damaged at ${
      r.damage.frame < 0 ? "its header" : `frame ${r.damage.frame + 1} of ${r.damage.frames}`
    }, and ${r.damage.committedAfter} committed frame(s) after it hold acknowledged writes that SQLite would drop. ` +
      `The ${r.validFrames} frame(s) before the damage and ${path} itself are intact. Nothing was changed: ` +
      `restore both files from a backup, or move ${walPath} aside to keep only the writes checkpointed into ${path}.`,
  );
}

/**
 * `PRAGMA quick_check`: every page of the file read and its structure checked.
 *
 * @param db the open database
 * @param path its file, for the message
 * @throws {LikenessError} CORRUPT with the first problems and how to recover
 */
export function quickCheck(db: SqlDatabase, path: string): void {
  let problems: string[];
  try {
    problems = db.prepare("PRAGMA quick_check").all().map((r) => String(Object.values(r)[0]));
  } catch (e) {
    throw corrupt(path, e);
  }
  if (problems.length === 1 && problems[0] === "ok") return;
  throw new LikenessError(
    "CORRUPT",
    `${path} failed PRAGMA quick_check (${problems.length} problem(s), first: ${problems.slice(0, 3).join("; ")}). ` +
      `Nothing was changed. Restore it from a backup; the rows SQLite can still read may be copied out with ` +
      `"sqlite3 ${path} .recover".`,
  );
}

/**
 * Refuse a file whose last batch is older than the one recorded in `PATH.seq` after the last
 * acknowledged commit (acknowledged batches lost, e.g. a damaged final WAL commit).
 *
 * @param path the database file
 * @param seq the file's last batch (meta `seq`)
 * @throws {LikenessError} CORRUPT
 */
export function checkSeqRecord(path: string, seq: number): void {
  const seqPath = `${path}.seq`;
  const recorded = existsSync(seqPath) ? Number(readFileSync(seqPath, "utf8").trim() || "0") : 0;
  if (recorded <= seq) return;
  throw new LikenessError(
    "CORRUPT",
    `${path} ends at batch ${seq}, but batch ${recorded} was acknowledged (${seqPath}): the last ` +
      `${recorded - seq} acknowledged batch(es) are missing, most likely a damaged final commit in ${path}-wal. ` +
      `Nothing was changed. Restore from a backup; if ${path} itself was restored from a backup on purpose, ` +
      `delete ${seqPath} and start again.`,
  );
}

/** The file's random id (meta key `uid`), made at the first writable open that finds none. */
export function storeUid(db: SqlDatabase, readOnly: boolean): string | undefined {
  const get = () => db.prepare("SELECT value FROM meta WHERE key = 'uid'").get()?.value as string | undefined;
  let uid = get();
  if (uid === undefined && !readOnly) {
    const b = crypto.getRandomValues(new Uint8Array(16));
    try {
      db.prepare("INSERT OR IGNORE INTO meta (key, value) VALUES ('uid', ?)").run(
        Array.from(b, (x) => x.toString(16).padStart(2, "0")).join(""),
      );
      uid = get();
    } catch {
      // A full disk: no id, so no index snapshot this time (the store itself is unaffected).
    }
  }
  return uid;
}

/** A driver error as CORRUPT (with what to do) when SQLite says the file is damaged; else unchanged. */
export function corrupt(path: string, e: unknown): Error {
  const code = sqliteCode(e);
  if (code === "SQLITE_CORRUPT" || code === "SQLITE_NOTADB") {
    return new LikenessError(
      "CORRUPT",
      `${path} is damaged (${(e as Error).message}). Nothing was changed. Restore it from a backup; ` +
        `the rows SQLite can still read may be copied out with "sqlite3 ${path} .recover".`,
      { cause: e },
    );
  }
  return e instanceof Error ? e : new Error(String(e));
}

/**
 * Create the schema in a new file, or check an existing one's version and dimension.
 *
 * @returns the file's dimension
 * @throws {LikenessError} NOT_FOUND (replica of a file without schema), INVALID_ARGUMENT (new file
 *   without dim), UNSUPPORTED (other schema version), SHAPE_MISMATCH (other dimension)
 */
export function initSchema(db: SqlDatabase, path: string, dim: number | undefined, readOnly: boolean): number {
  const has = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'meta'").get();
  if (!has) {
    if (readOnly) throw new LikenessError("NOT_FOUND", `${path} has no likeness schema yet; start the writer first`);
    if (dim === undefined || !Number.isInteger(dim) || dim < 1) {
      throw new LikenessError("INVALID_ARGUMENT", `A new store at ${path} needs its vector dimension (dim)`);
    }
    db.exec(`BEGIN IMMEDIATE;
      CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
      CREATE TABLE refs (id TEXT PRIMARY KEY, label TEXT NOT NULL, vector BLOB NOT NULL, payload TEXT,
        seq INTEGER NOT NULL, sum INTEGER NOT NULL);
      CREATE INDEX refs_seq ON refs (seq);
      CREATE TABLE deleted (id TEXT PRIMARY KEY, seq INTEGER NOT NULL);
      CREATE INDEX deleted_seq ON deleted (seq);
      INSERT INTO meta VALUES ('schema_version', '${SQLITE_SCHEMA_VERSION}'), ('dim', '${dim}'), ('seq', '0');
      COMMIT`);
    return dim;
  }
  const meta = new Map(db.prepare("SELECT key, value FROM meta").all().map((r) => [r.key, String(r.value)]));
  const version = Number(meta.get("schema_version"));
  if (version !== SQLITE_SCHEMA_VERSION) {
    throw new LikenessError(
      "UNSUPPORTED",
      `${path} has schema version ${meta.get("schema_version")}; this server reads version ${SQLITE_SCHEMA_VERSION}`,
    );
  }
  const fileDim = Number(meta.get("dim"));
  if (dim !== undefined && dim !== fileDim) {
    throw new LikenessError(
      "SHAPE_MISMATCH",
      `${path} holds ${fileDim}-dimensional references but the model produces ${dim}`,
    );
  }
  return fileDim;
}
