/**
 * `createApp()`: the Hono inference server. Embed, search, classify, hot-add and delete
 * references, health, Prometheus metrics and an OpenAPI document.
 *
 * @module
 */
import { Hono } from "hono";
import { ValueError } from "@likeness/core";
import type { Backend } from "@likeness/backend";
import { toErrorResponse } from "./http_errors.ts";
import type { ReferenceIndex, ReferenceIndexOptions } from "./reference_index.ts";
import { openReferenceIndex, SnapshotWriter } from "./index_snapshot.ts";
import type { ServedModel } from "./model.ts";
import type { ReferenceStore, StoreChange } from "./store.ts";
import { Metrics } from "./metrics.ts";
import { openApiRoutes } from "./openapi.ts";
import { referenceReader, referenceWriter, WriteQueue } from "./_served_references.ts";
import { checkFloat32 } from "./routes/_body.ts";
import type { AuthOptions, Limits, RouteContext } from "./routes/context.ts";
import { ROUTE_MODULES } from "./routes/modules.ts";

export type { AuthOptions, Limits } from "./routes/context.ts";

/** Options for {@link createApp}. */
export interface AppOptions {
  /** The model (encoder plus optional calibrated threshold). */
  model: ServedModel;
  /** Durable reference store. */
  store: ReferenceStore;
  /** Compute backend for top-k search. */
  backend: Backend;
  /** Bearer-token auth. */
  auth?: AuthOptions;
  /** Request limits. */
  limits?: Limits;
  /** The resident index: kind (`flat` [default], `int8`, `binary`, `hnsw`) and HNSW parameters. */
  index?: ReferenceIndexOptions;
  /**
   * An index snapshot beside the store (`index_snapshot.ts`), for stores with a sequence number
   * (SQLite): loaded at start when sound, written after `everyChanges` changes [10,000], every
   * `intervalMs` when something changed [300,000] and on close.
   */
  snapshot?: { path: string; everyChanges?: number; intervalMs?: number };
  /** A CPU clock in ms (the entry point's `process.cpuUsage`): the start-up phases report CPU too. */
  cpuMs?: () => number;
}

/** The app plus handles the entry points need. */
export interface LikenessApp {
  /** The Hono app (`app.fetch` is a standard fetch handler). */
  app: Hono;
  /** The in-memory index. */
  index: ReferenceIndex;
  /** How the index was opened: from a snapshot (plus later changes) or from every stored reference. */
  opened: {
    source: "snapshot" | "store";
    applied: number;
    ms: number;
    fallback?: string;
    phases?: Record<string, number>;
    phasesCpu?: Record<string, number>;
  };
  /** The snapshot writer, when snapshots are on. */
  snapshots?: SnapshotWriter;
  /** Wait for pending writes and close the store. */
  close(): Promise<void>;
}

const DEFAULT_LIMITS: Required<Limits> = {
  maxBodyBytes: 1 << 20,
  maxItems: 256,
  maxK: 100,
  maxDim: 4096,
  maxPayloadBytes: 64 * 1024,
  maxPayloadDepth: 32,
  bodyTimeoutMs: 10_000,
};

/**
 * Build the server: loads the store into memory, then serves.
 *
 * @param options model, store, backend, auth, limits
 * @returns the Hono app, its index and a close function
 * @throws whatever the store throws when it cannot load (e.g. CORRUPT)
 * @example
 * ```ts
 * import { createApp, MemoryStore, vectorOnlyModel } from "@likeness/server";
 * import { createBackend } from "@likeness/backend";
 * const { app } = await createApp({ model: vectorOnlyModel(3), store: new MemoryStore(), backend: (await createBackend()).backend });
 * const res = await app.request("/v1/health");
 * ```
 */
export async function createApp(options: AppOptions): Promise<LikenessApp> {
  const { model, store, backend } = options;
  const limits = { ...DEFAULT_LIMITS, ...options.limits };
  // A store that answers queries itself (PostgreSQL search mode) is not copied into memory.
  const remote = store.query;
  const opened = await openReferenceIndex({
    store,
    dim: model.dim,
    backend,
    index: options.index,
    snapshotPath: options.snapshot?.path,
    check: (it) => checkFloat32(it.vector, model.dim, `stored reference "${it.id}".vector`),
    ...(options.cpuMs ? { cpuMs: options.cpuMs } : {}),
  });
  const index = opened.index;
  const metrics = new Metrics();
  const queue = new WriteQueue();
  const snapshots = options.snapshot && !remote
    ? new SnapshotWriter({
      path: options.snapshot.path,
      index,
      store,
      backend,
      everyChanges: options.snapshot.everyChanges,
      intervalMs: options.snapshot.intervalMs,
      serialize: (f) => queue.run(f),
    })
    : undefined;
  // No usable snapshot: write one now, so the next start is fast.
  if (snapshots?.enabled && opened.source === "store") void snapshots.write().catch(() => {});
  const unwatch = remote ? undefined : store.watch?.((w) => applyReplicated(index, w, model.dim));

  const ctx: RouteContext = {
    model,
    limits,
    auth: options.auth ?? {},
    metrics,
    backendName: backend.info.name,
    store: { describe: () => store.describe(), health: () => store.health?.() ?? { status: "ok" } },
    searcher: referenceReader(store, index, backend, metrics),
    writer: referenceWriter({ store, index, queue, metrics, snapshots }),
    ...(remote ? {} : { index: { view: index, opened, ...(snapshots ? { snapshots } : {}) } }),
  };

  const app = new Hono();
  app.onError((err, c) => {
    const { status, body } = toErrorResponse(err);
    metrics.error(body.error.code);
    if (status === 500) console.error(err);
    else if (status >= 500) console.error(`likeness: ${body.error.code}: ${body.error.message}`);
    return c.json(body, status as 400);
  });
  app.notFound((c) => c.json({ error: { code: "NOT_FOUND", message: `No route ${c.req.method} ${c.req.path}` } }, 404));
  app.use("*", async (c, next) => {
    const t0 = performance.now();
    await next();
    metrics.request(c.req.method, c.req.routePath ?? c.req.path, c.res.status, performance.now() - t0);
  });
  for (const m of [...ROUTE_MODULES, openApiRoutes]) app.route("/", m.mount(ctx));

  return {
    app,
    index,
    opened: {
      source: opened.source,
      applied: opened.applied,
      ms: opened.ms,
      ...(opened.fallback ? { fallback: opened.fallback } : {}),
      ...(opened.phases ? { phases: opened.phases } : {}),
      ...(opened.phasesCpu ? { phasesCpu: opened.phasesCpu } : {}),
    },
    ...(snapshots ? { snapshots } : {}),
    async close() {
      unwatch?.();
      await queue.idle();
      await snapshots?.close();
      await queue.idle();
      await store.close();
      index.dispose();
    },
  };
}

/**
 * Reject an options object that is missing a part, with a message naming the fix.
 *
 * @param options candidate options
 * @throws {ValueError} INVALID_ARGUMENT
 */
export function checkAppOptions(options: Partial<AppOptions>): asserts options is AppOptions {
  for (const k of ["model", "store", "backend"] as const) {
    if (!options[k]) throw new ValueError("INVALID_ARGUMENT", `createApp: "${k}" is required`);
  }
}

/**
 * Apply a batch another writer committed (a read-only replica's primary, other PostgreSQL
 * replicas) to the index at once, not queued behind this process's pending writes. A store with
 * other writers delivers the commits before one of ours during our write() and the later ones
 * only after the index update that follows it, so applying at once keeps commit order (queued
 * behind a pending write, an older commit of another replica would land after our newer one and
 * undo it). A bad item is skipped and logged; nothing thrown reaches the store.
 */
function applyReplicated(index: ReferenceIndex, w: StoreChange, dim: number): void {
  try {
    if (w.reset) {
      // The store sent its whole live set (it could not tell what changed): drop the rest.
      const keep = new Set((w.put ?? []).map((it) => it.id));
      for (const id of [...index.entries()].map((it) => it.id)) if (!keep.has(id)) index.delete(id);
    }
    for (const id of w.delete ?? []) index.delete(id);
    const put = (w.put ?? []).filter((it) => {
      try {
        checkFloat32(it.vector, dim, `replicated reference "${it.id}".vector`);
        return true;
      } catch (e) {
        console.error(`likeness: skipped a replicated write: ${(e as Error).message}`);
        return false;
      }
    });
    if (put.length) index.upsert(put);
  } catch (e) {
    console.error("likeness: applying a replicated write failed:", e);
  }
}
