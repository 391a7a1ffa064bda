/**
 * The reference store interface. The server keeps its index in memory and asks the store to
 * make each write durable before acknowledging it.
 *
 * @module
 */
import { LikenessError } from "@likeness/core";
import type { ReferenceItem } from "./reference_index.ts";
import type { SearchHit } from "./searcher.ts";
import { checkStoreWrite } from "./store_rules.ts";

/**
 * A durable write: items put, ids deleted, applied all or nothing. Every store checks it with
 * `checkStoreWrite` (store_rules.ts) first: an id at most once, never both put and deleted.
 */
export interface StoreWrite {
  /** Items to insert or replace. */
  put?: readonly ReferenceItem[];
  /** Ids to delete (unknown ids are no-ops). */
  delete?: readonly string[];
}

/**
 * A batch delivered by {@link ReferenceStore.watch}: another writer's commit, or (with `reset`)
 * the whole live set, when the store can no longer tell what changed since the watcher's last
 * batch (PostgreSQL purged tombstones newer than it): then `put` holds every live item, and
 * every item not in it must be dropped.
 */
export interface StoreChange extends StoreWrite {
  /** `put` is the complete live set: drop everything else. */
  reset?: boolean;
}

/** What a store reports about its health. */
export interface StoreHealth {
  /** `ok`, or `degraded` while writes fail (reads still served from memory). */
  status: "ok" | "degraded";
  /**
   * Why, when degraded (e.g. "disk full: last write failed at ..."); while `ok`, a notice the
   * operator should see (e.g. that a replica reloaded everything after a tombstone purge).
   */
  detail?: string;
  /** Read-only replica (writes answer 405/409). */
  readOnly?: boolean;
  /**
   * Event counts since start (e.g. PostgreSQL's `notifications`, `catchUps`, `reloads`, `purged`),
   * shown in health and rendered as `likeness_store_events_total{event="..."}`.
   */
  counters?: Readonly<Record<string, number>>;
}

/** What a write did, for stores that keep the server from holding a resident copy ({@link StoreQuery}). */
export interface StoreWriteResult {
  /** Ids that were not live before. */
  added: number;
  /** Live ids replaced. */
  updated: number;
  /** Live ids deleted. */
  deleted: number;
}

/**
 * A store that answers queries itself (PostgreSQL with pgvector in search mode "postgres"): the
 * server then keeps no resident index; search, classify, get, delete and counts go to the store.
 */
export interface StoreQuery {
  /** Where searches run, reported by /v1/health and /metrics (e.g. "postgres"). */
  mode: string;
  /** Nearest first, cosine similarity as `score`, the same shape as the resident searcher's. */
  search(vector: Float32Array, k: number, label?: string): Promise<SearchHit[]>;
  /** One live item, or undefined. */
  get(id: string): Promise<ReferenceItem | undefined>;
  /** Live items. */
  count(): Promise<number>;
}

/** The changes a store committed after a sequence number ({@link ReferenceStore.changesSince}). */
export interface StoreChanges {
  /** Items put after it (their current state; an item put and then deleted is in `delete` only). */
  put: ReferenceItem[];
  /** Ids deleted after it. */
  delete: string[];
  /** The store's current sequence number (its last committed batch). */
  seq: number;
  /** Live items in the store now. */
  live: number;
}

/**
 * Persistence behind the server's in-memory index. The semantics every store of this package
 * shares (checked by `tests/store_conformance_test.ts` against each of them):
 *
 * - `write` applies a batch all or nothing, after `checkStoreWrite`'s rules: a rejected batch
 *   (a rejected promise, never a synchronous throw) changes nothing. A put replaces every field of
 *   an id (a put without payload drops the old payload); deleting an unknown id is a no-op. Counts
 *   are ids added (not live before), updated (live before) and deleted (live before).
 * - Writes are serialised in call order: concurrent calls commit in the order they were made.
 * - An empty write changes nothing and commits nothing; each other write gets a change number
 *   larger than every earlier one (`SqliteStore.seq`, `PgVectorStore.lastChangeId`, `MemoryStore.seq`).
 * - `load` returns every live item (in no particular order); `get` one live item.
 * - After `close`, `write` and `load` reject with `UNAVAILABLE`; a second `close` is a no-op.
 */
export interface ReferenceStore {
  /** Load every live item (called once at start-up). */
  load(): Promise<ReferenceItem[]>;
  /** Persist a write; resolves only once it is durable (with counts, required from stores with `query`). */
  write(w: StoreWrite): Promise<void | StoreWriteResult>;
  /** One live item by id, or undefined. */
  get?(id: string): Promise<ReferenceItem | undefined>;
  /**
   * Instead of `load()` at start-up, for a server that restored its index from a snapshot taken at
   * batch `seq`: the changes committed after it (applying deletes, then puts, to that snapshot
   * gives the store's state). Stores that number their batches (`seq`) and keep tombstones offer it.
   */
  changesSince?(seq: number): Promise<StoreChanges>;
  /** The last committed batch, for stores that number them (tags an index snapshot). */
  readonly seq?: number;
  /** A stable random id of the data, made when it was created (an index snapshot of other data is refused). */
  readonly uid?: string;
  /** Optionally compact (snapshot) given the live items. */
  compact?(live: Iterable<ReferenceItem>): Promise<void>;
  /**
   * True when the store wants `compact` called (the file store, once its log outgrew its
   * threshold): the server checks it after each acknowledged write. Stores that compact by
   * themselves leave it out.
   */
  readonly needsCompaction?: boolean;
  /**
   * Changes committed by other writers after `load()` (a read-only replica of SQLite, other
   * replicas on PostgreSQL): `onChange` is called with each committed batch, in commit order,
   * never with a write this store instance made itself. Returns a function that stops watching.
   * Stores without other writers leave it out.
   */
  watch?(onChange: (w: StoreChange) => void): () => void;
  /** Health for /v1/health: `degraded` while writes are failing (disk full, connection lost). */
  health?(): StoreHealth;
  /** What the store reports in /v1/health. */
  describe(): string;
  /** Present when the store answers searches itself and the server keeps no resident copy. */
  query?: StoreQuery;
  /** Release files. */
  close(): Promise<void>;
}

/** Options for {@link MemoryStore}. */
export interface MemoryStoreOptions {
  /** Vector dimension [the first item's]. */
  dim?: number;
  /** Most bytes of JSON per payload [64 KiB]. */
  maxPayloadBytes?: number;
}

/**
 * A store that keeps its items in this process's memory only (for tests, edge demos, or a
 * server whose references are re-added at start). It follows the same rules as the durable
 * stores and keeps its own copy of each item, but nothing survives `close` or the process.
 *
 * @example
 * ```ts
 * import { MemoryStore } from "@likeness/server";
 * const store = new MemoryStore([], { dim: 2 });
 * await store.write({ put: [{ id: "a", label: "x", vector: new Float32Array([1, 0]) }] });
 * console.log((await store.load()).length, store.seq); // 1 1
 * ```
 */
export class MemoryStore implements ReferenceStore {
  #items = new Map<string, ReferenceItem>();
  #dim: number | undefined;
  #maxPayload: number | undefined;
  #seq = 0;
  #closed = false;

  /**
   * @param initial items the store starts with (checked like a write)
   * @param options dimension and payload limit
   * @throws what {@link checkStoreWrite} throws for a bad initial item
   */
  constructor(initial: readonly ReferenceItem[] = [], options: MemoryStoreOptions = {}) {
    this.#dim = options.dim ?? initial[0]?.vector.length;
    this.#maxPayload = options.maxPayloadBytes;
    if (initial.length) {
      const checked = checkStoreWrite({ put: initial }, this.#rules(initial[0].vector.length));
      for (const p of checked.put) this.#items.set(p.item.id, p.item);
    }
  }

  #rules(firstDim: number) {
    return {
      dim: this.#dim ?? firstDim,
      ...(this.#maxPayload === undefined ? {} : { maxPayloadBytes: this.#maxPayload }),
    };
  }

  #open(): LikenessError | undefined {
    return this.#closed ? new LikenessError("UNAVAILABLE", "MemoryStore is closed") : undefined;
  }

  /** The number of the last committed write (0 before any). */
  get seq(): number {
    return this.#seq;
  }

  /** Every live item (copies). */
  load(): Promise<ReferenceItem[]> {
    const closed = this.#open();
    if (closed) return Promise.reject(closed);
    return Promise.resolve([...this.#items.values()].map(copy));
  }

  /** One live item (a copy), or undefined. */
  get(id: string): Promise<ReferenceItem | undefined> {
    const closed = this.#open();
    if (closed) return Promise.reject(closed);
    const it = this.#items.get(id);
    return Promise.resolve(it && copy(it));
  }

  /**
   * Apply a write all or nothing.
   *
   * @param w items to put, ids to delete
   * @returns ids added, updated and deleted
   * @throws what {@link checkStoreWrite} throws (nothing applied); UNAVAILABLE after close
   */
  write(w: StoreWrite): Promise<StoreWriteResult> {
    const closed = this.#open();
    if (closed) return Promise.reject(closed);
    let checked;
    try {
      checked = checkStoreWrite(w, this.#rules(w.put?.[0]?.vector.length ?? 0));
    } catch (e) {
      return Promise.reject(e);
    }
    const r = { added: 0, updated: 0, deleted: 0 };
    if (!checked.put.length && !checked.delete.length) return Promise.resolve(r);
    if (checked.put.length) this.#dim ??= checked.put[0].item.vector.length;
    for (const { item } of checked.put) {
      if (this.#items.has(item.id)) r.updated++;
      else r.added++;
      this.#items.set(item.id, item);
    }
    for (const id of checked.delete) if (this.#items.delete(id)) r.deleted++;
    this.#seq++;
    return Promise.resolve(r);
  }

  /** "memory". */
  describe(): string {
    return "memory";
  }

  /** Drop everything; later writes and loads reject. */
  close(): Promise<void> {
    this.#closed = true;
    this.#items.clear();
    return Promise.resolve();
  }
}

function copy(it: ReferenceItem): ReferenceItem {
  return {
    id: it.id,
    label: it.label,
    vector: Float32Array.from(it.vector),
    ...("payload" in it ? { payload: structuredClone(it.payload) } : {}),
  };
}
