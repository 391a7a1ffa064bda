/**
 * Embedding cache for frozen encoders: computed once, kept in memory and on disk, keyed by
 * the encoder's identity and a hash of the inputs (so a changed encoder or data set
 * invalidates it), verified by checksum (a corrupt file is recomputed, never loaded).
 *
 * @example
 * ```ts
 * import { DirStore, EmbeddingCache } from "@likeness/cache";
 * import { loadUseLite } from "@likeness/models";
 * const cache = new EmbeddingCache({ store: new DirStore(".cache/embeddings") });
 * const m = await cache.embed(await loadUseLite(), ["a gloss", "another gloss"], {
 *   name: "glosses-train",
 *   onProgress: ({ done, total }) => console.log(`${done}/${total}`),
 * });
 * console.log(m.rows, m.cols); // 2 512
 * ```
 *
 * @module
 */
export * from "./store.ts";
export * from "./dir_store.ts";
export * from "./entry_format.ts";
export * from "./content_hash.ts";
export * from "./embedding_cache.ts";
