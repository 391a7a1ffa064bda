// The main thread's side of the SQLite writer thread (private; the Worker is `_sqlite_writer.ts`).
// It sends each write as one message and settles the caller's promise from the reply, after the
// Worker committed (or rolled back). A Worker that errors or dies fails no write silently and leaves
// none hanging: the one that was in flight is settled from the file itself (a fresh writer reads the
// batch number under the write lock, so a commit that landed before the death is acknowledged and
// one that did not is rejected with WORKER_FAILED), later writes wait for the fresh writer, and after
// MAX_WRITER_RESTARTS deaths without a successful write in between, every write fails with
// WORKER_FAILED. Not exported from mod.ts.
import { LikenessError } from "@likeness/core";
import { SQLITE_WRITER_SOURCE } from "./_sqlite_writer.generated.ts";
import type {
  CheckWhen,
  PutRow,
  WireError,
  WriteCounts,
  WriterFault,
  WriterReply,
  WriterRequest,
} from "./_sqlite_writer.ts";

/** Deaths of the writer thread in a row (no successful write between them) before it stays down. */
export const MAX_WRITER_RESTARTS = 3;
/** How long `close` waits for the writer to close its connection before terminating it. */
const CLOSE_WAIT_MS = 10_000;

interface WorkerLike {
  postMessage(m: WriterRequest): void;
  terminate(): void;
  onmessage: ((e: MessageEvent<WriterReply>) => void) | null;
  onerror: ((e: Event) => void) | null;
}

interface Pending {
  msg: Extract<WriterRequest, { op: "write" }>;
  resolve: (r: { seq: number; result: WriteCounts }) => void;
  reject: (e: Error) => void;
}

/** The writer's answer when it opened the file. */
export interface WriterOpened {
  /** The file's dimension. */
  dim: number;
  /** The file's random id. */
  uid: string | undefined;
  /** Its last batch. */
  seq: number;
}

/** Rebuild an error that crossed the thread boundary (its code kept; `sqlite` in the cause). */
export function fromWire(e: WireError): Error {
  if (e.code) return new LikenessError(e.code as "CORRUPT", e.message);
  return Object.assign(new Error(e.message), e.sqlite ? { code: e.sqlite } : {});
}

/** The writer thread of one database file. */
export class SqliteWriter {
  readonly #path: string;
  readonly #dim: number | undefined;
  #worker: WorkerLike | undefined;
  #ready = false;
  #seq = 0;
  #n = 0;
  /** Sent, not answered, in send order. */
  #sent = new Map<number, Pending>();
  /** Not sent yet (the writer is restarting). */
  #backlog: Pending[] = [];
  #deaths = 0;
  /** Bumped whenever a thread is given up; a thread commits only while it holds the current value. */
  readonly #epoch = new Int32Array(new SharedArrayBuffer(4));
  #down: LikenessError | undefined;
  #closed = false;
  #onOpen: ((r: Extract<WriterReply, { op: "ready" }>) => void) | undefined;
  #onOpenFailed: ((e: Error) => void) | undefined;
  #onChecked: ((e?: Error) => void) | undefined;
  #onClosed: (() => void) | undefined;
  /** Told when the writer thread died (and whether it is restarting), for health. */
  onFailure: (detail: string) => void = () => {};

  private constructor(path: string, dim: number | undefined) {
    this.#path = path;
    this.#dim = dim;
  }

  /**
   * Start the writer thread and open the file in it.
   *
   * @param path the database file
   * @param dim the dimension (required for a new file)
   * @param check when to run `PRAGMA quick_check` ("later": `checked` settles once it ran)
   * @returns the writer, what it found, and the check's outcome
   * @throws what the writable open throws (CORRUPT, SHAPE_MISMATCH, ...), WORKER_FAILED when the thread dies
   */
  static async start(
    path: string,
    dim: number | undefined,
    check: CheckWhen,
  ): Promise<{ writer: SqliteWriter; opened: WriterOpened; checked: Promise<void> }> {
    const w = new SqliteWriter(path, dim);
    let checked: Promise<void> = Promise.resolve();
    if (check === "later") {
      checked = new Promise<void>((resolve, reject) => w.#onChecked = (e) => e ? reject(e) : resolve());
      checked.catch(() => {}); // the caller awaits it; never an unhandled rejection
    }
    const r = await w.#spawn(check);
    return { writer: w, opened: { dim: r.dim, uid: r.uid, seq: r.seq }, checked };
  }

  #spawn(check: CheckWhen): Promise<Extract<WriterReply, { op: "ready" }>> {
    const Ctor = (globalThis as unknown as { Worker: new (u: string, o: { type: "module" }) => WorkerLike }).Worker;
    // From its bundled source: no module graph to resolve (or, under `deno test`, type-check) per start.
    const url = URL.createObjectURL(new Blob([SQLITE_WRITER_SOURCE], { type: "text/javascript" }));
    const worker = new Ctor(url, { type: "module" });
    this.#worker = worker;
    this.#ready = false;
    const opened = new Promise<Extract<WriterReply, { op: "ready" }>>((resolve, reject) => {
      this.#onOpen = resolve;
      this.#onOpenFailed = reject;
    });
    let revoked = false;
    const revoke = () => {
      if (!revoked) URL.revokeObjectURL(url);
      revoked = true;
    };
    worker.onmessage = (e) => {
      revoke();
      this.#reply(worker, e.data);
    };
    worker.onerror = (e) => {
      e.preventDefault?.();
      revoke();
      this.#died(worker, (e as ErrorEvent).message || "an uncaught error");
    };
    const mine = Atomics.add(this.#epoch, 0, 1) + 1;
    worker.postMessage({ op: "open", path: this.#path, dim: this.#dim, check, epoch: this.#epoch, mine });
    return opened;
  }

  #reply(worker: WorkerLike, m: WriterReply): void {
    if (worker !== this.#worker) return;
    switch (m.op) {
      case "ready": {
        this.#ready = true;
        this.#settleSent(m.seq, m.last);
        this.#seq = m.seq;
        const f = this.#onOpen;
        this.#onOpen = this.#onOpenFailed = undefined;
        f?.(m);
        for (const p of this.#backlog.splice(0)) this.#post(p);
        break;
      }
      case "open-failed": {
        const f = this.#onOpenFailed;
        this.#onOpen = this.#onOpenFailed = undefined;
        this.#worker = undefined;
        worker.terminate();
        const e = fromWire(m.error);
        f?.(e);
        break;
      }
      case "checked": {
        const f = this.#onChecked;
        this.#onChecked = undefined;
        f?.(m.error ? fromWire(m.error) : undefined);
        break;
      }
      case "done": {
        const p = this.#sent.get(m.n);
        this.#sent.delete(m.n);
        this.#seq = m.seq;
        this.#deaths = 0;
        p?.resolve({ seq: m.seq, result: m.result });
        break;
      }
      case "failed": {
        const p = this.#sent.get(m.n);
        this.#sent.delete(m.n);
        p?.reject(fromWire(m.error));
        break;
      }
      case "closed":
        this.#onClosed?.();
        break;
    }
  }

  /**
   * Writes sent to a writer that died, settled from what a fresh writer found: the first
   * `seq - this.#seq` of them committed (the writer commits in order), the rest did not.
   */
  #settleSent(seq: number, last: (WriteCounts & { seq: number }) | null): void {
    let committed = seq - this.#seq;
    for (const [n, p] of this.#sent) {
      this.#sent.delete(n);
      if (committed > 0) {
        committed--;
        const at = seq - committed;
        const result = last && last.seq === at
          ? { added: last.added, updated: last.updated, deleted: last.deleted }
          : { added: p.msg.put.length, updated: 0, deleted: p.msg.delete.length };
        p.resolve({ seq: at, result });
      } else {
        p.reject(this.#notStored("before this write committed"));
      }
    }
  }

  #notStored(when: string): LikenessError {
    return new LikenessError(
      "WORKER_FAILED",
      `The SQLite writer thread of ${this.#path} failed ${when}: nothing of this write was stored; retry it`,
    );
  }

  #died(worker: WorkerLike, why: string): void {
    if (worker !== this.#worker) return;
    Atomics.add(this.#epoch, 0, 1); // before anything else: it must not commit again
    worker.terminate();
    this.#worker = undefined;
    this.#ready = false;
    const error = new LikenessError("WORKER_FAILED", `The SQLite writer thread of ${this.#path} failed: ${why}`);
    this.#onChecked?.(error);
    this.#onChecked = undefined;
    this.#onClosed?.();
    const openFailed = this.#onOpenFailed;
    this.#onOpen = this.#onOpenFailed = undefined;
    // While opening, the opener decides: the first start fails; a restart is retried (#restart).
    if (openFailed) return openFailed(error);
    if (!this.#closed) this.#restart(why);
  }

  #restart(why: string): void {
    this.#deaths++;
    if (this.#deaths > MAX_WRITER_RESTARTS) {
      this.#down = new LikenessError(
        "WORKER_FAILED",
        `The SQLite writer thread of ${this.#path} failed ${this.#deaths} times in a row (last: ${why}); ` +
          `writes are refused until the server is restarted`,
      );
      this.onFailure(this.#down.message);
      for (const [n, p] of this.#sent) {
        this.#sent.delete(n);
        p.reject(new LikenessError("WORKER_FAILED", `${this.#down.message}; this write may not have been stored`));
      }
      for (const p of this.#backlog.splice(0)) p.reject(this.#down);
      return;
    }
    this.onFailure(`the SQLite writer thread failed at ${new Date().toISOString()} (${why}); restarted it`);
    // The fresh writer settles the writes that were in flight (#settleSent) once it holds the lock.
    this.#spawn("skip").catch((e) => {
      if (!this.#closed) this.#restart(`its restart failed: ${(e as Error).message}`);
    });
  }

  #post(p: Pending): void {
    this.#sent.set(p.msg.n, p);
    this.#worker!.postMessage(p.msg);
  }

  /**
   * Commit one batch in the writer thread; resolves after its commit.
   *
   * @param put rows to put
   * @param del ids to delete
   * @returns the batch number and counts
   * @throws the commit's error (SQLite's, code in `code`), WORKER_FAILED when the thread died first
   */
  write(put: PutRow[], del: string[]): Promise<{ seq: number; result: WriteCounts }> {
    if (this.#down) return Promise.reject(this.#down);
    if (this.#closed) return Promise.reject(new LikenessError("UNAVAILABLE", `${this.#path} is closed`));
    return new Promise((resolve, reject) => {
      const p: Pending = { msg: { op: "write", n: ++this.#n, put, delete: del }, resolve, reject };
      if (this.#worker && this.#ready) this.#post(p);
      else this.#backlog.push(p);
    });
  }

  /**
   * Test-only: make the thread fail. "terminate" ends it from outside, as if it was killed; the
   * others make it throw an uncaught error at its next write, before or after the commit.
   *
   * @param how the fault
   */
  fault(how: WriterFault | "terminate"): void {
    const w = this.#worker;
    if (!w) return;
    if (how === "terminate") this.#died(w, "terminated");
    else w.postMessage({ op: "fault", how });
  }

  /** Close the writer's connection (after the writes sent before), then end the thread. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const p of this.#backlog.splice(0)) p.reject(new LikenessError("UNAVAILABLE", `${this.#path} is closed`));
    const w = this.#worker;
    if (!w) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    await new Promise<void>((resolve) => {
      this.#onClosed = resolve;
      timer = setTimeout(resolve, CLOSE_WAIT_MS);
      w.postMessage({ op: "close" });
    });
    clearTimeout(timer);
    this.#worker = undefined;
    w.terminate();
    for (const [n, p] of this.#sent) {
      this.#sent.delete(n);
      p.reject(this.#notStored("while closing"));
    }
  }
}
