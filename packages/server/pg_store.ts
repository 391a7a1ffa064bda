/**
 * A {@link ReferenceStore} in PostgreSQL with pgvector, shared by many server replicas: every
 * replica keeps its resident index current from the others' commits (LISTEN/NOTIFY plus a
 * catch-up query by change id), or searches in Postgres itself with a pgvector HNSW index.
 *
 * Schema (one table per store, name validated, default `likeness_references`):
 *
 * | column | type | meaning |
 * |---|---|---|
 * | `id` | `text primary key` | the caller's id |
 * | `label` | `text not null` | class label |
 * | `embedding` | `vector(dim)` | the vector; `NULL` on a tombstone |
 * | `payload` | `jsonb` | optional payload (`NULL` when absent) |
 * | `created_at`, `updated_at` | `timestamptz` | first insert (reset when a deleted id comes back), last change |
 * | `deleted_at` | `timestamptz` | set on delete: the row stays as a tombstone so replicas learn of the delete |
 * | `change_id` | `bigint` | the commit that last touched the row (one id per committed request) |
 *
 * Writes: one transaction per {@link PgVectorStore.write} call. It takes a transaction-level
 * advisory lock, draws the next change id from `<table>_change_seq`, upserts (`INSERT ... ON
 * CONFLICT (id) DO UPDATE`, so a repeated request leaves the same state) or tombstones, and sends
 * `NOTIFY <table>_changes, '<change id>'`; the notification is delivered at commit. The lock
 * makes change ids increase in commit order across every writer, so "every change after id N"
 * is a complete catch-up query: a replica that missed notifications, or lost its connection,
 * asks for `change_id > last` and loses nothing. The cost is that writes to one table are
 * serialised (each holds the lock for a few round trips on loopback).
 *
 * Tombstones and their purge: a delete keeps the row with `deleted_at` set, so a replica's catch-up
 * query learns of it. Tombstones older than `tombstoneRetentionMs` (7 days by default; `serve
 * --pg-tombstone-retention`) are purged ({@link PgVectorStore.purgeTombstones}, run by every
 * replica every `purgeEveryMs`, one at a time through an advisory lock). Each purge raises the
 * table's horizon (`<table>_horizon.purged_through`) to the highest change id it removed, in the
 * same transaction. Every catch-up query reads the horizon in the same snapshot as the changes: a
 * replica whose last seen change is below it may have missed a purged delete, so it reloads the
 * whole live set instead (delivered to watchers as one batch with `reset: true`), logs why, and
 * says so in its health detail. A purge therefore never makes a replica miss a delete; it costs a
 * replica that was cut off for longer than the retention one full reload.
 *
 * Migrations are versioned in code ({@link PG_MIGRATIONS}) and recorded per table in
 * `likeness_migrations`; start-up applies the missing ones under an advisory lock, so replicas
 * started together do not race.
 *
 * Failures: when PostgreSQL cannot be reached (restart, connection refused, too many
 * connections, a shutdown in progress, the pool busy past `acquireTimeoutMs`) a write throws
 * `LikenessError("UNAVAILABLE")`, which the server answers with 503, and health reports
 * `degraded`. The store does not retry a write itself: a commit interrupted by a lost
 * connection has an unknown outcome. Clients retry the same request (upsert and delete by id
 * are idempotent, so repeating a write that did commit is harmless). A write that committed
 * although its caller saw an error is delivered to this instance's watcher like another
 * writer's change, so the resident index still converges.
 *
 * @module
 */
import { LikenessError, ShapeError, ValueError } from "@likeness/core";
import type { ReferenceItem } from "./reference_index.ts";
import type { SearchHit } from "./searcher.ts";
import type { ReferenceStore, StoreChange, StoreHealth, StoreQuery, StoreWrite, StoreWriteResult } from "./store.ts";
import { checkStoreWrite } from "./store_rules.ts";

/** Where searches run for a server on this store. */
export type PgSearchMode = "memory" | "postgres";

/** Options for {@link PgVectorStore.connect}. */
export interface PgStoreOptions {
  /** Connection URL, e.g. `postgres://user@127.0.0.1:5432/db`. */
  url: string;
  /** Vector dimension (the table's `vector(dim)`). */
  dim: number;
  /** Table name: lowercase letters, digits and `_`, at most 48 characters [likeness_references]. */
  table?: string;
  /** Most pooled connections [10]. */
  maxConnections?: number;
  /** Give up on a write (UNAVAILABLE) that has not finished after this long, in ms [5000]. */
  acquireTimeoutMs?: number;
  /** Seconds to wait for a new connection [5]. */
  connectTimeoutSeconds?: number;
  /** Catch-up poll and LISTEN heartbeat interval in ms while watching; bounds the lag when notifications are lost [500]. */
  pollMs?: number;
  /** `memory` (resident index, default) or `postgres` (search in Postgres; needs the HNSW index). */
  searchMode?: PgSearchMode;
  /** Default `hnsw.ef_search` for searches in Postgres [40, pgvector's default]. */
  efSearch?: number;
  /** Purge tombstones (deleted rows) older than this, in ms [7 days]; `Infinity` never purges. */
  tombstoneRetentionMs?: number;
  /** How often this instance runs the purge, in ms [a quarter of the retention, at most 1 hour, at least 1 s]. */
  purgeEveryMs?: number;
  /** Most bytes of JSON per payload [64 KiB]. */
  maxPayloadBytes?: number;
}

/** Default tombstone retention: 7 days. */
export const PG_TOMBSTONE_RETENTION_MS = 7 * 24 * 3600 * 1000;

/** One versioned schema step; `sql` receives the quoted table name and the dimension. */
export interface PgMigration {
  /** Version (1, 2, ...). */
  version: number;
  /** What it does. */
  name: string;
  /** Statements to run in order. */
  sql(table: string, dim: number): string[];
}

/**
 * The schema, in order. Add a step at the end; never edit a released one.
 *
 * @example
 * ```ts
 * import { PG_MIGRATIONS } from "@likeness/server";
 * console.log(PG_MIGRATIONS.at(-1)!.version);
 * ```
 */
export const PG_MIGRATIONS: readonly PgMigration[] = [
  {
    version: 1,
    name: "references table, change sequence, change-id index",
    sql: (t, dim) => [
      `create table if not exists ${t} (
        id text primary key,
        label text not null,
        embedding vector(${dim}),
        payload jsonb,
        created_at timestamptz not null default now(),
        updated_at timestamptz not null default now(),
        deleted_at timestamptz,
        change_id bigint not null
      )`,
      `create sequence if not exists ${t}_change_seq`,
      `create index if not exists ${t}_change_idx on ${t} (change_id)`,
    ],
  },
  {
    version: 2,
    name: "label index for filtered searches in Postgres",
    sql: (t) => [`create index if not exists ${t}_label_idx on ${t} (label) where deleted_at is null`],
  },
  {
    version: 3,
    name: "tombstone purge horizon, deleted_at index",
    sql: (t) => [
      `create table if not exists ${t}_horizon (
        one boolean primary key default true check (one),
        purged_through bigint not null default 0,
        purged_at timestamptz
      )`,
      `insert into ${t}_horizon (one, purged_through) values (true, 0) on conflict do nothing`,
      `create index if not exists ${t}_deleted_idx on ${t} (deleted_at) where deleted_at is not null`,
    ],
  },
];

const TABLE_RE = /^[a-z_][a-z0-9_]{0,47}$/;
// SQLSTATE classes and client error codes that mean "PostgreSQL is not reachable right now".
const TRANSIENT_SQLSTATE = /^(08|53|57P0[1-4]|40001|40P01)/;
const TRANSIENT_CLIENT = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "CONNECTION_CLOSED",
  "CONNECTION_ENDED",
  "CONNECTION_DESTROYED",
  "CONNECT_TIMEOUT",
]);

/** True when `e` says PostgreSQL is unreachable or overloaded (worth a retry later). */
function isTransient(e: unknown): boolean {
  const code = (e as { code?: unknown })?.code;
  if (typeof code !== "string") return /connect|closed|terminat/i.test(String((e as Error)?.message ?? ""));
  return TRANSIENT_CLIENT.has(code) || TRANSIENT_SQLSTATE.test(code);
}

/** Decode pgvector's binary form (`vector_send`): int16 dim, int16 unused, dim big-endian float4. */
function decodeVector(b: Uint8Array, dim: number): Float32Array {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const n = dv.getUint16(0);
  if (n !== dim || b.byteLength !== 4 + 4 * n) {
    throw new LikenessError("CORRUPT", `A stored vector has ${n} dimensions; the store holds ${dim}`);
  }
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = dv.getFloat32(4 + 4 * i);
  return out;
}

/** pgvector's text form of a float32 vector; every float32 round-trips exactly (-0 included). */
function vectorText(v: Float32Array): string {
  let out = "[";
  for (let i = 0; i < v.length; i++) out += (i ? "," : "") + (Object.is(v[i], -0) ? "-0" : v[i]);
  return out + "]";
}

type Sql = import("postgres").Sql;
type PostgresFactory = typeof import("postgres");
type Row = Record<string, unknown>;

/** Prefix of heartbeat notifications (change notifications carry a bare change id). */
const PING = "ping:";

/** Wait one macrotask: lets a caller's continuation (the index update after a write) run first. */
const macrotask = () => new Promise<void>((r) => setTimeout(r, 0));

/**
 * Reference store in PostgreSQL + pgvector (see the module doc for the schema and guarantees).
 *
 * @example
 * ```ts ignore
 * import { PgVectorStore } from "@likeness/server";
 * const store = await PgVectorStore.connect({ url: "postgres://postgres@127.0.0.1:5432/postgres", dim: 128 });
 * await store.write({ put: [{ id: "a", label: "cat", vector: new Float32Array(128).fill(0.1) }] });
 * console.log((await store.load()).length);
 * await store.close();
 * ```
 */
export class PgVectorStore implements ReferenceStore {
  /** Vector dimension. */
  readonly dim: number;
  /** Table name. */
  readonly table: string;
  /** Where searches run (reported by describe(), health and metrics). */
  readonly searchMode: PgSearchMode;
  #sql: Sql;
  #url: string;
  #channel: string;
  #lockKey: string;
  #acquireTimeoutMs: number;
  #pollMs: number;
  #efSearch: number;
  /** Highest change id this instance has seen applied (loaded, delivered or written). */
  #last = 0n;
  /** Own committed change ids above #last (skipped by catch-up). */
  #own = new Set<bigint>();
  /** Serialises writes and catch-up deliveries (see #exclusive). */
  #gate: Promise<unknown> = Promise.resolve();
  #watchers: ((w: StoreChange) => void)[] = [];
  #timer: ReturnType<typeof setInterval> | undefined;
  #listener: Sql | undefined;
  #poolOptions: Parameters<PostgresFactory>[1] = {};
  #factory: PostgresFactory;
  #rawUrl: string;
  #connectTimeout: number;
  #listenOk = false;
  #catchUpQueued = false;
  #instance = crypto.randomUUID();
  #pingSeq = 0;
  #pingSent: string | undefined;
  #listenBusy = false;
  #writeError: string | undefined;
  #readError: string | undefined;
  #closed = false;
  #retentionMs: number;
  #purgeEveryMs: number;
  #purgeTimer: ReturnType<typeof setInterval> | undefined;
  #purging: Promise<unknown> = Promise.resolve();
  #maxPayload: number | undefined;
  /** Own change ids could not all be remembered (no watcher for long): the next catch-up reloads. */
  #stale = false;
  /** The last full reload, for health. */
  #notice: string | undefined;
  /**
   * Counters for metrics: writes failed as UNAVAILABLE, changes delivered, catch-up queries,
   * notifications, full reloads (after a purge passed this replica), tombstones purged.
   */
  readonly counters = { unavailable: 0, delivered: 0, catchUps: 0, notifications: 0, reloads: 0, purged: 0 };

  private constructor(factory: PostgresFactory, sql: Sql, options: PgStoreOptions, table: string) {
    this.#factory = factory;
    this.#sql = sql;
    this.#rawUrl = options.url;
    this.#connectTimeout = options.connectTimeoutSeconds ?? 5;
    this.dim = options.dim;
    this.table = table;
    this.searchMode = options.searchMode ?? "memory";
    this.#url = options.url.replace(/\/\/[^@/]*@/, "//");
    this.#channel = `${table}_changes`;
    this.#lockKey = `likeness:${table}`;
    this.#acquireTimeoutMs = options.acquireTimeoutMs ?? 5000;
    this.#pollMs = options.pollMs ?? 500;
    this.#efSearch = options.efSearch ?? 40;
    this.#retentionMs = options.tombstoneRetentionMs ?? PG_TOMBSTONE_RETENTION_MS;
    this.#purgeEveryMs = options.purgeEveryMs ?? Math.min(3_600_000, Math.max(1000, this.#retentionMs / 4));
    this.#maxPayload = options.maxPayloadBytes;
  }

  /**
   * Connect, create the `vector` extension if missing, and apply pending migrations.
   *
   * @param options url, dim, table, pool and timing options, search mode
   * @returns the store
   * @throws {ValueError} INVALID_ARGUMENT for a bad table name, dim or option
   * @throws {LikenessError} CONFLICT when the table holds vectors of another dimension;
   *   UNAVAILABLE when PostgreSQL cannot be reached; MISSING_DEPENDENCY without the `postgres` package
   */
  static async connect(options: PgStoreOptions): Promise<PgVectorStore> {
    const table = options.table ?? "likeness_references";
    if (!TABLE_RE.test(table)) {
      throw new ValueError(
        "INVALID_ARGUMENT",
        `PgVectorStore: table "${table}" must be lowercase letters, digits and _ (at most 48), starting with a letter or _`,
      );
    }
    if (!Number.isInteger(options.dim) || options.dim < 1 || options.dim > 16000) {
      throw new ValueError("INVALID_ARGUMENT", `PgVectorStore: dim must be an integer in 1..16000, got ${options.dim}`);
    }
    if (options.searchMode !== undefined && options.searchMode !== "memory" && options.searchMode !== "postgres") {
      throw new ValueError(
        "INVALID_ARGUMENT",
        `PgVectorStore: searchMode must be "memory" or "postgres", got ${JSON.stringify(options.searchMode)}`,
      );
    }
    for (
      const k of [
        "maxConnections",
        "acquireTimeoutMs",
        "connectTimeoutSeconds",
        "pollMs",
        "efSearch",
        "purgeEveryMs",
        "maxPayloadBytes",
      ] as const
    ) {
      const v = options[k];
      if (v !== undefined && !(Number.isFinite(v) && v > 0)) {
        throw new ValueError("INVALID_ARGUMENT", `PgVectorStore: ${k} must be a positive number, got ${v}`);
      }
    }
    const keep = options.tombstoneRetentionMs;
    if (keep !== undefined && !(keep > 0)) {
      throw new ValueError(
        "INVALID_ARGUMENT",
        `PgVectorStore: tombstoneRetentionMs must be a positive number of ms (Infinity: never purge), got ${keep}`,
      );
    }
    let postgres: PostgresFactory;
    try {
      postgres = (await import("postgres")).default as unknown as PostgresFactory;
    } catch (cause) {
      throw new LikenessError(
        "MISSING_DEPENDENCY",
        "PgVectorStore needs the postgres package: npm install postgres@3.4.9",
        {
          cause,
        },
      );
    }
    const poolOptions = {
      max: options.maxConnections ?? 10,
      connect_timeout: options.connectTimeoutSeconds ?? 5,
      idle_timeout: 60,
      onnotice: () => {},
      connection: { application_name: "likeness" },
    };
    const sql = postgres(options.url, poolOptions);
    const store = new PgVectorStore(postgres, sql, options, table);
    store.#poolOptions = poolOptions;
    try {
      await store.#migrate();
    } catch (e) {
      await sql.end({ timeout: 1 }).catch(() => {});
      throw store.#wrap(e, "apply migrations");
    }
    if (Number.isFinite(store.#retentionMs)) {
      store.#purgeTimer = setInterval(() => {
        store.#purging = store.purgeTombstones().catch((e) => {
          console.error(`likeness: ${table}: tombstone purge failed: ${(store.#wrap(e, "purge") as Error).message}`);
        });
      }, store.#purgeEveryMs);
    }
    return store;
  }

  /** Apply missing migrations under an advisory lock; check the table's dimension. */
  async #migrate(): Promise<void> {
    const sql = this.#sql;
    await sql.begin(async (t) => {
      await t`select pg_advisory_xact_lock(hashtext('likeness:migrations'))`;
      const ext = await t`select 1 from pg_extension where extname = 'vector'`;
      if (!ext.length) await t.unsafe("create extension if not exists vector");
      await t.unsafe(`create table if not exists likeness_migrations (
        store_table text not null, version int not null, name text not null,
        applied_at timestamptz not null default now(), primary key (store_table, version))`);
      const done = new Set(
        (await t`select version from likeness_migrations where store_table = ${this.table}`).map((r) =>
          Number(r.version)
        ),
      );
      for (const m of PG_MIGRATIONS) {
        if (done.has(m.version)) continue;
        for (const stmt of m.sql(this.table, this.dim)) await t.unsafe(stmt);
        await t`insert into likeness_migrations (store_table, version, name) values (${this.table}, ${m.version}, ${m.name})`;
      }
      const [col] = await t`select atttypmod from pg_attribute
        where attrelid = ${this.table}::regclass and attname = 'embedding'`;
      const have = Number(col?.atttypmod);
      if (have !== this.dim) {
        throw new LikenessError(
          "CONFLICT",
          `Table ${this.table} holds ${have}-dimensional vectors but this server needs ${this.dim}; use another --pg-table`,
        );
      }
    });
  }

  /** Map a driver error to a typed one and record it for health. */
  #wrap(e: unknown, doing: string): unknown {
    if (e instanceof LikenessError || e instanceof ShapeError || e instanceof ValueError) return e;
    if (isTransient(e)) {
      return new LikenessError(
        "UNAVAILABLE",
        `PostgreSQL is unavailable (${
          (e as Error).message
        }) while trying to ${doing}; retry the request (writes are idempotent)`,
        { cause: e },
      );
    }
    return e;
  }

  /** Run `f` after every earlier write or delivery; release one macrotask after it settles. */
  #exclusive<T>(f: () => Promise<T>): Promise<T> {
    const run = this.#gate.then(f);
    this.#gate = run.then(macrotask, macrotask);
    return run;
  }

  /**
   * Replace the pool after a query timed out: the driver can leave a connection stuck after
   * PostgreSQL went away, so the next queries get fresh connections instead of waiting behind it.
   */
  #resetPool(): void {
    if (this.#closed) return;
    const old = this.#sql;
    this.#sql = this.#factory(this.#rawUrl, this.#poolOptions);
    void old.end({ timeout: 0 }).catch(() => {});
  }

  /** Race `p` against the acquire timeout (replacing the pool when it fires). */
  #deadline<T>(p: Promise<T>, doing: string): Promise<T> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const t = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => (this.#resetPool(),
          reject(
            new LikenessError(
              "UNAVAILABLE",
              `PostgreSQL did not answer within ${this.#acquireTimeoutMs} ms while trying to ${doing} (pool busy or server unreachable); retry the request`,
            ),
          )),
        this.#acquireTimeoutMs,
      );
    });
    return Promise.race([p, t]).finally(() => clearTimeout(timer));
  }

  /**
   * Every live item, in one consistent snapshot; also marks the change id it reflects, so
   * {@link watch} delivers exactly the commits after it. Called while watchers are attached, it
   * leaves their position alone: they still receive every commit after their last batch (some may
   * already be in the snapshot returned; a batch carries the rows' current state, so applying it
   * again is harmless).
   *
   * @returns live items
   * @throws {LikenessError} UNAVAILABLE when PostgreSQL cannot be reached; CORRUPT for a bad vector
   */
  async load(): Promise<ReferenceItem[]> {
    if (this.#closed) throw this.#closedError();
    const { items, last } = await this.#snapshot();
    // While watchers are attached, their stream stays where it was: moving #last to the snapshot
    // would skip every commit between the watchers' last batch and the snapshot, commits they
    // have not been given yet (another writer's commit whose notification is still on its way).
    if (this.#watchers.length) return items;
    this.#last = last;
    this.#own.clear();
    this.#stale = false;
    return items;
  }

  #closedError(): LikenessError {
    return new LikenessError("UNAVAILABLE", `PgVectorStore for ${this.table} is closed`);
  }

  /**
   * Every live item and the change id they reflect, in one snapshot: the highest change id in the
   * table, or the purge horizon when that is higher (the purged tombstones are reflected too).
   */
  async #snapshot(): Promise<{ items: ReferenceItem[]; last: bigint }> {
    const items: ReferenceItem[] = [];
    let last = 0n;
    try {
      await this.#sql.begin("isolation level repeatable read read only", async (t) => {
        const [m] = await t.unsafe(
          `select greatest(coalesce((select max(change_id) from ${this.table}), 0),
             (select purged_through from ${this.table}_horizon))::text as m`,
        );
        last = BigInt(m.m as string);
        const cursor = t.unsafe(
          `select id, label, vector_send(embedding) as v, payload, payload is not null as has_payload from ${this.table}
           where deleted_at is null order by id`,
        ).cursor(2000);
        for await (const rows of cursor) for (const r of rows) items.push(this.#item(r));
      });
    } catch (e) {
      throw this.#wrap(e, "load the references");
    }
    return { items, last };
  }

  #item(r: Row): ReferenceItem {
    return {
      id: r.id as string,
      label: r.label as string,
      vector: decodeVector(r.v as Uint8Array, this.dim),
      ...(r.has_payload ? { payload: r.payload } : {}),
    };
  }

  /**
   * Persist one request's puts and deletes in one transaction; resolves once committed.
   *
   * @param w items to upsert and ids to delete
   * @returns how many ids were added, updated and deleted
   * @throws what `checkStoreWrite` throws (SHAPE_MISMATCH, NON_FINITE, INVALID_ARGUMENT, TOO_LARGE),
   *   as a rejected promise, nothing committed
   * @throws {LikenessError} UNAVAILABLE when PostgreSQL cannot be reached (nothing committed, or
   *   an unknown outcome after a lost connection: retry), and after close
   */
  write(w: StoreWrite): Promise<StoreWriteResult> {
    if (this.#closed) return Promise.reject(this.#closedError());
    let checked;
    try {
      checked = checkStoreWrite(w, {
        dim: this.dim,
        ...(this.#maxPayload === undefined ? {} : { maxPayloadBytes: this.#maxPayload }),
      });
    } catch (e) {
      return Promise.reject(e);
    }
    const put = checked.put.map((p) => p.item);
    const del = checked.delete;
    if (!put.length && !del.length) return Promise.resolve({ added: 0, updated: 0, deleted: 0 });
    const ids = put.map((it) => it.id);
    const labels = put.map((it) => it.label);
    const vecs = put.map((it) => vectorText(it.vector));
    const payloads = checked.put.map((p) => p.json);
    return this.#exclusive(async () => {
      if (this.#closed) throw this.#closedError();
      const t = this.table;
      let change: bigint;
      let before: bigint;
      let result: StoreWriteResult;
      try {
        const r = await this.#deadline(
          this.#sql.begin(async (tx) => {
            // Lock first, then draw the id (two statements, so no plan can reorder them).
            await tx.unsafe(`select pg_advisory_xact_lock(hashtext($1))`, [this.#lockKey]);
            // Under the lock every earlier commit is visible: `before` is the newest change (or
            // purge) that this instance might not have seen yet.
            const [c] = await tx.unsafe(
              `select nextval('${t}_change_seq')::text as c, greatest(coalesce((select max(change_id) from ${t}), 0),
                 (select purged_through from ${t}_horizon))::text as before`,
            );
            let existed = 0;
            let deleted = 0;
            if (put.length) {
              const [e] = await tx.unsafe(
                `with prev as (select id from ${t} where id = any($1::text[]) and deleted_at is null),
                 ins as (insert into ${t} as r (id, label, embedding, payload, change_id)
                 select u.id, u.label, u.emb::vector, u.payload::jsonb, $5::bigint
                 from unnest($1::text[], $2::text[], $3::text[], $4::text[]) as u(id, label, emb, payload)
                 on conflict (id) do update set label = excluded.label, embedding = excluded.embedding,
                   payload = excluded.payload, change_id = excluded.change_id, updated_at = now(),
                   created_at = case when r.deleted_at is null then r.created_at else now() end,
                   deleted_at = null
                 returning 1)
                 select (select count(*) from prev)::int as n, (select count(*) from ins)::int as m`,
                [ids, labels, vecs, payloads, c.c as string],
              );
              existed = Number(e.n);
            }
            if (del.length) {
              const gone = await tx.unsafe(
                `update ${t} set deleted_at = now(), updated_at = now(), embedding = null, payload = null,
                 change_id = $2::bigint where id = any($1::text[]) and deleted_at is null returning 1`,
                [del as string[], c.c as string],
              );
              deleted = gone.length;
            }
            await tx.unsafe(`select pg_notify($1, $2)`, [this.#channel, c.c as string]);
            return { change: BigInt(c.c as string), before: BigInt(c.before as string), existed, deleted };
          }),
          "write",
        );
        change = r.change;
        before = r.before;
        result = { added: put.length - r.existed, updated: r.existed, deleted: r.deleted };
      } catch (e) {
        const err = this.#wrap(e, "write");
        if ((err as LikenessError).code === "UNAVAILABLE") {
          this.counters.unavailable++;
          this.#writeError = `${new Date().toISOString()}: ${(err as Error).message}`;
        }
        throw err;
      }
      this.#writeError = undefined;
      if (!this.#watchers.length && !this.#stale && before <= this.#last) {
        this.#last = change; // nothing from other writers in between: no need to remember our id
        return result;
      }
      this.#own.add(change);
      if (!this.#watchers.length && this.#own.size > 10_000) {
        // Nobody watches (e.g. search mode postgres): stop remembering; a later watch() reloads.
        this.#own.clear();
        this.#stale = true;
      }
      // Others' commits before ours reach the watcher first, so the caller's index update
      // (which runs right after this resolves) lands in commit order.
      if (this.#watchers.length) {
        try {
          await this.#catchUp(change);
        } catch {
          // The poller will retry; our own id stays in #own so it is not delivered back.
        }
      }
      return result;
    });
  }

  /**
   * Deliver every change after #last (up to `upTo` when given) to the watchers, in commit order,
   * one StoreWrite per change id, skipping this instance's own writes. When the purge horizon has
   * passed #last (a purged tombstone may be among the changes missed), a background catch-up
   * reloads everything instead; one bounded by `upTo` (during a write) leaves that to the poller.
   */
  async #catchUp(upTo?: bigint): Promise<void> {
    this.counters.catchUps++;
    const page = 5000;
    for (;;) {
      // Bounded like a write: a query stuck on a half-dead connection must not hold the gate forever.
      // One statement, so the horizon and the changes come from one snapshot (a purge commits both).
      const found = await this.#deadline(
        this.#sql.unsafe(
          `select h.purged_through::text as horizon, r.* from ${this.table}_horizon h left join lateral (
             select id, label, deleted_at is not null as deleted, vector_send(embedding) as v, payload,
               payload is not null as has_payload, change_id::text as c from ${this.table}
             where change_id > $1::bigint ${upTo === undefined ? "" : "and change_id <= $3::bigint"}
             order by change_id limit $2) r on true`,
          upTo === undefined ? [this.#last.toString(), page] : [this.#last.toString(), page, upTo.toString()],
        ),
        "catch up",
      );
      // PostgreSQL answers again: neither catch-up nor writes are failing for want of it now.
      this.#readError = undefined;
      this.#writeError = undefined;
      const horizon = BigInt((found[0]?.horizon as string | undefined) ?? "0");
      if (horizon > this.#last || this.#stale) {
        if (upTo !== undefined) {
          queueMicrotask(() => this.#kick()); // after this write's gate turn
          return;
        }
        const why = this.#stale
          ? `this instance wrote ${10_000}+ changes while nothing watched, and stopped tracking them`
          : `its last seen change ${this.#last} is older than the tombstone purge horizon ${horizon}`;
        await this.#reload(why);
        return;
      }
      const rows = found.filter((r) => r.id !== null);
      let use = rows.length;
      if (rows.length === page) {
        // Keep each commit whole: hold back the last change id's rows unless the page is all one id.
        const lastId = rows[rows.length - 1].c;
        while (use > 0 && rows[use - 1].c === lastId) use--;
        if (use === 0) use = rows.length;
      }
      let i = 0;
      while (i < use) {
        const c = rows[i].c as string;
        const put: ReferenceItem[] = [];
        const del: string[] = [];
        for (; i < use && rows[i].c === c; i++) {
          if (rows[i].deleted) del.push(rows[i].id as string);
          else put.push(this.#item(rows[i]));
        }
        const id = BigInt(c);
        this.#last = id;
        if (this.#own.delete(id)) continue;
        const w: StoreChange = { ...(put.length ? { put } : {}), ...(del.length ? { delete: del } : {}) };
        this.counters.delivered++;
        for (const f of this.#watchers) f(w);
      }
      if (upTo !== undefined && this.#last < upTo) this.#last = upTo;
      for (const id of this.#own) if (id <= this.#last) this.#own.delete(id);
      if (rows.length < page) return;
    }
  }

  /** Deliver the whole live set as one `reset` batch, log it and remember it for health. */
  async #reload(why: string): Promise<void> {
    const { items, last } = await this.#snapshot();
    this.#last = last;
    this.#own.clear();
    this.#stale = false;
    this.counters.reloads++;
    this.#notice = `${
      new Date().toISOString()
    }: reloaded all ${items.length} live references up to change ${last} because ${why}`;
    console.warn(`likeness: ${this.table}: ${this.#notice}`);
    const w: StoreChange = { reset: true, put: items };
    this.counters.delivered++;
    for (const f of this.#watchers) f(w);
  }

  /**
   * Delete tombstones older than the retention, in batches of `batch` rows per transaction, and
   * raise the purge horizon to the highest change id removed (same transaction), so replicas
   * that had not seen those deletes reload instead of missing them. Skipped (0 purged) while
   * another instance is purging the same table.
   *
   * @param options `olderThanMs` [the store's `tombstoneRetentionMs`], `batch` rows [10000]
   * @returns tombstones purged and the horizon afterwards
   * @throws {LikenessError} UNAVAILABLE when PostgreSQL cannot be reached
   * @example
   * ```ts ignore
   * const { purged, horizon } = await store.purgeTombstones({ olderThanMs: 24 * 3600 * 1000 });
   * ```
   */
  async purgeTombstones(
    options: { olderThanMs?: number; batch?: number } = {},
  ): Promise<{ purged: number; horizon: bigint }> {
    const older = options.olderThanMs ?? this.#retentionMs;
    const batch = options.batch ?? 10_000;
    if (!(older >= 0) || !Number.isInteger(batch) || batch < 1) {
      throw new ValueError("INVALID_ARGUMENT", `purgeTombstones: olderThanMs ≥ 0 and a positive integer batch`);
    }
    if (this.#closed) throw this.#closedError();
    const t = this.table;
    let purged = 0;
    let horizon = 0n;
    try {
      for (;;) {
        const r = await this.#sql.begin(async (tx) => {
          const [lk] = await tx.unsafe(`select pg_try_advisory_xact_lock(hashtext($1)) as ok`, [`likeness:purge:${t}`]);
          if (!lk.ok) return undefined;
          // The deleted_at test is repeated on the target so a row revived meanwhile is kept.
          const [g] = Number.isFinite(older)
            ? await tx.unsafe(
              `with gone as (delete from ${t} where deleted_at is not null and deleted_at < now() - $1::interval
                 and id in (select id from ${t} where deleted_at is not null and deleted_at < now() - $1::interval
                   order by deleted_at limit $2) returning change_id)
               select count(*)::int as n, coalesce(max(change_id), 0)::text as m from gone`,
              [`${older} milliseconds`, batch],
            )
            : [{ n: 0, m: "0" }];
          const [h] = await tx.unsafe(
            `update ${t}_horizon set purged_through = greatest(purged_through, $1::bigint),
               purged_at = case when $2::int > 0 then now() else purged_at end returning purged_through::text as h`,
            [g.m as string, g.n as number],
          );
          return { n: Number(g.n), h: BigInt(h.h as string) };
        });
        if (!r) break;
        purged += r.n;
        horizon = r.h;
        if (r.n < batch) break;
      }
    } catch (e) {
      throw this.#wrap(e, "purge tombstones");
    }
    this.counters.purged += purged;
    return { purged, horizon };
  }

  /** Schedule one background catch-up (coalesced), serialised with writes. */
  #kick(): void {
    if (this.#catchUpQueued || this.#closed || !this.#watchers.length) return;
    this.#catchUpQueued = true;
    this.#exclusive(async () => {
      this.#catchUpQueued = false;
      if (this.#closed) return;
      try {
        await this.#catchUp();
      } catch (e) {
        this.#readError = `${new Date().toISOString()}: ${(this.#wrap(e, "catch up") as Error).message}`;
      }
    }).catch(() => {});
  }

  /** Subscribe the dedicated LISTEN connection (again, after it was lost); a catch-up follows. */
  async #listen(): Promise<void> {
    if (this.#listenBusy || this.#closed) return;
    this.#listenBusy = true;
    try {
      // A fresh connection every time: one that lost its LISTEN may also be stuck in the driver.
      if (this.#listener) {
        void this.#listener.end({ timeout: 0 }).catch(() => {});
        this.#listener = undefined;
      }
      {
        const inst: Sql = this.#factory(
          this.#rawUrl,
          {
            max: 1,
            idle_timeout: null as unknown as undefined,
            max_lifetime: null,
            connect_timeout: this.#connectTimeout,
            onnotice: () => {},
            onclose: () => {
              if (this.#listener === inst) this.#listenOk = false;
            },
            onnotify: (_channel: string, payload: string) => this.#onNotify(payload),
            connection: { application_name: "likeness-listen" },
          } as Parameters<PostgresFactory>[1],
        );
        this.#listener = inst;
      }
      const l = this.#listener;
      await this.#deadline(l.unsafe(`listen "${this.#channel}"`), "listen for changes");
      if (l !== this.#listener) return;
      this.#listenOk = true;
      this.#pingSent = undefined;
      this.#kick(); // whatever was committed while we were not listening
    } catch (e) {
      this.#listenOk = false;
      this.#readError = `${new Date().toISOString()}: ${(this.#wrap(e, "listen for changes") as Error).message}`;
    } finally {
      this.#listenBusy = false;
    }
  }

  #onNotify(payload: string): void {
    if (payload.startsWith(PING)) {
      if (payload === this.#pingSent) this.#pingSent = undefined;
      return;
    }
    this.counters.notifications++;
    try {
      if (BigInt(payload) <= this.#last) return;
    } catch {
      // not a change id: catch up anyway
    }
    this.#kick();
  }

  /**
   * Receive other writers' commits after {@link load}, in commit order (LISTEN/NOTIFY, with a
   * catch-up query by change id on every notification, every reconnect and every `pollMs`).
   *
   * @param onChange called with each committed batch of another writer
   * @returns a function that stops watching
   */
  watch(onChange: (w: StoreChange) => void): () => void {
    this.#watchers.push(onChange);
    if (this.#watchers.length === 1) {
      void this.#listen();
      this.#timer = setInterval(() => {
        // Heartbeat through the notification path itself: a ping of ours that did not come back
        // within one interval means the LISTEN connection is gone even if no close was seen.
        if (this.#pingSent !== undefined) this.#listenOk = false;
        if (!this.#listenOk) void this.#listen();
        else {
          this.#pingSent = `${PING}${this.#instance}:${++this.#pingSeq}`;
          this.#sql.unsafe(`select pg_notify($1, $2)`, [this.#channel, this.#pingSent]).catch(() => {});
        }
        this.#kick();
      }, this.#pollMs);
    }
    return () => {
      this.#watchers = this.#watchers.filter((f) => f !== onChange);
      if (!this.#watchers.length) this.#stopWatching();
    };
  }

  #stopWatching(): void {
    this.#pingSent = undefined;
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    const l = this.#listener;
    this.#listener = undefined;
    this.#listenOk = false;
    void l?.end({ timeout: 1 }).catch(() => {});
  }

  /**
   * `degraded` from a write that failed for want of PostgreSQL until PostgreSQL answers again
   * (the next write or catch-up query), and while catch-up cannot reach it.
   *
   * @returns status and detail
   */
  health(): StoreHealth {
    const detail = this.#writeError
      ? `last write failed at ${this.#writeError}`
      : this.#readError
      ? `catch-up failing since ${this.#readError}`
      : undefined;
    const counters = { ...this.counters };
    if (detail) return { status: "degraded", detail, counters };
    return this.#notice ? { status: "ok", detail: this.#notice, counters } : { status: "ok", counters };
  }

  /**
   * In search mode "postgres": searches, gets and counts answered by PostgreSQL, so the server
   * keeps no resident copy. Undefined in mode "memory".
   */
  get query(): StoreQuery | undefined {
    if (this.searchMode !== "postgres") return undefined;
    return {
      mode: "postgres",
      search: (v, k, label) => this.search(v, k, label === undefined ? {} : { label }),
      get: (id) => this.get(id),
      count: () => this.count(),
    };
  }

  /** The change id this instance has applied up to (loaded, written or delivered). */
  get lastChangeId(): bigint {
    return this.#last;
  }

  /** Whether the change channel is subscribed (false before watch() and while disconnected). */
  get listening(): boolean {
    return this.#listenOk;
  }

  /**
   * Build the pgvector HNSW index (`vector_cosine_ops`) that searches in Postgres use; a no-op
   * when it exists. Slow on large tables (minutes per million rows on two cores).
   *
   * @param options `m` and `efConstruction` (pgvector's defaults 16 and 64); `maintenanceWorkMemMb`
   *   for this build only (PostgreSQL's `maintenance_work_mem`; a 1,000,000 × 128 graph needs about 1 GB)
   * @throws {LikenessError} UNAVAILABLE when PostgreSQL cannot be reached
   */
  async ensureHnswIndex(
    options: { m?: number; efConstruction?: number; maintenanceWorkMemMb?: number } = {},
  ): Promise<void> {
    const m = options.m ?? 16;
    const ef = options.efConstruction ?? 64;
    if (!Number.isInteger(m) || m < 2 || m > 100 || !Number.isInteger(ef) || ef < 4 || ef > 1000) {
      throw new ValueError("INVALID_ARGUMENT", `ensureHnswIndex: m in 2..100 and efConstruction in 4..1000`);
    }
    const mem = options.maintenanceWorkMemMb;
    if (mem !== undefined && (!Number.isInteger(mem) || mem < 1 || mem > 1_000_000)) {
      throw new ValueError(
        "INVALID_ARGUMENT",
        `ensureHnswIndex: maintenanceWorkMemMb must be an integer MB in 1..1000000`,
      );
    }
    try {
      await this.#sql.begin(async (t) => {
        // A graph that fits in maintenance_work_mem is built in memory, far faster than one that spills.
        if (mem !== undefined) await t.unsafe(`select set_config('maintenance_work_mem', $1, true)`, [`${mem}MB`]);
        await t.unsafe(
          `create index if not exists ${this.table}_hnsw on ${this.table}
           using hnsw (embedding vector_cosine_ops) with (m = ${m}, ef_construction = ${ef})`,
        );
      });
    } catch (e) {
      throw this.#wrap(e, "build the HNSW index");
    }
  }

  /**
   * Search in PostgreSQL (pgvector HNSW, cosine): nearest first, in the server's result shape
   * (`score` is cosine similarity, 1 − pgvector's cosine distance). A label filter is a SQL
   * predicate; pgvector's iterative index scan keeps filling k results past filtered-out rows.
   *
   * @param vector query of length `dim`
   * @param k how many
   * @param options `label` filter, `efSearch` (candidate list size; default from the store options)
   * @returns hits
   * @throws {ShapeError} for a wrong-length query
   * @throws {LikenessError} UNAVAILABLE when PostgreSQL cannot be reached
   */
  async search(
    vector: Float32Array,
    k: number,
    options: { label?: string; efSearch?: number } = {},
  ): Promise<SearchHit[]> {
    if (vector.length !== this.dim) {
      throw new ShapeError(`Cannot search: query has ${vector.length} dimensions but the store holds ${this.dim}`);
    }
    if (!Number.isInteger(k) || k < 1) {
      throw new ValueError("INVALID_ARGUMENT", `k must be a positive integer, got ${k}`);
    }
    const ef = options.efSearch ?? this.#efSearch;
    if (!Number.isInteger(ef) || ef < 1 || ef > 1000) {
      throw new ValueError("INVALID_ARGUMENT", `efSearch must be an integer in 1..1000, got ${ef}`);
    }
    const q = vectorText(vector);
    try {
      const rows = await this.#deadline(
        this.#sql.begin(async (t) => {
          await t.unsafe(`select set_config('hnsw.ef_search', $1, true), set_config('hnsw.iterative_scan', $2, true)`, [
            String(Math.max(ef, k)),
            options.label === undefined ? "off" : "relaxed_order",
          ]);
          return await t.unsafe(
            `select id, label, payload, payload is not null as has_payload, (1 - (embedding <=> $1::vector))::float8 as score from ${this.table}
             where deleted_at is null ${options.label === undefined ? "" : "and label = $3"}
             order by embedding <=> $1::vector limit $2`,
            options.label === undefined ? [q, k] : [q, k, options.label],
          );
        }),
        "search",
      );
      const hits = rows.map((r) => ({
        id: r.id as string,
        label: r.label as string,
        score: Number(r.score),
        ...(r.has_payload ? { payload: r.payload } : {}),
      }));
      // relaxed_order may return neighbours slightly out of order: restore nearest first.
      return hits.sort((a, b) => b.score - a.score);
    } catch (e) {
      throw this.#wrap(e, "search");
    }
  }

  /**
   * One item by id from PostgreSQL (for servers that search in Postgres and hold no resident copy).
   *
   * @param id reference id
   * @returns the item, or undefined
   */
  async get(id: string): Promise<ReferenceItem | undefined> {
    if (this.#closed) throw this.#closedError();
    try {
      const [r] = await this.#sql.unsafe(
        `select id, label, vector_send(embedding) as v, payload, payload is not null as has_payload from ${this.table} where id = $1 and deleted_at is null`,
        [id],
      );
      return r ? this.#item(r) : undefined;
    } catch (e) {
      throw this.#wrap(e, "read a reference");
    }
  }

  /** Live rows in the table (a count query). */
  async count(): Promise<number> {
    try {
      const [r] = await this.#sql.unsafe(`select count(*)::int8 as n from ${this.table} where deleted_at is null`);
      return Number(r.n);
    } catch (e) {
      throw this.#wrap(e, "count references");
    }
  }

  /** "postgres:<host:port/db>/<table> (search: memory|postgres)". */
  describe(): string {
    return `postgres:${this.#url.replace(/^postgres(ql)?:\/\//, "")}/${this.table} (search: ${this.searchMode})`;
  }

  /** Stop watching and close every connection (waits for a write in flight). */
  async close(): Promise<void> {
    if (this.#closed) return;
    if (this.#purgeTimer !== undefined) clearInterval(this.#purgeTimer);
    this.#purgeTimer = undefined;
    this.#stopWatching();
    await this.#purging;
    await this.#gate.catch(() => {});
    this.#closed = true;
    this.#watchers = [];
    await this.#sql.end({ timeout: 2 }).catch(() => {});
  }
}
