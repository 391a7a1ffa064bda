/**
 * The reference store interface. The server keeps its index in memory and asks the store to
 * make each write durable before acknowledging it.
 *
 * @module
 */
import type { ReferenceItem } from "./index.ts";
import type { SearchHit } from "./searcher.ts";

/** A durable write: items put, ids deleted. */
export interface StoreWrite {
  /** Items to insert or replace. */
  put?: readonly ReferenceItem[];
  /** Ids to delete. */
  delete?: readonly string[];
}

/** What a store reports about its health. */
export interface StoreHealth {
  /** `ok`, or `degraded` while writes fail (reads still served from memory). */
  status: "ok" | "degraded";
  /** Why, when degraded (e.g. "disk full: last write failed at ..."). */
  detail?: string;
  /** Read-only replica (writes answer 405/409). */
  readOnly?: boolean;
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

/** Persistence behind the server's in-memory index. */
export interface ReferenceStore {
  /** Load every live item (called once at start-up). */
  load(): Promise<ReferenceItem[]>;
  /** Persist a write; resolves only once it is durable (with counts, required from stores with `query`). */
  write(w: StoreWrite): Promise<void | StoreWriteResult>;
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
   * Changes committed by other writers after `load()` (a read-only replica of SQLite, other
   * replicas on PostgreSQL): `onChange` is called with each committed batch, in commit order,
   * never with a write this store instance made itself. Returns a function that stops watching.
   * Stores without other writers leave it out.
   */
  watch?(onChange: (w: StoreWrite) => void): () => void;
  /** Health for /v1/health: `degraded` while writes are failing (disk full, connection lost). */
  health?(): StoreHealth;
  /** What the store reports in /v1/health. */
  describe(): string;
  /** Present when the store answers searches itself and the server keeps no resident copy. */
  query?: StoreQuery;
  /** Release files. */
  close(): Promise<void>;
}

/**
 * A store that keeps nothing (for tests, edge demos, or a read-only replica fed elsewhere).
 *
 * @example
 * ```ts
 * import { MemoryStore } from "@likeness/server";
 * const store = new MemoryStore();
 * ```
 */
export class MemoryStore implements ReferenceStore {
  /** Items to start with. */
  #initial: ReferenceItem[];
  /** @param initial items returned by load() */
  constructor(initial: ReferenceItem[] = []) {
    this.#initial = initial;
  }
  /** The initial items. */
  load(): Promise<ReferenceItem[]> {
    return Promise.resolve(this.#initial);
  }
  /** Nothing to persist. */
  write(_w: StoreWrite): Promise<void> {
    return Promise.resolve();
  }
  /** "memory". */
  describe(): string {
    return "memory";
  }
  /** Nothing to close. */
  close(): Promise<void> {
    return Promise.resolve();
  }
}
