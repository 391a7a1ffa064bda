/**
 * `SqliteStore`: the server's default reference store, one SQLite file (`DIR/likeness.db`) through
 * the SQLite each runtime ships (`node:sqlite` in Deno, `bun:sqlite` in Bun).
 *
 * - WAL journal with `synchronous = FULL`: a write resolves only once its commit is on disk.
 * - Each {@link StoreWrite} is checked by `checkStoreWrite` (the rules every store shares), then
 *   committed as one transaction (all or nothing); a full disk rolls it back and
 *   throws `STORAGE_FULL` (the server answers 507) and {@link SqliteStore.health} says `degraded`
 *   until a write succeeds again.
 * - Vectors are float32 BLOBs whose length is checked against the store's dimension; payloads are
 *   JSON text with a size limit per item (64 KiB by default). Each row carries a checksum that is
 *   verified at load, since SQLite does not checksum pages.
 * - At start: `PRAGMA quick_check`, the WAL's frames checked for damage that SQLite's recovery would
 *   silently drop, and the schema version. Any damage refuses to start with `CORRUPT`, naming what
 *   is damaged and what can be recovered; nothing is truncated.
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
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, writeSync } from "node:fs";
import { dirname } from "node:path";
import { LikenessError } from "@likeness/core";
import type { ReferenceItem } from "./reference_index.ts";
import type { ReferenceStore, StoreChange, StoreChanges, StoreHealth, StoreWrite, StoreWriteResult } from "./store.ts";
import { checkStoreWrite, STORE_LIMITS } from "./store_rules.ts";
import { openSqlite, type SqlDatabase, sqliteCode, type SqlStatement } from "./_sqlite.ts";
import { checkWal } from "./_wal.ts";

/** The schema version this code writes and reads. */
export const SQLITE_SCHEMA_VERSION = 1;

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
  #db: SqlDatabase;
  #lock: SqlDatabase | undefined;
  #dim: number;
  #maxPayload: number;
  #pollMs: number;
  #seq = 0;
  #uid: string | undefined;
  #health: StoreHealth;
  #stmts: Record<string, SqlStatement> = {};
  #timers = new Set<ReturnType<typeof setInterval>>();
  #seqFd = -1;
  #closed = false;

  private constructor(
    path: string,
    db: SqlDatabase,
    lock: SqlDatabase | undefined,
    dim: number,
    o: SqliteStoreOptions,
  ) {
    this.path = path;
    this.#db = db;
    this.#lock = lock;
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
    let lock: SqlDatabase | undefined;
    if (!readOnly) lock = await takeWriterLock(path);
    try {
      // Before SQLite opens the file (its recovery would drop frames after a damaged one).
      const walPath = `${path}-wal`;
      if (existsSync(walPath)) {
        const r = checkWal(readFileSync(walPath));
        if (r.damage) {
          throw new LikenessError(
            "CORRUPT",
            `${walPath} is damaged at ${
              r.damage.frame < 0 ? "its header" : `frame ${r.damage.frame + 1} of ${r.damage.frames}`
            }, and ${r.damage.committedAfter} committed frame(s) after it hold acknowledged writes that SQLite would drop. ` +
              `The ${r.validFrames} frame(s) before the damage and ${path} itself are intact. Nothing was changed: ` +
              `restore both files from a backup, or move ${walPath} aside to keep only the writes checkpointed into ${path}.`,
          );
        }
      }
      let db: SqlDatabase;
      try {
        db = await openSqlite(path);
        db.exec("PRAGMA busy_timeout = 5000");
        if (readOnly) db.exec("PRAGMA query_only = 1");
        else db.exec("PRAGMA journal_mode = WAL");
        db.exec("PRAGMA synchronous = FULL");
      } catch (e) {
        throw corrupt(path, e);
      }
      let problems: string[];
      try {
        problems = db.prepare("PRAGMA quick_check").all().map((r) => String(Object.values(r)[0]));
      } catch (e) {
        db.close();
        throw corrupt(path, e);
      }
      if (problems.length !== 1 || problems[0] !== "ok") {
        db.close();
        throw new LikenessError(
          "CORRUPT",
          `${path} failed PRAGMA quick_check (${problems.length} problem(s), first: ${
            problems.slice(0, 3).join("; ")
          }). ` +
            `Nothing was changed. Restore it from a backup; the rows SQLite can still read may be copied out with ` +
            `"sqlite3 ${path} .recover".`,
        );
      }
      let dim: number;
      try {
        dim = initSchema(db, path, options.dim, readOnly);
      } catch (e) {
        db.close();
        throw corrupt(path, e);
      }
      const store = new SqliteStore(path, db, lock, dim, options);
      store.#uid = storeUid(db, readOnly);
      store.#prepare();
      if (!readOnly) {
        const seqPath = `${path}.seq`;
        const recorded = existsSync(seqPath) ? Number(readFileSync(seqPath, "utf8").trim() || "0") : 0;
        const seq = Number(store.#stmts.seq.get()?.value ?? 0);
        if (recorded > seq) {
          await store.close();
          throw new LikenessError(
            "CORRUPT",
            `${path} ends at batch ${seq}, but batch ${recorded} was acknowledged (${seqPath}): the last ` +
              `${
                recorded - seq
              } acknowledged batch(es) are missing, most likely a damaged final commit in ${path}-wal. ` +
              `Nothing was changed. Restore from a backup; if ${path} itself was restored from a backup on purpose, ` +
              `delete ${seqPath} and start again.`,
          );
        }
        store.#seqFd = openSync(seqPath, existsSync(seqPath) ? "r+" : "w+");
      }
      return store;
    } catch (e) {
      try {
        lock?.close();
      } catch {
        // Already released by store.close().
      }
      throw e;
    }
  }

  #prepare() {
    const p = (sql: string) => this.#db.prepare(sql);
    this.#stmts = {
      has: p("SELECT 1 AS x FROM refs WHERE id = ?"),
      one: p("SELECT id, label, vector, payload, sum FROM refs WHERE id = ?"),
      put: p("INSERT OR REPLACE INTO refs (id, label, vector, payload, seq, sum) VALUES (?, ?, ?, ?, ?, ?)"),
      untomb: p("DELETE FROM deleted WHERE id = ?"),
      del: p("DELETE FROM refs WHERE id = ?"),
      tomb: p("INSERT OR REPLACE INTO deleted (id, seq) VALUES (?, ?)"),
      setSeq: p("UPDATE meta SET value = ? WHERE key = 'seq'"),
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
    const puts: [string, string, Uint8Array, string | null, number][] = [];
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
    const result = { added: 0, updated: 0, deleted: 0 };
    if (!puts.length && !del.length) return Promise.resolve(result);
    const seq = this.#seq + 1;
    const s = this.#stmts;
    try {
      this.#db.exec("BEGIN IMMEDIATE");
      try {
        for (const [id, label, blob, payload, sum] of puts) {
          if (s.has.get(id)) result.updated++;
          else result.added++;
          s.put.run(id, label, blob, payload, seq, sum);
          s.untomb.run(id);
        }
        for (const id of del) {
          if (!s.has.get(id)) continue; // unknown: nothing to delete, no tombstone
          s.del.run(id);
          s.tomb.run(id, seq);
          result.deleted++;
        }
        s.setSeq.run(String(seq));
        this.#db.exec("COMMIT");
      } catch (e) {
        try {
          this.#db.exec("ROLLBACK");
        } catch {
          // SQLite may already have rolled back (it does on SQLITE_FULL in some states).
        }
        throw e;
      }
    } catch (e) {
      return Promise.reject(this.#failed(e));
    }
    this.#seq = seq;
    this.#health = { status: "ok" };
    try {
      writeSync(this.#seqFd, new TextEncoder().encode(String(seq).padEnd(20, " ")), 0, 20, 0);
    } catch {
      // Only a cross-check: the commit itself is durable.
    }
    return Promise.resolve(result);
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
    if (this.#seqFd >= 0) closeSync(this.#seqFd);
    this.#seqFd = -1;
    this.#lock?.close();
    this.#lock = undefined;
    return Promise.resolve();
  }
}

/** The file's random id (meta key `uid`), made at the first writable open that finds none. */
function storeUid(db: SqlDatabase, readOnly: boolean): string | undefined {
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

function corrupt(path: string, e: unknown): Error {
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

function initSchema(db: SqlDatabase, path: string, dim: number | undefined, readOnly: boolean): number {
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
