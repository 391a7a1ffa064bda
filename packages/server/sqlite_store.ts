/**
 * `SqliteStore`: the server's default reference store, one SQLite file (`DIR/likeness.db`) through
 * the SQLite each runtime ships (`node:sqlite` in Deno, `bun:sqlite` in Bun).
 *
 * - WAL journal with `synchronous = FULL`: a write resolves only once its commit is on disk.
 * - Two threads: the writer's connection lives in a Worker (`_sqlite_writer.ts`) that runs the
 *   writable open and every write transaction, so a commit's fsync never blocks the main thread
 *   (searches keep their latency during hot-adds); the main thread keeps a read-only connection
 *   (`query_only`) for `load`, `get` and `changesSince`. A Worker that errors or dies fails the
 *   write in flight with `WORKER_FAILED` unless its commit is found on disk (then it is
 *   acknowledged), is restarted (health `degraded` until a write succeeds), and after
 *   {@link MAX_WRITER_RESTARTS} deaths in a row every write fails with `WORKER_FAILED`.
 * - Each {@link StoreWrite} is checked by `checkStoreWrite` (the rules every store shares), then
 *   committed as one transaction (all or nothing); a full disk rolls it back and
 *   throws `STORAGE_FULL` (the server answers 507) and {@link SqliteStore.health} says `degraded`
 *   until a write succeeds again.
 * - Vectors are float32 BLOBs whose length is checked against the store's dimension; payloads are
 *   JSON text with a size limit per item (64 KiB by default). Each row carries a checksum that is
 *   verified at load, since SQLite does not checksum pages.
 * - At start: `PRAGMA quick_check`, the WAL's frames checked for damage that SQLite's recovery would
 *   silently drop, and the schema version. Any damage refuses to start with `CORRUPT`, naming what
 *   is damaged and what can be recovered; nothing is truncated. With `deferCheck` the writer thread
 *   runs `quick_check` while the caller loads its index, and {@link SqliteStore.verified} settles
 *   with its outcome: the server awaits it before it listens, so it still never serves a damaged file.
 * - After each commit the writer records the batch number in `likeness.db.seq` (not synced: a
 *   crash may lose it, which is harmless). A file whose last batch is older than that record has lost
 *   acknowledged batches (a damaged final WAL commit, which SQLite cannot tell from a torn tail), and
 *   is refused with `CORRUPT`.
 * - Exactly one writer: the writer holds an exclusive lock on `likeness.db.lock` (a SQLite lock,
 *   released by the kernel if the process dies). A second writer gets `LOCKED`; a store opened with
 *   `readOnly` is a replica that polls the file and reports the writer's commits through `watch`.
 *
 * Schema (version 1): `meta(key, value)` with `schema_version`, `dim`, `seq` (the last batch), `uid` (a
 * random id of the file, made at the first writable open; it tags the server's index snapshot);
 * `refs(id, label, vector, payload, seq, sum)`; `deleted(id, seq)` (tombstones for replicas).
 *
 * @module
 */
import { existsSync, mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { LikenessError } from "@likeness/core";
import type { ReferenceItem } from "./reference_index.ts";
import type { ReferenceStore, StoreChange, StoreChanges, StoreHealth, StoreWrite, StoreWriteResult } from "./store.ts";
import { checkStoreWrite, STORE_LIMITS } from "./store_rules.ts";
import { openSqlite, type SqlDatabase, sqliteCode, type SqlStatement } from "./_sqlite.ts";
import { checkWalFile, corrupt, initSchema, quickCheck, SQLITE_SCHEMA_VERSION, storeUid } from "./_sqlite_schema.ts";
import type { PutRow, WriterFault } from "./_sqlite_writer.ts";
import { MAX_WRITER_RESTARTS, SqliteWriter } from "./_sqlite_writer_client.ts";

export { MAX_WRITER_RESTARTS, SQLITE_SCHEMA_VERSION };

/** Test hook: `store[INJECT_WRITER_FAULT](how)` makes the writer thread fail (see {@link WriterFaultKind}). */
export const INJECT_WRITER_FAULT: unique symbol = Symbol("likeness.injectWriterFault");

/**
 * A writer-thread fault for tests: "terminate" ends the Worker from outside; "throw-before-commit"
 * and "throw-after-commit" make it throw an uncaught error at its next write.
 */
export type WriterFaultKind = WriterFault | "terminate";

/** Options for {@link SqliteStore.open}. */
export interface SqliteStoreOptions {
  /** Vector dimension; required for a new file, checked against an existing one. */
  dim?: number;
  /** Open as a read-only replica of another process's writes [false]. */
  readOnly?: boolean;
  /** Maximum payload JSON per item in bytes [65536]. */
  maxPayloadBytes?: number;
  /** How often a replica polls for the writer's commits, in ms [200]. */
  pollMs?: number;
  /**
   * Run `PRAGMA quick_check` in the writer thread after `open` returns, while the caller does other
   * start-up work; the caller must await {@link SqliteStore.verified} before it trusts the file
   * [false: `open` waits for it]. Ignored on a replica.
   */
  deferCheck?: boolean;
}

/** FNV-1a over a row's fields: catches bytes flipped inside a value, which SQLite would not notice. */
function rowSum(id: string, label: string, vector: Uint8Array, payload: string | null): number {
  let h = 0x811c9dc5;
  const words = vector.byteOffset % 4 === 0
    ? new Uint32Array(vector.buffer, vector.byteOffset, vector.length >> 2)
    : new Uint32Array(vector.slice().buffer);
  for (let i = 0; i < words.length; i++) h = Math.imul(h ^ words[i], 16777619);
  for (const s of [id, label, payload ?? ""]) {
    for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
    h = Math.imul(h ^ 0xff, 16777619);
  }
  return h >>> 0;
}

function toBlob(v: Float32Array): Uint8Array {
  return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
}

function fromBlob(b: Uint8Array): Float32Array {
  if (b.byteOffset % 4 === 0) return new Float32Array(b.buffer, b.byteOffset, b.length >> 2);
  return new Float32Array(b.slice().buffer);
}

/**
 * A durable reference store in one SQLite file.
 *
 * @example
 * ```ts
 * import { SqliteStore } from "@likeness/server";
 * const dir = await Deno.makeTempDir();
 * const store = await SqliteStore.open(`${dir}/likeness.db`, { dim: 2 });
 * await store.load();
 * await store.write({ put: [{ id: "a", label: "x", vector: new Float32Array([1, 0]) }] });
 * console.log((await store.load()).length); // 1
 * await store.close();
 * ```
 */
export class SqliteStore implements ReferenceStore {
  /** The database file. */
  readonly path: string;
  /** Whether this is a read-only replica. */
  readonly readOnly: boolean;
  /** Resolves once `PRAGMA quick_check` passed; rejects (CORRUPT, WORKER_FAILED) when it did not. */
  readonly verified: Promise<void>;
  #db: SqlDatabase;
  #lock: SqlDatabase | undefined;
  #writer: SqliteWriter | undefined;
  #dim: number;
  #maxPayload: number;
  #pollMs: number;
  #seq = 0;
  #uid: string | undefined;
  #health: StoreHealth;
  #stmts: Record<string, SqlStatement> = {};
  #timers = new Set<ReturnType<typeof setInterval>>();
  #closed = false;

  private constructor(
    path: string,
    db: SqlDatabase,
    lock: SqlDatabase | undefined,
    dim: number,
    o: SqliteStoreOptions,
    writer?: SqliteWriter,
    verified: Promise<void> = Promise.resolve(),
  ) {
    this.path = path;
    this.#db = db;
    this.#lock = lock;
    this.#writer = writer;
    this.verified = verified;
    if (writer) {
      writer.onFailure = (detail) => this.#health = { status: "degraded", detail };
    }
    this.#dim = dim;
    this.readOnly = o.readOnly ?? false;
    this.#maxPayload = o.maxPayloadBytes ?? STORE_LIMITS.maxPayloadBytes;
    this.#pollMs = o.pollMs ?? 200;
    this.#health = { status: "ok", ...(this.readOnly ? { readOnly: true } : {}) };
  }

  /**
   * Open (or create) the store: take the writer lock (unless read-only), check the WAL and the
   * database for damage, create or check the schema.
   *
   * @param path the database file (its directory is created if missing)
   * @param options dimension, read-only replica, payload limit
   * @returns the open store
   * @throws {LikenessError} LOCKED when another writer holds the file, CORRUPT when the file or its
   *   WAL is damaged, SHAPE_MISMATCH when `dim` differs from the file's, NOT_FOUND for a replica of
   *   a file that does not exist, INVALID_ARGUMENT for a new file without `dim`
   */
  static async open(path: string, options: SqliteStoreOptions = {}): Promise<SqliteStore> {
    const readOnly = options.readOnly ?? false;
    if (readOnly && !existsSync(path)) {
      throw new LikenessError(
        "NOT_FOUND",
        `No database at ${path}: start the writer first, then the read-only replica`,
      );
    }
    mkdirSync(dirname(path), { recursive: true });
    if (readOnly) return await SqliteStore.#openReplica(path, options);
    const lock = await takeWriterLock(path);
    try {
      const { writer, opened, checked } = await SqliteWriter.start(
        path,
        options.dim,
        options.deferCheck ? "later" : "now",
      );
      let db: SqlDatabase;
      try {
        db = await openSqlite(path);
        db.exec("PRAGMA busy_timeout = 5000");
        db.exec("PRAGMA query_only = 1"); // the writer thread is this file's only writer
      } catch (e) {
        await writer.close();
        throw corrupt(path, e);
      }
      const store = new SqliteStore(path, db, lock, opened.dim, options, writer, checked);
      store.#uid = opened.uid;
      store.#seq = opened.seq;
      store.#prepare();
      return store;
    } catch (e) {
      lock.close();
      throw e;
    }
  }

  static async #openReplica(path: string, options: SqliteStoreOptions): Promise<SqliteStore> {
    // Before SQLite opens the file (its recovery would drop frames after a damaged one).
    checkWalFile(path);
    let db: SqlDatabase;
    try {
      db = await openSqlite(path);
      db.exec("PRAGMA busy_timeout = 5000");
      db.exec("PRAGMA query_only = 1");
      db.exec("PRAGMA synchronous = FULL");
    } catch (e) {
      throw corrupt(path, e);
    }
    let dim: number;
    try {
      quickCheck(db, path);
      try {
        dim = initSchema(db, path, options.dim, true);
      } catch (e) {
        throw corrupt(path, e);
      }
    } catch (e) {
      db.close();
      throw e;
    }
    const store = new SqliteStore(path, db, undefined, dim, options);
    store.#uid = storeUid(db, true);
    store.#prepare();
    return store;
  }

  #prepare() {
    const p = (sql: string) => this.#db.prepare(sql);
    this.#stmts = {
      one: p("SELECT id, label, vector, payload, sum FROM refs WHERE id = ?"),
      seq: p("SELECT value FROM meta WHERE key = 'seq'"),
      version: p("PRAGMA data_version"),
      since: p("SELECT id, label, vector, payload, sum FROM refs WHERE seq > ?"),
      goneSince: p("SELECT id FROM deleted WHERE seq > ?"),
      all: p("SELECT id, label, vector, payload, sum FROM refs"),
      count: p("SELECT COUNT(*) AS n FROM refs"),
    };
  }

  /**
   * The number of the last committed batch: the database's version. A saved index built at this
   * version can be trusted only while `seq` is unchanged.
   */
  get seq(): number {
    return this.#seq;
  }

  /** A random id made when the file was created (older files get one at their first writable open). */
  get uid(): string | undefined {
    return this.#uid;
  }

  /** The vector dimension of the file. */
  get dim(): number {
    return this.#dim;
  }

  #rows(stmt: SqlStatement, ...params: (string | number)[]): ReferenceItem[] {
    const out: ReferenceItem[] = [];
    for (const r of stmt.all(...params)) {
      const id = r.id as string, label = r.label as string, blob = r.vector as Uint8Array;
      const payload = r.payload as string | null;
      if (!(blob instanceof Uint8Array) || blob.length !== this.#dim * 4) {
        throw new LikenessError(
          "CORRUPT",
          `${this.path}: reference "${id}" has a ${blob?.length}-byte vector, not ${this.#dim * 4}; ` +
            `restore the file from a backup`,
        );
      }
      if (rowSum(id, label, blob, payload) !== Number(r.sum)) {
        throw new LikenessError(
          "CORRUPT",
          `${this.path}: reference "${id}" fails its checksum (bytes changed on disk). Nothing was changed; ` +
            `restore the file from a backup, or delete that row with sqlite3 to keep the others`,
        );
      }
      out.push({ id, label, vector: fromBlob(blob), ...(payload === null ? {} : { payload: JSON.parse(payload) }) });
    }
    return out;
  }

  #unavailable(): LikenessError | undefined {
    return this.#closed ? new LikenessError("UNAVAILABLE", `${this.path} is closed`) : undefined;
  }

  /** Every live item, each row's checksum verified. */
  load(): Promise<ReferenceItem[]> {
    const closed = this.#unavailable();
    if (closed) return Promise.reject(closed);
    try {
      this.#seq = Number(this.#stmts.seq.get()?.value ?? 0);
      this.#stmts.version.get();
      return Promise.resolve(this.#rows(this.#stmts.all));
    } catch (e) {
      return Promise.reject(corrupt(this.path, e));
    }
  }

  /**
   * One live item by id (its checksum verified), or undefined.
   *
   * @param id reference id
   * @returns the item
   * @throws {LikenessError} CORRUPT for a damaged row; UNAVAILABLE after close
   */
  get(id: string): Promise<ReferenceItem | undefined> {
    const closed = this.#unavailable();
    if (closed) return Promise.reject(closed);
    try {
      return Promise.resolve(this.#rows(this.#stmts.one, id)[0]);
    } catch (e) {
      return Promise.reject(corrupt(this.path, e));
    }
  }

  /**
   * Instead of {@link SqliteStore.load}: the changes committed after batch `seq` (rows written
   * after it, each checksum verified, and the tombstones of ids deleted after it), read in one
   * transaction, with the current batch number and live count. Later writes and `watch` continue
   * from there.
   *
   * @param seq the batch a saved index holds
   * @returns the changes
   * @throws {LikenessError} CORRUPT when a row fails its checksum
   */
  changesSince(seq: number): Promise<StoreChanges> {
    const closed = this.#unavailable();
    if (closed) return Promise.reject(closed);
    try {
      this.#db.exec("BEGIN");
      try {
        const now = Number(this.#stmts.seq.get()?.value ?? 0);
        const put = this.#rows(this.#stmts.since, seq);
        const gone = this.#stmts.goneSince.all(seq).map((r) => r.id as string);
        const live = Number(this.#stmts.count.get()?.n ?? 0);
        this.#seq = now;
        this.#stmts.version.get();
        return Promise.resolve({ put, delete: gone, seq: now, live });
      } finally {
        this.#db.exec("COMMIT");
      }
    } catch (e) {
      return Promise.reject(corrupt(this.path, e));
    }
  }

  /**
   * Commit one batch in one transaction; resolves once it is on disk. An empty batch commits nothing.
   *
   * @param w items to put, ids to delete
   * @returns ids added, updated and deleted
   * @throws {LikenessError} READ_ONLY on a replica; what `checkStoreWrite` throws for bad items
   *   (SHAPE_MISMATCH, NON_FINITE, INVALID_ARGUMENT, TOO_LARGE: nothing written); STORAGE_FULL when
   *   the disk is full (rolled back); UNAVAILABLE after close
   */
  write(w: StoreWrite): Promise<StoreWriteResult> {
    const closed = this.#unavailable();
    if (closed) return Promise.reject(closed);
    if (this.readOnly) {
      return Promise.reject(new LikenessError("READ_ONLY", `${this.path} is open read-only (a replica)`));
    }
    const puts: PutRow[] = [];
    let del: string[];
    try {
      const checked = checkStoreWrite(w, { dim: this.#dim, maxPayloadBytes: this.#maxPayload });
      for (const { item: it, json } of checked.put) {
        const blob = toBlob(it.vector);
        puts.push([it.id, it.label, blob, json, rowSum(it.id, it.label, blob, json)]);
      }
      del = checked.delete;
    } catch (e) {
      return Promise.reject(e);
    }
    if (!puts.length && !del.length) return Promise.resolve({ added: 0, updated: 0, deleted: 0 });
    return this.#writer!.write(puts, del).then(({ seq, result }) => {
      this.#seq = seq;
      this.#health = { status: "ok" };
      return result;
    }, (e) => {
      throw this.#failed(e);
    });
  }

  /** Test-only: make the writer thread fail (see {@link WriterFaultKind}). */
  [INJECT_WRITER_FAULT](how: WriterFaultKind): void {
    this.#writer?.fault(how);
  }

  #failed(e: unknown): Error {
    const code = sqliteCode(e);
    const at = new Date().toISOString();
    if (code === "SQLITE_FULL") {
      this.#health = { status: "degraded", detail: `disk full: the last write failed at ${at} and was rolled back` };
      return new LikenessError(
        "STORAGE_FULL",
        `No space left for ${this.path}: the write was rolled back (nothing of it was stored); free disk space and retry`,
        { cause: e },
      );
    }
    this.#health = {
      status: "degraded",
      detail: `the last write failed at ${at} (${code ?? "error"}): ${(e as Error).message}`,
    };
    return e instanceof Error ? e : new Error(String(e));
  }

  /**
   * On a replica, poll for the writer's commits (every `pollMs`, through `PRAGMA data_version`)
   * and report each as one write; on the writer, nothing else writes, so it never calls back.
   *
   * @param onChange called with the items put and ids deleted since the last call
   * @returns stop watching
   */
  watch(onChange: (w: StoreChange) => void): () => void {
    if (!this.readOnly) return () => {};
    let version = Number(Object.values(this.#stmts.version.get() ?? {})[0] ?? 0);
    const timer = setInterval(() => {
      try {
        const v = Number(Object.values(this.#stmts.version.get() ?? {})[0] ?? 0);
        if (v === version) return;
        version = v;
        this.#db.exec("BEGIN");
        let change: StoreWrite | undefined;
        try {
          const seq = Number(this.#stmts.seq.get()?.value ?? 0);
          if (seq > this.#seq) {
            const put = this.#rows(this.#stmts.since, this.#seq);
            const gone = this.#stmts.goneSince.all(this.#seq).map((r) => r.id as string);
            change = { put, delete: gone };
            this.#seq = seq;
          }
        } finally {
          this.#db.exec("COMMIT");
        }
        this.#health = { status: "ok", readOnly: true };
        if (change) onChange(change);
      } catch (e) {
        this.#health = { status: "degraded", readOnly: true, detail: `replica poll failed: ${(e as Error).message}` };
      }
    }, this.#pollMs);
    this.#timers.add(timer);
    return () => {
      clearInterval(timer);
      this.#timers.delete(timer);
    };
  }

  /** `ok`, or `degraded` while writes fail; `readOnly` on a replica. */
  health(): StoreHealth {
    return { ...this.#health, ...(this.readOnly ? { readOnly: true } : {}) };
  }

  /** "sqlite:<path>" (plus " (read-only)"). */
  describe(): string {
    return `sqlite:${this.path}${this.readOnly ? " (read-only)" : ""}`;
  }

  /** Stop polling, close the file and release the writer lock (a second call is a no-op). */
  close(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#closed = true;
    for (const t of this.#timers) clearInterval(t);
    this.#timers.clear();
    this.#db.close();
    // The writer's connection closes last (it checkpoints the WAL), then the lock is released.
    return (this.#writer?.close() ?? Promise.resolve()).then(() => {
      this.#lock?.close();
      this.#lock = undefined;
    });
  }
}

async function takeWriterLock(path: string): Promise<SqlDatabase> {
  const lockPath = `${path}.lock`;
  const lock = await openSqlite(lockPath);
  try {
    lock.exec("PRAGMA locking_mode = EXCLUSIVE");
    lock.exec("BEGIN EXCLUSIVE");
    lock.exec("CREATE TABLE IF NOT EXISTS writer (pid INTEGER, since TEXT)");
    lock.exec("COMMIT");
    return lock;
  } catch (e) {
    lock.close();
    if (sqliteCode(e) === "SQLITE_BUSY") {
      throw new LikenessError(
        "LOCKED",
        `Another process is the writer of ${path} (it holds ${lockPath}). Only one server may write a data ` +
          `directory: stop the other one, or start this one with --read-only to serve as a replica of it.`,
        { cause: e },
      );
    }
    throw e;
  }
}
