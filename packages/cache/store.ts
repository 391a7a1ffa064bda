/**
 * Where cache entries live: an injectable byte store. {@link MemoryStore} keeps them in
 * memory; `DirStore` (dir_store.ts) keeps them as files.
 *
 * @module
 */

/** A key → bytes store. Keys are short file-name-safe strings (`[A-Za-z0-9._-]`). */
export interface CacheStore {
  /**
   * Read an entry.
   * @param key entry key
   * @returns its bytes, or undefined when absent
   */
  get(key: string): Promise<Uint8Array | undefined>;
  /**
   * Write an entry (atomically where the store can).
   * @param key entry key
   * @param bytes contents
   */
  set(key: string, bytes: Uint8Array): Promise<void>;
  /**
   * Remove an entry (no error when absent).
   * @param key entry key
   */
  delete(key: string): Promise<void>;
  /** @returns every key */
  keys(): Promise<string[]>;
}

/**
 * In-memory store (lost when the process ends).
 *
 * @example
 * ```ts
 * import { MemoryStore } from "@likeness/cache";
 * const s = new MemoryStore();
 * await s.set("a", new Uint8Array([1]));
 * console.log(await s.get("a")); // Uint8Array [1]
 * ```
 */
export class MemoryStore implements CacheStore {
  readonly #items = new Map<string, Uint8Array>();
  /** @inheritdoc */
  get(key: string): Promise<Uint8Array | undefined> {
    return Promise.resolve(this.#items.get(key));
  }
  /** @inheritdoc */
  set(key: string, bytes: Uint8Array): Promise<void> {
    this.#items.set(key, bytes.slice());
    return Promise.resolve();
  }
  /** @inheritdoc */
  delete(key: string): Promise<void> {
    this.#items.delete(key);
    return Promise.resolve();
  }
  /** @inheritdoc */
  keys(): Promise<string[]> {
    return Promise.resolve([...this.#items.keys()]);
  }
}
