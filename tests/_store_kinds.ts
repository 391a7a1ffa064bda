// The store kinds that tests/store_conformance_test.ts runs its one suite against, each behind the
// same small handle: a fresh empty store at a new location, its change number, another instance at
// the same location, and clean-up. A kind that cannot run here says why (`skip`).
//
// Not here, on purpose: `FileStore` (the old log, kept only as the source of `likeness store
// migrate`; issue 11 lists why it is no longer a store to serve from) and `QdrantStore` (tested
// only against a loopback imitation of five Qdrant endpoints, see its README section).
import { MemoryStore, PgVectorStore, type ReferenceItem, type ReferenceStore, SqliteStore } from "@likeness/server";
import { join } from "node:path";
import { tempDir } from "../packages/server/_test_util.ts";
import { dropTable, needsPg, PG_URL, uniqueTable } from "../packages/server/_pg_test_util.ts";

/** A store as the suite uses it: the interface plus `get`. */
export type TestStore = ReferenceStore & { get(id: string): Promise<ReferenceItem | undefined> };

/** One open store of a kind. */
export interface StoreHandle {
  /** The open store. */
  store: TestStore;
  /** The number of the last change this instance committed or loaded. */
  seq(): bigint;
  /** Open another instance on the same data (close this one first for single-writer kinds). */
  reopen(): Promise<StoreHandle>;
  /** Close (if still open) and delete the data. */
  cleanup(): Promise<void>;
}

/** A kind of store the suite runs against. */
export interface StoreKind {
  /** Short name used in test names. */
  name: string;
  /** Why it cannot run here, or undefined. */
  skip?: string;
  /** Whether its data survives close and reopen. */
  durable: boolean;
  /** Whether two instances may be open on the same data at once. */
  sharedWriters: boolean;
  /** A fresh, empty store of dimension `dim` at a new location. */
  create(dim: number): Promise<StoreHandle>;
}

const memory: StoreKind = {
  name: "memory",
  durable: false,
  sharedWriters: false,
  create(dim) {
    const handle = (): StoreHandle => {
      const store = new MemoryStore([], { dim });
      return {
        store,
        seq: () => BigInt(store.seq),
        reopen: () => Promise.resolve(handle()),
        cleanup: () => store.close(),
      };
    };
    return Promise.resolve(handle());
  },
};

const sqlite: StoreKind = {
  name: "sqlite",
  durable: true,
  sharedWriters: false,
  async create(dim) {
    const path = join(tempDir("likeness-conformance-"), "likeness.db");
    const open = async (): Promise<StoreHandle> => {
      const store = await SqliteStore.open(path, { dim });
      return {
        store,
        seq: () => BigInt(store.seq),
        reopen: open,
        cleanup: () => store.close(),
      };
    };
    return await open();
  },
};

const postgres: StoreKind = {
  name: "postgres",
  ...(needsPg.skip ? { skip: needsPg.skip } : {}),
  durable: true,
  sharedWriters: true,
  async create(dim) {
    const table = uniqueTable("conf");
    const url = PG_URL!;
    const open = async (): Promise<StoreHandle> => {
      const store = await PgVectorStore.connect({ url, dim, table });
      return {
        store,
        seq: () => store.lastChangeId,
        reopen: open,
        cleanup: async () => {
          await store.close();
          await dropTable(url, table);
        },
      };
    };
    return await open();
  },
};

/** Every store kind, in the order the suite reports them. */
export const STORE_KINDS: readonly StoreKind[] = [memory, sqlite, postgres];
