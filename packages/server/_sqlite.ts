// One small adapter over the SQLite that each runtime ships: `node:sqlite` (DatabaseSync) in Deno,
// `bun:sqlite` (Database) in Bun. Both are synchronous; the store uses only exec, prepare/run/get/all
// and close, which the two spell the same way. Not exported from mod.ts.
import { LikenessError } from "@likeness/core";

/** A prepared statement. */
export interface SqlStatement {
  /** Execute with parameters. */
  run(...params: SqlValue[]): unknown;
  /** First row, or undefined. */
  get(...params: SqlValue[]): Record<string, unknown> | undefined;
  /** All rows. */
  all(...params: SqlValue[]): Record<string, unknown>[];
}

/** A bound value. */
export type SqlValue = string | number | bigint | null | Uint8Array;

/** An open database. */
export interface SqlDatabase {
  /** Run one or more statements without results. */
  exec(sql: string): void;
  /** Prepare a statement. */
  prepare(sql: string): SqlStatement;
  /** Close the file. */
  close(): void;
}

interface NativeStatement {
  run(...p: unknown[]): unknown;
  get(...p: unknown[]): Record<string, unknown> | null | undefined;
  all(...p: unknown[]): Record<string, unknown>[];
  finalize?(): void;
}
interface NativeDatabase {
  exec(sql: string): void;
  prepare(sql: string): NativeStatement;
  close(): void;
}

const isBun = typeof (globalThis as { Bun?: unknown }).Bun !== "undefined";

/**
 * Open (or create) a SQLite database file with the runtime's driver.
 *
 * @param path file path
 * @returns the database
 * @throws {LikenessError} MISSING_DEPENDENCY when the runtime has no SQLite
 */
export async function openSqlite(path: string): Promise<SqlDatabase> {
  let db: NativeDatabase;
  try {
    const spec = isBun ? "bun:sqlite" : "node:sqlite";
    const mod = await import(spec) as {
      Database?: new (p: string, o?: unknown) => NativeDatabase;
      DatabaseSync?: new (p: string, o?: unknown) => NativeDatabase;
    };
    const Ctor = isBun ? mod.Database! : mod.DatabaseSync!;
    db = new Ctor(path, isBun ? { create: true } : {});
  } catch (e) {
    if (e instanceof Error && /Cannot find|not supported|No such built-in/i.test(e.message)) {
      throw new LikenessError("MISSING_DEPENDENCY", `This runtime has no SQLite driver: ${e.message}`, { cause: e });
    }
    throw e;
  }
  const statements: NativeStatement[] = [];
  return {
    exec: (sql) => db.exec(sql),
    prepare(sql) {
      const s = db.prepare(sql);
      statements.push(s);
      return {
        run: (...p) => s.run(...p),
        get: (...p) => s.get(...p) ?? undefined,
        all: (...p) => s.all(...p),
      };
    },
    close: () => {
      // Bun defers closing the file (and releasing its locks) until every statement is finalized.
      for (const s of statements) s.finalize?.();
      db.close();
    },
  };
}

/** The SQLite result code family of a driver error (e.g. "SQLITE_FULL"), or undefined. */
export function sqliteCode(e: unknown): string | undefined {
  if (!(e instanceof Error)) return undefined;
  const x = e as Error & { code?: string; errcode?: number; errno?: number; errstr?: string };
  const m = e.message;
  if (/database or disk is full|SQLITE_FULL/i.test(m) || x.code === "SQLITE_FULL") return "SQLITE_FULL";
  if (/database is locked|SQLITE_BUSY/i.test(m) || x.code === "SQLITE_BUSY") return "SQLITE_BUSY";
  if (/malformed|SQLITE_CORRUPT/i.test(m) || x.code === "SQLITE_CORRUPT") return "SQLITE_CORRUPT";
  if (/not a database|SQLITE_NOTADB/i.test(m) || x.code === "SQLITE_NOTADB") return "SQLITE_NOTADB";
  if (/disk I\/O error|SQLITE_IOERR/i.test(m) || (x.code ?? "").startsWith("SQLITE_IOERR")) return "SQLITE_IOERR";
  if (typeof x.code === "string" && x.code.startsWith("SQLITE_")) return x.code;
  return undefined;
}
