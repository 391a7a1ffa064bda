/**
 * The reference store interface. The server keeps its index in memory and asks the store to
 * make each write durable before acknowledging it.
 *
 * @module
 */
import type { ReferenceItem } from "./index.ts";

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

/** Persistence behind the server's in-memory index. */
export interface ReferenceStore {
  /** Load every live item (called once at start-up). */
  load(): Promise<ReferenceItem[]>;
  /** Persist a write; resolves only once it is durable. */
  write(w: StoreWrite): Promise<void>;
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
