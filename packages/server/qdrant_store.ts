/**
 * A {@link ReferenceStore} backed by a Qdrant collection, for reference sets larger than one
 * machine's memory is comfortable with, or shared by many server replicas.
 *
 * Each reference becomes a Qdrant point: the point id is a UUID derived deterministically from the
 * likeness id (Qdrant accepts only integers and UUIDs), and the payload holds `_id`, `_label` and
 * `_payload`. Writes use `wait: true`, so a write is acknowledged only once Qdrant has applied it.
 * `load()` scrolls the collection (creating it with cosine distance if missing) to fill the
 * server's in-memory index; searches still run on likeness's kernels over that index.
 *
 * What is tested: the adapter against a loopback HTTP server that implements the Qdrant REST
 * endpoints it uses (exists, create, upsert, delete, scroll), through the real
 * `@qdrant/js-client-rest` client. What is NOT tested: a real Qdrant server (none can be installed
 * here), Qdrant-side search, authentication with an API key, and clusters.
 *
 * @module
 */
import { LikenessError } from "@likeness/core";
import type { ReferenceItem } from "./reference_index.ts";
import type { ReferenceStore, StoreWrite } from "./store.ts";

/** The subset of `QdrantClient` this store uses. */
export interface QdrantLike {
  collectionExists(name: string): Promise<{ exists: boolean }>;
  createCollection(name: string, body: { vectors: { size: number; distance: "Cosine" } }): Promise<unknown>;
  upsert(
    name: string,
    body: { wait: boolean; points: { id: string; vector: number[]; payload: Record<string, unknown> }[] },
  ): Promise<unknown>;
  delete(name: string, body: { wait: boolean; points: string[] }): Promise<unknown>;
  scroll(
    name: string,
    body: { limit: number; offset?: unknown; with_payload: boolean; with_vector: boolean },
  ): Promise<
    {
      points: { id: unknown; payload?: Record<string, unknown> | null; vector?: unknown }[];
      next_page_offset?: unknown;
    }
  >;
}

/** Options for {@link QdrantStore.connect}. */
export interface QdrantStoreOptions {
  /** Qdrant URL, e.g. http://127.0.0.1:6333. */
  url: string;
  /** Collection name. */
  collection: string;
  /** Vector dimension (used when creating the collection). */
  dim: number;
  /** API key, if the server needs one. */
  apiKey?: string;
}

/**
 * Deterministic UUID (version-4 layout) from a string id, via two 64-bit FNV-1a hashes.
 *
 * @param id likeness reference id
 * @returns a UUID string
 * @example
 * ```ts
 * import { uuidForId } from "@likeness/server";
 * console.log(uuidForId("a") === uuidForId("a")); // true
 * ```
 */
export function uuidForId(id: string): string {
  const bytes = new TextEncoder().encode(id);
  const hash = (seed: bigint) => {
    let h = seed;
    for (const b of bytes) h = ((h ^ BigInt(b)) * 0x100000001b3n) & 0xffffffffffffffffn;
    return h;
  };
  const hex = (hash(0xcbf29ce484222325n).toString(16).padStart(16, "0") +
    hash(0x84222325cbf29ce4n).toString(16).padStart(16, "0"))
    .split("");
  hex[12] = "4";
  hex[16] = ((parseInt(hex[16], 16) & 0x3) | 0x8).toString(16);
  const h = hex.join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

/**
 * Reference store in a Qdrant collection.
 *
 * @example
 * ```ts
 * import { QdrantStore } from "@likeness/server";
 * const store = await QdrantStore.connect({ url: "http://127.0.0.1:6333", collection: "refs", dim: 384 });
 * ```
 */
export class QdrantStore implements ReferenceStore {
  #client: QdrantLike;
  #collection: string;
  #dim: number;
  #url: string;

  /**
   * @param client a QdrantClient (or anything with the same methods)
   * @param options collection, dim, url (for describe())
   */
  constructor(client: QdrantLike, options: { collection: string; dim: number; url?: string }) {
    this.#client = client;
    this.#collection = options.collection;
    this.#dim = options.dim;
    this.#url = options.url ?? "qdrant";
  }

  /**
   * Create a store with the official `@qdrant/js-client-rest` client (imported on demand).
   *
   * @param options url, collection, dim, apiKey
   * @returns the store
   * @throws {LikenessError} MISSING_DEPENDENCY when the client package is not installed
   */
  static async connect(options: QdrantStoreOptions): Promise<QdrantStore> {
    let mod: { QdrantClient: new (o: Record<string, unknown>) => QdrantLike };
    try {
      mod = await import("@qdrant/js-client-rest") as unknown as typeof mod;
    } catch (cause) {
      throw new LikenessError(
        "MISSING_DEPENDENCY",
        "QdrantStore needs @qdrant/js-client-rest: npm install @qdrant/js-client-rest@1.19.0",
        {
          cause,
        },
      );
    }
    const client = new mod.QdrantClient({ url: options.url, apiKey: options.apiKey, checkCompatibility: false });
    return new QdrantStore(client, { collection: options.collection, dim: options.dim, url: options.url });
  }

  /** Create the collection if needed, then scroll every point. */
  async load(): Promise<ReferenceItem[]> {
    const { exists } = await this.#client.collectionExists(this.#collection);
    if (!exists) {
      await this.#client.createCollection(this.#collection, { vectors: { size: this.#dim, distance: "Cosine" } });
      return [];
    }
    const out: ReferenceItem[] = [];
    let offset: unknown = undefined;
    do {
      const page = await this.#client.scroll(this.#collection, {
        limit: 1000,
        ...(offset === undefined || offset === null ? {} : { offset }),
        with_payload: true,
        with_vector: true,
      });
      for (const p of page.points) {
        const payload = p.payload ?? {};
        if (typeof payload._id !== "string" || !Array.isArray(p.vector)) {
          throw new LikenessError(
            "CORRUPT",
            `Qdrant point ${String(p.id)} in "${this.#collection}" is not a likeness reference`,
          );
        }
        out.push({
          id: payload._id,
          label: String(payload._label),
          vector: Float32Array.from(p.vector as number[]),
          ...(payload._payload === undefined ? {} : { payload: payload._payload }),
        });
      }
      offset = page.next_page_offset;
    } while (offset !== undefined && offset !== null);
    return out;
  }

  /** Upsert and delete with `wait: true`. */
  async write(w: StoreWrite): Promise<void> {
    if (w.put?.length) {
      await this.#client.upsert(this.#collection, {
        wait: true,
        points: w.put.map((it) => ({
          id: uuidForId(it.id),
          vector: Array.from(it.vector),
          payload: { _id: it.id, _label: it.label, ...(it.payload === undefined ? {} : { _payload: it.payload }) },
        })),
      });
    }
    if (w.delete?.length) await this.#client.delete(this.#collection, { wait: true, points: w.delete.map(uuidForId) });
  }

  /** "qdrant:<url>/<collection>". */
  describe(): string {
    return `qdrant:${this.#url}/${this.#collection}`;
  }

  /** Nothing to release. */
  close(): Promise<void> {
    return Promise.resolve();
  }
}
