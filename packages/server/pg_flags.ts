/**
 * The `serve --pg URL` flags: open a {@link PgVectorStore} for a server replica.
 *
 *   --pg URL          keep references in PostgreSQL + pgvector (many replicas may share one table);
 *                     the password may come from PGPASSWORD instead of the URL
 *   --pg-table T      table name (default likeness_references)
 *   --pg-pool N       most pooled connections per replica (default 10)
 *   --search MODE     memory (default: a resident index kept current from the other replicas' commits)
 *                     or postgres (searches run in Postgres on a pgvector HNSW index, built at start if
 *                     missing; nothing resident)
 *   --ef-search N     hnsw.ef_search for --search postgres (default 40)
 *   --pg-tombstone-retention D
 *                     purge deleted rows' tombstones older than D (e.g. 7d, 12h, 30m, 90s; default 7d;
 *                     "off" never purges); a replica that was away for longer reloads everything
 *
 * @module
 */
import process from "node:process";
import { ValueError } from "@likeness/core";
import { PG_TOMBSTONE_RETENTION_MS, type PgSearchMode, PgVectorStore } from "./pg_store.ts";

/**
 * Parse a retention like `7d`, `12h`, `30m`, `90s`, `500ms` (or a bare number of seconds); `off`
 * is Infinity (never purge).
 *
 * @param text the flag's value
 * @returns milliseconds
 * @throws {ValueError} INVALID_ARGUMENT for anything else, or a duration that is not positive
 * @example
 * ```ts
 * import { parseRetention } from "./pg_flags.ts";
 * console.log(parseRetention("12h")); // 43200000
 * ```
 */
export function parseRetention(text: string): number {
  if (text === "off") return Infinity;
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/.exec(text.trim());
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
  const ms = m ? Number(m[1]) * unit[(m[2] ?? "s") as keyof typeof unit] : NaN;
  if (!(ms > 0)) {
    throw new ValueError(
      "INVALID_ARGUMENT",
      `--pg-tombstone-retention must be a positive duration like 7d, 12h, 30m or 90s, or off; got ${text}`,
    );
  }
  return ms;
}

/**
 * Open the PostgreSQL store named by `--pg` and its companion flags.
 *
 * @param flags parsed flags (`pg` must be a string)
 * @param dim the model's dimension
 * @returns the connected store (HNSW index ensured in search mode postgres)
 * @throws {ValueError} INVALID_ARGUMENT for a bad flag value; what {@link PgVectorStore.connect} throws
 * @example
 * ```ts ignore
 * import { openPgStore } from "./pg_flags.ts";
 * const store = await openPgStore({ pg: "postgres://postgres@127.0.0.1:5432/postgres" }, 128);
 * ```
 */
export async function openPgStore(flags: Record<string, string | boolean>, dim: number): Promise<PgVectorStore> {
  const num = (k: string) => {
    if (flags[k] === undefined) return undefined;
    const v = Number(flags[k]);
    if (!Number.isInteger(v) || v < 1) {
      throw new ValueError("INVALID_ARGUMENT", `--${k} must be a positive integer, got ${flags[k]}`);
    }
    return v;
  };
  const search = flags.search ?? "memory";
  if (search !== "memory" && search !== "postgres") {
    throw new ValueError("INVALID_ARGUMENT", `--search must be memory or postgres, got ${search}`);
  }
  const retention = typeof flags["pg-tombstone-retention"] === "string"
    ? parseRetention(flags["pg-tombstone-retention"])
    : flags["pg-tombstone-retention"] === undefined
    ? PG_TOMBSTONE_RETENTION_MS
    : parseRetention("");
  guardDriverTimers();
  const store = await PgVectorStore.connect({
    url: String(flags.pg),
    dim,
    ...(typeof flags["pg-table"] === "string" ? { table: flags["pg-table"] } : {}),
    ...(num("pg-pool") ? { maxConnections: num("pg-pool") } : {}),
    ...(num("ef-search") ? { efSearch: num("ef-search") } : {}),
    searchMode: search as PgSearchMode,
    tombstoneRetentionMs: retention,
  });
  if (search === "postgres") {
    try {
      await store.ensureHnswIndex();
    } catch (e) {
      await store.close();
      throw e;
    }
  }
  return store;
}

let guarded = false;

/**
 * Keep a replica alive through a bug of the `postgres` driver (3.4.9): after a connection is lost
 * mid-write, a deferred flush can run with no socket (`null is not an object (evaluating
 * 'socket.write')` in its `connection.js`), thrown from a timer where no caller can catch it. Seen in
 * Bun (and once in Deno) during the Postgres-restart drill. Bun also raises a socket's `read
 * ECONNRESET` from `node:net` as an uncaught error when the server closes a connection the driver
 * has already given up (seen in CI's restart drill): the only `node:net` sockets of a server process
 * are the driver's. Those errors are logged and ignored (the query they belonged to has already
 * failed with a connection error, and the driver reconnects); any other uncaught error still ends the
 * process with status 1.
 */
function guardDriverTimers(): void {
  if (guarded) return;
  guarded = true;
  process.on("uncaughtException", (e: Error) => {
    if (isDriverTransportError(e)) {
      console.error(`likeness: ignored a postgres driver error after a lost connection: ${e.message}`);
      return;
    }
    console.error(e);
    process.exit(1);
  });
}

const TRANSPORT_CODES = new Set(["ECONNRESET", "EPIPE", "ECONNREFUSED", "ETIMEDOUT", "ECONNABORTED"]);

/** An error thrown where no caller can catch it by the driver's connection code or by one of its sockets. */
export function isDriverTransportError(e: unknown): boolean {
  const stack = String((e as Error)?.stack);
  if (/[\\/]postgres[\\/](src|cjs[\\/]src)[\\/]connection\.js/.test(stack)) return true;
  const err = e as { code?: unknown; syscall?: unknown };
  return typeof err?.code === "string" && TRANSPORT_CODES.has(err.code) && typeof err.syscall === "string" &&
    /node:net/.test(stack);
}
