// The SQLite store's writer thread (private): a Worker that owns the one connection that writes
// the file. It runs the writable open (the WAL read before SQLite's recovery, the schema, the file
// id, the batch record), PRAGMA quick_check (before "ready", or after it when the main thread
// asked to overlap the check with its own start-up), and every write transaction, so the fsync of
// a commit (`synchronous = FULL`) never blocks the main thread's event loop. Messages are handled
// one at a time in arrival order, so writes commit in the order they were sent. The main-thread
// side is `_sqlite_writer_client.ts`; the protocol types are declared here. The Worker runs this
// module bundled into one source (`_sqlite_writer.generated.ts`, by tools/build_sqlite_writer.ts:
// rebuild it after changing this file or what it imports). Not exported from mod.ts.
import { closeSync, openSync, writeSync } from "node:fs";
import { isLikenessError } from "@likeness/core";
import { openSqlite, type SqlDatabase, sqliteCode, type SqlStatement } from "./_sqlite.ts";
import { checkSeqRecord, checkWalFile, corrupt, initSchema, quickCheck, storeUid } from "./_sqlite_schema.ts";

/** One row to put: id, label, float32 vector bytes, payload JSON or null, row checksum. */
export type PutRow = [string, string, Uint8Array, string | null, number];

/** When the writer runs `PRAGMA quick_check`: before "ready", after it ("checked"), or not at all (a restart). */
export type CheckWhen = "now" | "later" | "skip";

/** A test-only fault: an uncaught error in the Worker at the next write, before or after its commit. */
export type WriterFault = "throw-before-commit" | "throw-after-commit";

/** Main thread → writer. */
export type WriterRequest =
  | { op: "open"; path: string; dim?: number; check: CheckWhen; epoch: Int32Array; mine: number }
  | { op: "write"; n: number; put: PutRow[]; delete: string[] }
  | { op: "fault"; how: WriterFault }
  | { op: "close" };

/** An error as it crosses the thread boundary. */
export interface WireError {
  /** The message. */
  message: string;
  /** A likeness error code, when it was one. */
  code?: string;
  /** The SQLite result code family (`sqliteCode`), when SQLite raised it. */
  sqlite?: string;
}

/** What one write did. */
export interface WriteCounts {
  /** Ids not live before. */
  added: number;
  /** Live ids replaced. */
  updated: number;
  /** Live ids deleted. */
  deleted: number;
}

/** Writer → main thread. */
export type WriterReply =
  | { op: "ready"; dim: number; uid: string | undefined; seq: number; last: (WriteCounts & { seq: number }) | null }
  | { op: "open-failed"; error: WireError }
  | { op: "checked"; error?: WireError }
  | { op: "done"; n: number; seq: number; result: WriteCounts }
  | { op: "failed"; n: number; error: WireError }
  | { op: "closed" };

interface Scope {
  onmessage: ((e: MessageEvent<WriterRequest>) => void) | null;
  postMessage(m: WriterReply): void;
}

function wire(e: unknown): WireError {
  const message = e instanceof Error ? e.message : String(e);
  return {
    message,
    ...(isLikenessError(e) ? { code: e.code } : {}),
    ...(sqliteCode(e) ? { sqlite: sqliteCode(e) } : {}),
  };
}

/** The writer's state once open. */
interface Open {
  db: SqlDatabase;
  seqFd: number;
  seq: number;
  s: Record<"has" | "put" | "untomb" | "del" | "tomb" | "setSeq" | "lastWrite", SqlStatement>;
}

async function openWriter(
  path: string,
  dim: number | undefined,
  check: CheckWhen,
): Promise<Open & { dim: number; uid: string | undefined; last: (WriteCounts & { seq: number }) | null }> {
  checkWalFile(path);
  let db: SqlDatabase;
  try {
    db = await openSqlite(path);
    db.exec("PRAGMA busy_timeout = 5000");
    db.exec("PRAGMA journal_mode = WAL");
    db.exec("PRAGMA synchronous = FULL");
  } catch (e) {
    throw corrupt(path, e);
  }
  try {
    if (check === "now") quickCheck(db, path);
    let fileDim: number;
    try {
      fileDim = initSchema(db, path, dim, false);
    } catch (e) {
      throw corrupt(path, e);
    }
    const uid = storeUid(db, false);
    // Under the write lock: a writer thread that died is done committing once this returns.
    db.exec("BEGIN IMMEDIATE");
    let seq: number, last: string | undefined;
    try {
      seq = Number(db.prepare("SELECT value FROM meta WHERE key = 'seq'").get()?.value ?? 0);
      last = db.prepare("SELECT value FROM meta WHERE key = 'last_write'").get()?.value as string | undefined;
    } finally {
      db.exec("COMMIT");
    }
    checkSeqRecord(path, seq);
    const p = (sql: string) => db.prepare(sql);
    const s = {
      has: p("SELECT 1 AS x FROM refs WHERE id = ?"),
      put: p("INSERT OR REPLACE INTO refs (id, label, vector, payload, seq, sum) VALUES (?, ?, ?, ?, ?, ?)"),
      untomb: p("DELETE FROM deleted WHERE id = ?"),
      del: p("DELETE FROM refs WHERE id = ?"),
      tomb: p("INSERT OR REPLACE INTO deleted (id, seq) VALUES (?, ?)"),
      setSeq: p("UPDATE meta SET value = ? WHERE key = 'seq'"),
      // What the last batch did, so the main thread can answer for a commit whose reply was lost.
      lastWrite: p("INSERT OR REPLACE INTO meta (key, value) VALUES ('last_write', ?)"),
    };
    const seqPath = `${path}.seq`;
    let seqFd: number;
    try {
      seqFd = openSync(seqPath, "r+");
    } catch {
      seqFd = openSync(seqPath, "w+");
    }
    return { db, seqFd, seq, s, dim: fileDim, uid, last: last ? JSON.parse(last) : null };
  } catch (e) {
    db.close();
    throw e;
  }
}

let state: (Open & { path: string }) | undefined;
/**
 * The main thread bumps `epoch[0]` when it gives this thread up (terminated, or failed). A thread
 * that is no longer current must not commit: it checks while holding the write lock, right after
 * BEGIN IMMEDIATE and right before COMMIT, and a fresh thread reads the batch number under that
 * lock, so every commit of an old thread lands before that read or not at all.
 */
let current = () => true;
let fault: WriterFault | undefined;
const scope = globalThis as unknown as Scope;

function write(o: Open, put: PutRow[], del: string[]): WriteCounts | "dying" {
  const result = { added: 0, updated: 0, deleted: 0 };
  const seq = o.seq + 1;
  const { db, s } = o;
  db.exec("BEGIN IMMEDIATE");
  try {
    if (!current()) {
      db.exec("ROLLBACK");
      return "dying";
    }
    for (const [id, label, blob, payload, sum] of put) {
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
    s.lastWrite.run(JSON.stringify({ seq, ...result }));
    if (fault === "throw-before-commit") {
      fault = undefined;
      // Uncaught, with the transaction left open: the Worker dies as a bug would kill it.
      setTimeout(() => {
        throw new Error("injected writer fault before commit");
      });
      return "dying";
    }
    if (!current()) {
      db.exec("ROLLBACK");
      return "dying";
    }
    db.exec("COMMIT");
  } catch (e) {
    try {
      db.exec("ROLLBACK");
    } catch {
      // SQLite may already have rolled back (it does on SQLITE_FULL in some states).
    }
    throw e;
  }
  o.seq = seq;
  try {
    writeSync(o.seqFd, new TextEncoder().encode(String(seq).padEnd(20, " ")), 0, 20, 0);
  } catch {
    // Only a cross-check: the commit itself is durable.
  }
  return result;
}

scope.onmessage = async (e) => {
  const m = e.data;
  if (m.op === "open") {
    const { epoch, mine } = m;
    current = () => Atomics.load(epoch, 0) === mine;
    try {
      const o = await openWriter(m.path, m.dim, m.check);
      state = { db: o.db, seqFd: o.seqFd, seq: o.seq, s: o.s, path: m.path };
      scope.postMessage({ op: "ready", dim: o.dim, uid: o.uid, seq: o.seq, last: o.last });
    } catch (err) {
      scope.postMessage({ op: "open-failed", error: wire(err) });
      return;
    }
    if (m.check === "later") {
      try {
        quickCheck(state.db, m.path);
        scope.postMessage({ op: "checked" });
      } catch (err) {
        scope.postMessage({ op: "checked", error: wire(err) });
      }
    }
  } else if (m.op === "write") {
    if (!state) {
      scope.postMessage({ op: "failed", n: m.n, error: { message: "the writer is not open", code: "UNAVAILABLE" } });
      return;
    }
    let result: WriteCounts | "dying";
    try {
      result = write(state, m.put, m.delete);
    } catch (err) {
      scope.postMessage({ op: "failed", n: m.n, error: wire(err) });
      return;
    }
    if (result === "dying") return;
    if (fault === "throw-after-commit") {
      fault = undefined;
      // Committed, never answered: the Worker dies before its reply.
      setTimeout(() => {
        throw new Error("injected writer fault after commit");
      });
      return;
    }
    scope.postMessage({ op: "done", n: m.n, seq: state.seq, result });
  } else if (m.op === "fault") {
    fault = m.how;
  } else if (m.op === "close") {
    if (state) {
      try {
        state.db.close();
      } finally {
        closeSync(state.seqFd);
        state = undefined;
      }
    }
    scope.postMessage({ op: "closed" });
  }
};
