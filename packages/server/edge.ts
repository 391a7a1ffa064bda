/**
 * Edge entry: a standard `fetch` handler for Deno Deploy, Cloudflare-style workers or any
 * runtime with `Request`/`Response`. No file system: pass a store that suits the platform
 * (the default {@link MemoryStore} keeps references only for the isolate's lifetime; see the
 * README's scale-out section for sharing one durable store between replicas).
 *
 * @example
 * ```ts
 * import { createEdgeHandler } from "@likeness/server/edge";
 * import { vectorOnlyModel } from "@likeness/server";
 * const handler = createEdgeHandler({ model: vectorOnlyModel(3) });
 * const res = await handler.fetch(new Request("http://x/v1/health"));
 * ```
 *
 * @module
 */
import { createBackend } from "@likeness/backend";
import { type AuthOptions, createApp, type Limits } from "./app.ts";
import type { ServedModel } from "./model.ts";
import { MemoryStore, type ReferenceStore } from "./store.ts";

/** Options for {@link createEdgeHandler}. */
export interface EdgeOptions {
  /** The model. */
  model: ServedModel;
  /** The store (default: in-memory). */
  store?: ReferenceStore;
  /** Auth. */
  auth?: AuthOptions;
  /** Limits. */
  limits?: Limits;
}

/**
 * Build a lazily initialised fetch handler (the app is created on the first request).
 *
 * @param options model, store, auth, limits
 * @returns `{ fetch }`
 */
export function createEdgeHandler(options: EdgeOptions): { fetch(req: Request): Promise<Response> } {
  let ready: ReturnType<typeof createApp> | undefined;
  return {
    async fetch(req: Request): Promise<Response> {
      ready ??= createBackend({ tf: false }).then(({ backend }) =>
        createApp({ ...options, store: options.store ?? new MemoryStore([], { dim: options.model.dim }), backend })
      );
      const { app } = await ready;
      return app.fetch(req);
    },
  };
}
