/**
 * Embedding cache for frozen encoders: outputs are computed once, kept in memory and in a
 * {@link CacheStore} (e.g. a directory), and keyed by the encoder's identity and a hash of
 * the inputs, so a changed encoder or data set is never served stale embeddings.
 *
 * @module
 */
import { checkFinite, checkPositiveInt, isLikenessError, type Matrix, ShapeError, ValueError } from "@likeness/core";
import type { Encoder } from "@likeness/models";
import { tf } from "@likeness/tf";
import { hashInputs } from "./content_hash.ts";
import { decodeEntry, encodeEntry, sha256 } from "./entry_format.ts";
import { type CacheStore, MemoryStore } from "./store.ts";

/** What the cache needs from an encoder. */
export type CacheableEncoder = Pick<Encoder, "dim" | "trainable" | "identity" | "encode">;

/** Progress while the cache fills (only reported when embeddings are computed). */
export interface CacheProgress {
  /** Inputs embedded so far. */
  done: number;
  /** Inputs in total. */
  total: number;
}

/** Options of {@link EmbeddingCache.embed}. */
export interface EmbedOptions {
  /** Inputs per encoder call (default 128). */
  batchSize?: number;
  /** Called after every computed batch (render a progress bar with it). */
  onProgress?: (p: CacheProgress) => void;
  /**
   * A stable entry name (e.g. `wordnet-train`). With a name, a changed encoder or data set
   * replaces the entry (counted as `invalidated`); without one, the key is derived from the
   * identity and content, and stale entries are simply never matched.
   */
  name?: string;
  /** Allow caching a trainable encoder's outputs (default false: they change as it trains). */
  allowTrainable?: boolean;
}

/** Counters of what the cache did. */
export interface CacheStats {
  /** Served from memory. */
  memoryHits: number;
  /** Loaded from the store. */
  storeHits: number;
  /** Computed (no usable entry). */
  misses: number;
  /** Entries found for another encoder or data set, replaced. */
  invalidated: number;
  /** Entries that failed verification, discarded and recomputed. */
  corrupt: number;
}

/** Options of {@link EmbeddingCache}. */
export interface EmbeddingCacheOptions {
  /** Persistent store (default: a {@link MemoryStore}). */
  store?: CacheStore;
  /** Keep entries in memory too (default true). */
  memory?: boolean;
  /** Told about discarded corrupt entries (default: nothing). */
  onWarning?: (message: string) => void;
}

interface MemoryEntry {
  identity: string;
  contentHash: string;
  matrix: Matrix;
}

/**
 * Cache of frozen encoders' embeddings.
 *
 * @example
 * ```ts
 * import { EmbeddingCache } from "@likeness/cache";
 * import { loadUseLite } from "@likeness/models";
 * const cache = new EmbeddingCache();
 * const use = await loadUseLite();
 * const m = await cache.embed(use, ["a cat", "a dog"], { onProgress: (p) => console.log(p.done, p.total) });
 * await cache.embed(use, ["a cat", "a dog"]); // served from memory
 * console.log(m.cols, cache.stats.memoryHits); // 512 1
 * ```
 */
export class EmbeddingCache {
  /** Counters. */
  readonly stats: CacheStats = { memoryHits: 0, storeHits: 0, misses: 0, invalidated: 0, corrupt: 0 };
  readonly #store: CacheStore;
  readonly #memory = new Map<string, MemoryEntry>();
  readonly #useMemory: boolean;
  readonly #warn: (message: string) => void;

  /**
   * @param options store, memory layer, warning hook
   */
  constructor(options: EmbeddingCacheOptions = {}) {
    this.#store = options.store ?? new MemoryStore();
    this.#useMemory = options.memory ?? true;
    this.#warn = options.onWarning ?? (() => {});
  }

  /**
   * Embeddings of `inputs` under `encoder`: from memory, else the store, else computed (and stored).
   * The returned matrix is shared with the cache: do not modify it.
   *
   * @param encoder a frozen encoder
   * @param inputs items or a tensor (first axis = items)
   * @param options batch size, progress, entry name
   * @returns an `n × encoder.dim` matrix, row i for input i
   * @throws {ValueError} INVALID_ARGUMENT for a trainable encoder (unless `allowTrainable`) or a bad name
   * @throws {ShapeError} EMPTY_INPUT for no inputs; {ValueError} NON_FINITE when the encoder outputs NaN/Inf (nothing is cached)
   */
  async embed(
    encoder: CacheableEncoder,
    inputs: tf.Tensor | readonly unknown[],
    options: EmbedOptions = {},
  ): Promise<Matrix> {
    if (!encoder || typeof encoder.identity !== "function" || typeof encoder.encode !== "function") {
      throw new ValueError("INVALID_ARGUMENT", "Cannot cache embeddings: pass an encoder with identity() and encode()");
    }
    if (encoder.trainable && !options.allowTrainable) {
      throw new ValueError(
        "INVALID_ARGUMENT",
        "Cannot cache a trainable encoder: its outputs change while it trains; cache a frozen encoder, or pass { allowTrainable: true } for a snapshot",
      );
    }
    const n = inputs instanceof tf.Tensor ? inputs.shape[0] ?? 0 : inputs?.length ?? 0;
    if (n === 0) throw new ShapeError("Cannot cache embeddings: no inputs", "EMPTY_INPUT");
    const batchSize = checkPositiveInt(options.batchSize ?? 128, "batchSize");
    if (options.name !== undefined && !/^[A-Za-z0-9_-][A-Za-z0-9._-]{0,120}$/.test(options.name)) {
      throw new ValueError(
        "INVALID_ARGUMENT",
        `Invalid cache entry name ${JSON.stringify(options.name)}: use letters, digits, ".", "_" and "-"`,
      );
    }
    const identity = encoder.identity();
    const contentHash = await hashInputs(inputs);
    const key = options.name ?? (await sha256(new TextEncoder().encode(`${identity}\n${contentHash}`))).slice(0, 40);

    const mem = this.#memory.get(key);
    if (mem && mem.identity === identity && mem.contentHash === contentHash) {
      this.stats.memoryHits++;
      return mem.matrix;
    }
    const bytes = await this.#store.get(key);
    if (bytes) {
      try {
        const { header, matrix } = await decodeEntry(bytes);
        if (
          header.identity === identity && header.contentHash === contentHash && header.cols === encoder.dim &&
          header.rows === n
        ) {
          this.stats.storeHits++;
          this.#remember(key, { identity, contentHash, matrix });
          return matrix;
        }
        this.stats.invalidated++;
      } catch (e) {
        if (!isLikenessError(e) || e.code !== "CORRUPT") throw e;
        this.stats.corrupt++;
        this.#warn(`${e.message} (entry ${key})`);
        await this.#store.delete(key);
      }
    }
    this.stats.misses++;
    const matrix = await this.#compute(encoder, inputs, n, batchSize, options.onProgress);
    await this.#store.set(key, await encodeEntry(matrix, { identity, contentHash }));
    this.#remember(key, { identity, contentHash, matrix });
    return matrix;
  }

  /** Forget the in-memory layer (the store keeps its entries). */
  clearMemory(): void {
    this.#memory.clear();
  }

  #remember(key: string, entry: MemoryEntry): void {
    if (this.#useMemory) this.#memory.set(key, entry);
  }

  async #compute(
    encoder: CacheableEncoder,
    inputs: tf.Tensor | readonly unknown[],
    n: number,
    batchSize: number,
    onProgress?: (p: CacheProgress) => void,
  ): Promise<Matrix> {
    const dim = encoder.dim;
    const data = new Float32Array(n * dim);
    onProgress?.({ done: 0, total: n });
    for (let start = 0; start < n; start += batchSize) {
      const end = Math.min(n, start + batchSize);
      const part = inputs instanceof tf.Tensor
        ? tf.slice(inputs, [start, ...inputs.shape.slice(1).map(() => 0)], [end - start, ...inputs.shape.slice(1)])
        : inputs.slice(start, end);
      const e = await encoder.encode(part);
      if (part instanceof tf.Tensor) part.dispose();
      if (e.shape[0] !== end - start || e.shape[1] !== dim) {
        e.dispose();
        throw new ShapeError(
          `Cannot cache embeddings: the encoder returned [${e.shape}] for ${end - start} inputs but its dim is ${dim}`,
        );
      }
      data.set(await e.data() as Float32Array, start * dim);
      e.dispose();
      onProgress?.({ done: end, total: n });
    }
    checkFinite(data, "encoder output");
    return { data, rows: n, cols: dim };
  }
}
