/**
 * The likeness inference server: a Hono app that embeds, searches, classifies and hot-adds
 * references with a durable on-disk store, for Deno, Bun and edge runtimes.
 *
 * @example
 * ```ts
 * import { createApp, SqliteStore, vectorOnlyModel } from "@likeness/server";
 * import { createBackend } from "@likeness/backend";
 * const { backend } = await createBackend({ tf: false });
 * const store = await SqliteStore.open(`${await Deno.makeTempDir()}/likeness.db`, { dim: 3 });
 * const { app } = await createApp({ model: vectorOnlyModel(3), store, backend });
 * const res = await app.request("/v1/health");
 * console.log(await res.json());
 * ```
 *
 * @module
 */
export * from "./app.ts";
export * from "./auth.ts";
export * from "./crc32.ts";
export * from "./file_store.ts";
export * from "./sqlite_store.ts";
export * from "./migrate.ts";
export * from "./http_errors.ts";
export * from "./reference_index.ts";
export * from "./index_snapshot.ts";
export * from "./metrics.ts";
export * from "./model.ts";
export * from "./openapi.ts";
export * from "./store.ts";
export * from "./store_rules.ts";
export * from "./read_body.ts";
export * from "./runtime_serve.ts";
export * from "./qdrant_store.ts";
export * from "./pg_store.ts";
export * from "./load_model.ts";
export * from "./searcher.ts";
