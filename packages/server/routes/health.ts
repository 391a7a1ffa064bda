/**
 * Health and metrics: `GET /v1/health` (status for anyone; details for token holders or without
 * `protectReads`) and `GET /metrics` (Prometheus text).
 *
 * @module
 */
import type { Context } from "hono";
import { checkAccess, defineRoutes, route } from "./_define.ts";
import type { RouteContext } from "./context.ts";

async function health(c: Context, ctx: RouteContext): Promise<Response> {
  const h = ctx.store.health();
  // With --protect-reads, a caller without the token sees only the status (no data path, no sizes).
  try {
    checkAccess(c, ctx, "read");
  } catch {
    return c.json({ status: h.status });
  }
  const { index, model } = ctx;
  const info = index?.view.info();
  return c.json({
    status: h.status,
    ...(h.detail ? { detail: h.detail } : {}),
    ...(h.readOnly ? { readOnly: true } : {}),
    ...(h.counters ? { storeEvents: h.counters } : {}),
    references: await ctx.searcher.count(),
    search: ctx.searcher.mode,
    backend: ctx.backendName,
    model: model.name,
    dim: model.dim,
    store: ctx.store.describe(),
    ...(index
      ? {
        index: {
          kind: index.view.kind,
          size: index.view.size,
          ...(info ? { memoryBytes: info.memoryBytes, params: info.params, detail: info.detail } : {}),
          opened: { source: index.opened.source, applied: index.opened.applied, ms: Math.round(index.opened.ms) },
          ...(index.snapshots?.enabled
            ? { snapshot: { path: index.snapshots.path, ...index.snapshots.status() } }
            : {}),
        },
      }
      : {}),
  });
}

async function metrics(c: Context, ctx: RouteContext): Promise<Response> {
  c.header("content-type", "text/plain; version=0.0.4");
  const { index } = ctx;
  return c.body(ctx.metrics.render({
    references: await ctx.searcher.count(),
    search: ctx.searcher.mode,
    ...(index ? { index: { kind: index.view.kind, memoryBytes: index.view.info()?.memoryBytes ?? 0 } } : {}),
    storeEvents: ctx.store.health().counters,
  }));
}

/** `GET /v1/health`, `GET /metrics`. */
export const healthRoutes = defineRoutes([
  route({
    method: "get",
    path: "/v1/health",
    access: "open",
    handle: health,
    doc: () => ({
      responses: {
        "200": {
          description: "status (ok or degraded while writes fail); with the token or without --protect-reads " +
            "also detail, readOnly, storeEvents (PostgreSQL: notifications, catch-ups, reloads, tombstones purged), " +
            "references, backend, model, dim, store",
        },
      },
    }),
  }),
  route({
    method: "get",
    path: "/metrics",
    access: "read",
    handle: metrics,
    doc: () => ({ responses: { "200": { description: "Prometheus text format" } } }),
  }),
]);
