/**
 * `createApp()`: the Hono inference server. Embed, search, classify, hot-add and delete
 * references, health, Prometheus metrics and an OpenAPI document.
 *
 * @module
 */
import { Hono } from "hono";
import type { Context } from "hono";
import { ValueError } from "@likeness/core";
import type { Backend } from "@likeness/backend";
import { HttpError, toErrorResponse } from "./http_errors.ts";
import type { ReferenceIndex, ReferenceIndexOptions, ReferenceItem } from "./index.ts";
import { openReferenceIndex, SnapshotWriter } from "./index_snapshot.ts";
import type { ServedModel } from "./model.ts";
import type { ReferenceStore } from "./store.ts";
import { hasLoneSurrogate } from "./store_rules.ts";
import { Metrics } from "./metrics.ts";
import { openApiDocument } from "./openapi.ts";
import { timingSafeEqualStrings } from "./auth.ts";
import { createSearcher } from "./searcher.ts";

/** Request limits (defaults in brackets). */
export interface Limits {
  /** Maximum request body in bytes [1 MiB]. */
  maxBodyBytes?: number;
  /** Maximum items per embed or references request [256]. */
  maxItems?: number;
  /** Maximum k [100]. */
  maxK?: number;
  /** Maximum vector dimension accepted [4096]. */
  maxDim?: number;
  /** Maximum JSON size of one item's payload in bytes [64 KiB]. */
  maxPayloadBytes?: number;
  /** Maximum nesting depth of a payload [32]. */
  maxPayloadDepth?: number;
  /** A request body must arrive within this many milliseconds [10,000]. */
  bodyTimeoutMs?: number;
}

/** Authentication. */
export interface AuthOptions {
  /** Bearer token; when set, writes need it. */
  token?: string;
  /** Also require it for reads (embed, search, classify, get, health details, /metrics, /v1/openapi.json) [false]. */
  protectReads?: boolean;
}

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

/** Nesting depth of a JSON value, walked without recursion (a hostile payload cannot overflow the stack). */
function jsonDepth(v: unknown, limit: number): number {
  let max = 0;
  const stack: [unknown, number][] = [[v, 1]];
  while (stack.length) {
    const [x, d] = stack.pop()!;
    if (x === null || typeof x !== "object") continue;
    if (d > max) max = d;
    if (max > limit) return max;
    for (const y of Array.isArray(x) ? x : Object.values(x)) stack.push([y, d + 1]);
  }
  return max;
}

/** Validate a vector the model produced (or a store loaded): right length, finite as float32. */
function checkFloat32(v: Float32Array, dim: number, what: string): void {
  if (v.length !== dim) throw new HttpError(422, "SHAPE_MISMATCH", `${what} has ${v.length} dimensions, not ${dim}`);
  for (let i = 0; i < v.length; i++) {
    if (!Number.isFinite(v[i])) {
      throw new HttpError(422, "NON_FINITE", `${what}[${i}] is ${v[i]}; every value must be finite`);
    }
  }
}

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
  const auth = options.auth ?? {};
  // A store that answers queries itself (PostgreSQL search mode) is not copied into memory.
  const remote = store.query;
  const opened = await openReferenceIndex({
    store,
    dim: model.dim,
    backend,
    index: options.index,
    snapshotPath: options.snapshot?.path,
    check: (it) => checkFloat32(it.vector, model.dim, `stored reference "${it.id}".vector`),
  });
  const index = opened.index;
  const metrics = new Metrics();
  let writeChain: Promise<unknown> = Promise.resolve();
  const snapshots = options.snapshot && !remote
    ? new SnapshotWriter({
      path: options.snapshot.path,
      index,
      store,
      backend,
      everyChanges: options.snapshot.everyChanges,
      intervalMs: options.snapshot.intervalMs,
      serialize: <T>(f: () => T) => {
        const job = writeChain.then(f);
        writeChain = job.catch(() => {});
        return job;
      },
    })
    : undefined;
  // No usable snapshot: write one now, so the next start is fast.
  if (snapshots?.enabled && opened.source === "store") void snapshots.write().catch(() => {});
  // Writes committed by other writers (a read-only replica's primary, other PostgreSQL replicas):
  // applied at once, not queued behind this process's pending writes. A store with other writers
  // delivers the commits before one of ours during our write() and the later ones only after the
  // index update that follows it, so applying at once keeps commit order (queued behind a pending
  // write, an older commit of another replica would land after our newer one and undo it).
  const unwatch = remote ? undefined : store.watch?.((w) => {
    try {
      if (w.reset) {
        // The store sent its whole live set (it could not tell what changed): drop the rest.
        const keep = new Set((w.put ?? []).map((it) => it.id));
        for (const id of [...index.entries()].map((it) => it.id)) if (!keep.has(id)) index.delete(id);
      }
      for (const id of w.delete ?? []) index.delete(id);
      const put = (w.put ?? []).filter((it) => {
        try {
          checkFloat32(it.vector, model.dim, `replicated reference "${it.id}".vector`);
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
  });
  const storeHealth = () => store.health?.() ?? { status: "ok" as const };
  const requireWritable = () => {
    if (storeHealth().readOnly) {
      throw new HttpError(409, "READ_ONLY", "This server is a read-only replica; send writes to the writer");
    }
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

  const requireToken = (c: Context) => {
    if (!auth.token) return;
    const h = c.req.header("authorization") ?? "";
    const m = /^Bearer (.+)$/.exec(h);
    if (!m || !timingSafeEqualStrings(m[1], auth.token)) {
      throw new HttpError(401, "UNAUTHORIZED", "Missing or wrong bearer token: send `Authorization: Bearer <token>`");
    }
  };
  const readGuard = (c: Context) => {
    if (auth.protectReads) requireToken(c);
  };

  const readJson = async (c: Context): Promise<Record<string, unknown>> => {
    const buf = await readBody(c.req.raw, limits.maxBodyBytes, limits.bodyTimeoutMs);
    let body: unknown;
    try {
      body = JSON.parse(new TextDecoder().decode(buf));
    } catch {
      throw new HttpError(400, "MALFORMED_JSON", "Request body is not valid JSON");
    }
    if (!body || typeof body !== "object" || Array.isArray(body)) {
      throw new HttpError(400, "BAD_REQUEST", "Request body must be a JSON object");
    }
    return body as Record<string, unknown>;
  };

  const checkVector = (v: unknown, what: string): Float32Array => {
    if (!Array.isArray(v)) throw new HttpError(422, "INVALID_ARGUMENT", `${what} must be an array of numbers`);
    if (v.length > limits.maxDim) {
      throw new HttpError(413, "TOO_LARGE", `${what} has ${v.length} dimensions; the limit is ${limits.maxDim}`);
    }
    if (v.length !== model.dim) {
      throw new HttpError(
        422,
        "SHAPE_MISMATCH",
        `${what} has ${v.length} dimensions but the model produces ${model.dim}`,
      );
    }
    const out = new Float32Array(v.length);
    for (let i = 0; i < v.length; i++) {
      const x = v[i];
      if (typeof x !== "number" || !Number.isFinite(x)) {
        throw new HttpError(
          422,
          "NON_FINITE",
          `${what}[${i}] is ${JSON.stringify(x)}; every value must be a finite number`,
        );
      }
      out[i] = x;
      if (!Number.isFinite(out[i])) {
        throw new HttpError(
          422,
          "NON_FINITE",
          `${what}[${i}] is ${x}, which overflows float32 (|x| > 3.4028235e38); every value must be finite as float32`,
        );
      }
    }
    return out;
  };

  const checkInputs = (inputs: unknown[], what: string) => {
    for (let i = 0; i < inputs.length; i++) {
      try {
        model.checkInput?.(inputs[i]);
      } catch (e) {
        if (e instanceof HttpError) throw e;
        throw new HttpError(
          422,
          (e as { code?: string }).code ?? "INVALID_ARGUMENT",
          `${what}[${i}]: ${(e as Error).message}`,
        );
      }
    }
  };

  /** Resolve `input` or `vector` of a request object to one vector. */
  const vectorOf = async (obj: Record<string, unknown>, what: string): Promise<Float32Array> => {
    const hasV = obj.vector !== undefined;
    const hasI = obj.input !== undefined;
    if (hasV === hasI) throw new HttpError(422, "INVALID_ARGUMENT", `${what}: give exactly one of "input" or "vector"`);
    if (hasV) return checkVector(obj.vector, `${what}.vector`);
    checkInputs([obj.input], what);
    const [v] = await model.encode([obj.input]);
    checkFloat32(v, model.dim, `${what}: the embedding of "input"`);
    return v;
  };

  const parseK = (k: unknown, dflt: number): number => {
    if (k === undefined) return dflt;
    if (typeof k !== "number" || !Number.isInteger(k) || k < 1) {
      throw new HttpError(422, "INVALID_ARGUMENT", `k must be a positive integer, got ${JSON.stringify(k)}`);
    }
    if (k > limits.maxK) throw new HttpError(422, "K_TOO_LARGE", `k=${k} exceeds the limit ${limits.maxK}`);
    return k;
  };

  const search = remote
    ? (v: Float32Array, k: number, label?: string) => remote.search(v, k, label)
    : createSearcher(index, backend);
  const searchMode = remote?.mode ?? "memory";

  app.get("/v1/health", async (c) => {
    const h = storeHealth();
    // With --protect-reads, a caller without the token sees only the status (no data path, no sizes).
    let authorised = true;
    try {
      readGuard(c);
    } catch {
      authorised = false;
    }
    if (!authorised) return c.json({ status: h.status });
    const info = index.info();
    return c.json({
      status: h.status,
      ...(h.detail ? { detail: h.detail } : {}),
      ...(h.readOnly ? { readOnly: true } : {}),
      references: remote ? await remote.count() : index.size,
      search: searchMode,
      backend: backend.info.name,
      model: model.name,
      dim: model.dim,
      store: store.describe(),
      ...(remote ? {} : {
        index: {
          kind: index.kind,
          size: index.size,
          ...(info ? { memoryBytes: info.memoryBytes, params: info.params, detail: info.detail } : {}),
          opened: { source: opened.source, applied: opened.applied, ms: Math.round(opened.ms) },
          ...(snapshots?.enabled ? { snapshot: { path: snapshots.path, ...snapshots.status() } } : {}),
        },
      }),
    });
  });

  app.get("/metrics", async (c) => {
    readGuard(c);
    c.header("content-type", "text/plain; version=0.0.4");
    const info = remote ? undefined : index.info();
    return c.body(metrics.render({
      references: remote ? await remote.count() : index.size,
      search: searchMode,
      ...(remote ? {} : { index: { kind: index.kind, memoryBytes: info?.memoryBytes ?? 0 } }),
    }));
  });

  app.get("/v1/openapi.json", (c) => {
    readGuard(c);
    return c.json(openApiDocument(model, limits));
  });

  app.post("/v1/embed", async (c) => {
    readGuard(c);
    const body = await readJson(c);
    const inputs = body.inputs;
    if (!Array.isArray(inputs) || inputs.length === 0) {
      throw new HttpError(422, "INVALID_ARGUMENT", '"inputs" must be a non-empty array');
    }
    if (inputs.length > limits.maxItems) {
      throw new HttpError(413, "TOO_LARGE", `${inputs.length} inputs; the limit is ${limits.maxItems} per request`);
    }
    checkInputs(inputs, "inputs");
    const vs = await model.encode(inputs);
    vs.forEach((v, i) => checkFloat32(v, model.dim, `the embedding of inputs[${i}]`));
    return c.json({ embeddings: vs.map((v) => Array.from(v)), dim: model.dim, model: model.name });
  });

  app.post("/v1/search", async (c) => {
    readGuard(c);
    const body = await readJson(c);
    const k = parseK(body.k, 10);
    if (body.label !== undefined && typeof body.label !== "string") {
      throw new HttpError(422, "INVALID_ARGUMENT", '"label" must be a string');
    }
    const v = await vectorOf(body, "request");
    return c.json({ results: await search(v, k, body.label as string | undefined) });
  });

  app.post("/v1/classify", async (c) => {
    readGuard(c);
    const body = await readJson(c);
    const k = parseK(body.k, 5);
    const v = await vectorOf(body, "request");
    const neighbours = await search(v, k);
    if (neighbours.length === 0) return c.json({ label: null, confidence: 0, neighbours });
    const votes = new Map<string, number>();
    let total = 0;
    for (const n of neighbours) {
      const w = Math.max(n.score, 0) + 1e-6;
      votes.set(n.label, (votes.get(n.label) ?? 0) + w);
      total += w;
    }
    let best = neighbours[0].label;
    for (const [l, w] of votes) if (w > (votes.get(best) ?? 0)) best = l;
    const open = model.threshold !== undefined && neighbours[0].score < model.threshold;
    return c.json({
      label: open ? null : best,
      confidence: open ? 0 : (votes.get(best) ?? 0) / total,
      neighbours,
    });
  });

  app.post("/v1/references", async (c) => {
    requireToken(c);
    requireWritable();
    const body = await readJson(c);
    const raw = body.items;
    if (!Array.isArray(raw) || raw.length === 0) {
      throw new HttpError(422, "INVALID_ARGUMENT", '"items" must be a non-empty array');
    }
    if (raw.length > limits.maxItems) {
      throw new HttpError(413, "TOO_LARGE", `${raw.length} items; the limit is ${limits.maxItems} per request`);
    }
    // Validate everything before changing anything.
    const seen = new Set<string>();
    const toEncode: { at: number; input: unknown }[] = [];
    const items: (ReferenceItem | undefined)[] = [];
    for (let i = 0; i < raw.length; i++) {
      const it = raw[i] as Record<string, unknown>;
      if (!it || typeof it !== "object") throw new HttpError(422, "INVALID_ARGUMENT", `items[${i}] must be an object`);
      if (typeof it.id !== "string" || it.id.length === 0 || it.id.length > 256) {
        throw new HttpError(
          422,
          "INVALID_ARGUMENT",
          `items[${i}].id must be a non-empty string of at most 256 characters`,
        );
      }
      if (hasLoneSurrogate(it.id)) {
        throw new HttpError(
          422,
          "INVALID_ARGUMENT",
          `items[${i}].id is not well-formed UTF-16 (a lone surrogate); it could never be read back or deleted`,
        );
      }
      if (seen.has(it.id)) throw new HttpError(422, "INVALID_ARGUMENT", `items[${i}].id "${it.id}" appears twice`);
      seen.add(it.id);
      if (typeof it.label !== "string" || it.label.length === 0) {
        throw new HttpError(422, "INVALID_ARGUMENT", `items[${i}].label must be a non-empty string`);
      }
      if (hasLoneSurrogate(it.label)) {
        throw new HttpError(422, "INVALID_ARGUMENT", `items[${i}].label is not well-formed UTF-16 (a lone surrogate)`);
      }
      if (it.payload !== undefined) {
        if (jsonDepth(it.payload, limits.maxPayloadDepth) > limits.maxPayloadDepth) {
          throw new HttpError(
            422,
            "INVALID_ARGUMENT",
            `items[${i}].payload is nested deeper than ${limits.maxPayloadDepth} levels`,
          );
        }
        const bytes = new TextEncoder().encode(JSON.stringify(it.payload)).length;
        if (bytes > limits.maxPayloadBytes) {
          throw new HttpError(
            413,
            "TOO_LARGE",
            `items[${i}].payload is ${bytes} bytes of JSON; the limit is ${limits.maxPayloadBytes} per item`,
          );
        }
      }
      const hasV = it.vector !== undefined;
      if (hasV === (it.input !== undefined)) {
        throw new HttpError(422, "INVALID_ARGUMENT", `items[${i}]: give exactly one of "input" or "vector"`);
      }
      if (hasV) {
        items.push({
          id: it.id,
          label: it.label,
          vector: checkVector(it.vector, `items[${i}].vector`),
          payload: it.payload,
        });
      } else {
        checkInputs([it.input], `items[${i}]`);
        toEncode.push({ at: i, input: it.input });
        items.push(undefined);
      }
    }
    if (toEncode.length) {
      const vs = await model.encode(toEncode.map((t) => t.input));
      toEncode.forEach((t, j) => checkFloat32(vs[j], model.dim, `the embedding of items[${t.at}].input`));
      toEncode.forEach((t, j) => {
        const it = raw[t.at] as Record<string, unknown>;
        items[t.at] = { id: it.id as string, label: it.label as string, vector: vs[j], payload: it.payload };
      });
    }
    const ready = items as ReferenceItem[];
    // Durable first, then visible: an acknowledged write is on disk.
    const job = writeChain.then(async () => {
      const done = await store.write({ put: ready });
      return remote ? { added: done?.added ?? ready.length, updated: done?.updated ?? 0 } : index.upsert(ready);
    });
    writeChain = job.catch(() => {});
    const r = await job;
    metrics.added(r.added + r.updated);
    snapshots?.changed(r.added + r.updated);
    await maybeCompact();
    return c.json(r);
  });

  // Any id in the query (`?id=..`): Bun normalises `.` and `..` path segments (even as %2E) away.
  const idOf = (c: Context): string => {
    const id = c.req.param("id") ?? c.req.query("id");
    if (id === undefined || id === "") {
      throw new HttpError(422, "INVALID_ARGUMENT", 'Give the id: "?id=..." or "/<id>"');
    }
    return id;
  };
  const getReference = async (c: Context) => {
    readGuard(c);
    const id = idOf(c);
    const it = remote ? await remote.get(id) : index.get(id);
    if (!it) throw new HttpError(404, "NOT_FOUND", `No reference with id "${id}"`);
    return c.json({ id: it.id, label: it.label, ...(it.payload === undefined ? {} : { payload: it.payload }) });
  };
  app.get("/v1/references/:id", getReference);
  app.get("/v1/references", getReference);

  const deleteReference = async (c: Context) => {
    requireToken(c);
    requireWritable();
    const id = idOf(c);
    const job = writeChain.then(async () => {
      if (remote) return ((await store.write({ delete: [id] }))?.deleted ?? 1) > 0;
      if (!index.get(id)) return false;
      await store.write({ delete: [id] });
      return index.delete(id);
    });
    writeChain = job.catch(() => {});
    if (!(await job)) throw new HttpError(404, "NOT_FOUND", `No reference with id "${id}"`);
    snapshots?.changed(1);
    await maybeCompact();
    return c.body(null, 204);
  };
  app.delete("/v1/references/:id", deleteReference);
  app.delete("/v1/references", deleteReference);

  async function maybeCompact() {
    const s = store as ReferenceStore & { needsCompaction?: boolean };
    if (s.needsCompaction && s.compact) {
      const job = writeChain.then(() => s.compact!(index.entries()));
      writeChain = job.catch(() => {});
      await job;
    }
  }

  return {
    app,
    index,
    opened: {
      source: opened.source,
      applied: opened.applied,
      ms: opened.ms,
      ...(opened.fallback ? { fallback: opened.fallback } : {}),
      ...(opened.phases ? { phases: opened.phases } : {}),
    },
    ...(snapshots ? { snapshots } : {}),
    async close() {
      unwatch?.();
      await writeChain;
      await snapshots?.close();
      await writeChain;
      await store.close();
      index.dispose();
    },
  };
}

/**
 * Read a request body, counting bytes while it streams (chunked bodies included) and cancelling
 * it at the limit, and giving up when it does not arrive in time.
 *
 * @param req the request
 * @param maxBytes the body limit
 * @param timeoutMs how long the whole body may take
 * @returns the body bytes
 * @throws {HttpError} 413 TOO_LARGE over the limit, 408 TIMEOUT when too slow
 */
export async function readBody(req: Request, maxBytes: number, timeoutMs: number): Promise<Uint8Array> {
  const declared = Number(req.headers.get("content-length") ?? "0");
  if (declared > maxBytes) {
    throw new HttpError(413, "TOO_LARGE", `Request body is ${declared} bytes; the limit is ${maxBytes}`);
  }
  if (!req.body) return new Uint8Array(0);
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new HttpError(408, "TIMEOUT", `Request body did not arrive within ${timeoutMs} ms`)),
      timeoutMs,
    );
  });
  try {
    for (;;) {
      const { done, value } = await Promise.race([reader.read(), timeout]);
      if (done) break;
      total += value.length;
      if (total > maxBytes) {
        throw new HttpError(413, "TOO_LARGE", `Request body is over ${maxBytes} bytes; the limit is ${maxBytes}`);
      }
      chunks.push(value);
    }
  } catch (e) {
    reader.cancel().catch(() => {});
    throw e;
  } finally {
    clearTimeout(timer);
  }
  if (chunks.length === 1) return chunks[0];
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
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
