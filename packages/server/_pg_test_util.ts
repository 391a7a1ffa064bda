// Shared fixtures for the PostgreSQL tests (not exported from mod.ts). The tests talk to a real
// PostgreSQL + pgvector: `.ci/run` starts one with tools/pg_setup.sh and exports its URL as
// LIKENESS_TEST_PG_URL. Without it they skip and say why.
import process from "node:process";
import { existsSync } from "node:fs";
import { execFile, execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { tempDir } from "./_test_util.ts";

/** The test server's URL, or undefined. */
export const PG_URL: string | undefined = process.env.LIKENESS_TEST_PG_URL || undefined;

/** `{ skip: reason }` for node:test when there is no server; `{}` otherwise. */
export const needsPg: { skip?: string } = PG_URL
  ? {}
  : { skip: "LIKENESS_TEST_PG_URL is not set (run tools/pg_setup.sh install, then start; .ci/run does both)" };

const SETUP = fileURLToPath(new URL("../../tools/pg_setup.sh", import.meta.url));
const INITDB = "/usr/lib/postgresql/15/bin/initdb";
const canOwnCluster = existsSync(INITDB) && existsSync("/usr/share/postgresql/15/extension/vector.control");

/** `{ skip: reason }` unless this machine can start its own throwaway cluster (for restart drills). */
export const needsOwnCluster: { skip?: string } = canOwnCluster
  ? {}
  : { skip: "PostgreSQL 15 with pgvector is not installed here (sudo tools/pg_setup.sh install)" };

/** A throwaway cluster of our own (so restarting it cannot disturb other tests). */
export function ownCluster(): { url: string; restart(): Promise<void>; stop(): void; dir: string } {
  const dir = tempDir("likeness-pg-");
  const url = execFileSync("bash", [SETUP, "start", dir], { encoding: "utf8" }).trim();
  return {
    url,
    dir,
    // Asynchronous, so the load a test keeps up meanwhile goes on while Postgres is down.
    restart: () =>
      new Promise<void>((resolve, reject) =>
        execFile("bash", [SETUP, "restart", dir], (e) => (e ? reject(e) : resolve()))
      ),
    stop: () => execFileSync("bash", [SETUP, "stop", dir]),
  };
}

/** A table name no other test (or runtime) uses. */
export function uniqueTable(prefix = "t"): string {
  return `${prefix}_${crypto.randomUUID().replace(/-/g, "").slice(0, 16)}`;
}

/** Run SQL as the test URL's user (for set-up, fault injection and clean-up). */
export async function admin<T>(url: string, f: (sql: import("postgres").Sql) => Promise<T>): Promise<T> {
  const postgres = (await import("postgres")).default as unknown as typeof import("postgres");
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    return await f(sql);
  } finally {
    await sql.end({ timeout: 1 });
  }
}

/** Drop a store's table, its purge horizon, sequence and migration rows. */
export function dropTable(url: string, table: string): Promise<void> {
  return admin(url, async (sql) => {
    await sql.unsafe(
      `drop table if exists ${table} cascade; drop table if exists ${table}_horizon;
       drop sequence if exists ${table}_change_seq`,
    );
    await sql`delete from likeness_migrations where store_table = ${table}`;
  });
}

/** Poll until `f()` is true or `ms` pass. */
export async function until(f: () => boolean | Promise<boolean>, ms = 5000, what = "condition"): Promise<void> {
  const t0 = Date.now();
  while (!(await f())) {
    if (Date.now() - t0 > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
