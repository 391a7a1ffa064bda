/**
 * What a route module sees of the server: {@link RouteContext}, built once by `createApp` and
 * shared by every module, and {@link RouteModule}, what a module declares (its routes, each with
 * its access rule, request body and OpenAPI description).
 *
 * @module
 */
import type { Context, Hono } from "hono";
import type { ReferenceIndex, ReferenceItem } from "../reference_index.ts";
import type { SnapshotWriter } from "../index_snapshot.ts";
import type { Metrics } from "../metrics.ts";
import type { ServedModel } from "../model.ts";
import type { SearchHit } from "../searcher.ts";
import type { ReferenceStore, StoreHealth } from "../store.ts";

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

/** Search, get and count over the references, whether the index is resident or the store answers. */
export interface ReferenceReader {
  /** Where searches run: `memory`, or the store's `query.mode` (e.g. `postgres`). */
  readonly mode: string;
  /** Nearest first, cosine similarity as `score`. */
  search(vector: Float32Array, k: number, label?: string): Promise<SearchHit[]>;
  /** One live item, or undefined. */
  get(id: string): Promise<ReferenceItem | undefined>;
  /** Live items. */
  count(): Promise<number>;
}

/** Durable writes, serialised in call order: durable first, then visible. */
export interface ReferenceWriter {
  /** Put items (all checked); resolves once they are durable and searchable. */
  put(items: readonly ReferenceItem[]): Promise<{ added: number; updated: number }>;
  /** Delete one id; false when it was not live. */
  delete(id: string): Promise<boolean>;
}

/** How the resident index was opened (reported by /v1/health). */
export interface OpenedIndex {
  /** From a snapshot (plus later changes) or from every stored reference. */
  source: "snapshot" | "store";
  /** Changes applied on top of the snapshot (or items loaded). */
  applied: number;
  /** Milliseconds it took. */
  ms: number;
}

/** Everything the route modules use, and nothing else. */
export interface RouteContext {
  /** The served model: name, dim, encode, input check, threshold. */
  readonly model: ServedModel;
  /** Request limits, defaults filled in. */
  readonly limits: Required<Limits>;
  /** Bearer-token auth. */
  readonly auth: AuthOptions;
  /** Prometheus counters (the request and error counts are kept by the app itself). */
  readonly metrics: Pick<Metrics, "render">;
  /** The backend's name (reported by /v1/health). */
  readonly backendName: string;
  /** What the store reports: its description and health (health `ok` when it reports none). */
  readonly store: Pick<ReferenceStore, "describe"> & { health(): StoreHealth };
  /** Search, get and count. */
  readonly searcher: ReferenceReader;
  /** Put and delete. */
  readonly writer: ReferenceWriter;
  /** The resident index, how it was opened and its snapshots; absent when the store answers queries. */
  readonly index?: {
    readonly view: Pick<ReferenceIndex, "kind" | "size" | "info">;
    readonly opened: OpenedIndex;
    readonly snapshots?: Pick<SnapshotWriter, "enabled" | "path" | "status">;
  };
}

/**
 * Who may call a route: `open` (anyone; the handler decides what to show), `read` (anyone, or
 * only token holders with `protectReads`), `write` (token holders, and only on a writable server).
 */
export type Access = "open" | "read" | "write";

/** What the OpenAPI document knows when it is built (no live server needed). */
export interface DocEnv {
  /** The model's name and dimension. */
  model: Pick<ServedModel, "name" | "dim">;
  /** The limits (missing ones are left out of the schemas). */
  limits: Limits;
}

/** A JSON Schema object, as OpenAPI 3.1 uses. */
export type JsonSchema = Record<string, unknown>;

/**
 * A part of a request body: the keys it reads, their JSON Schemas (read by the OpenAPI document)
 * and the check that turns them into a value (read by the route). One declaration serves both.
 */
export interface BodyPart<T> {
  /** The keys' JSON Schemas, for the document. */
  schemas(env: DocEnv): Record<string, JsonSchema>;
  /** Keys that must be present (documented as `required`). */
  readonly required?: readonly string[];
  /**
   * Check the body's keys; throws `HttpError`s or core's typed errors.
   *
   * @param body the whole request object
   * @param ctx the route context (model, limits)
   */
  parse(body: Record<string, unknown>, ctx: RouteContext): T | Promise<T>;
}

/** A request body: named parts, checked in declaration order. */
export type BodySpec = Record<string, BodyPart<unknown>>;

/** The checked value of a {@link BodySpec}. */
export type BodyOf<B extends BodySpec> = { [K in keyof B]: B[K] extends BodyPart<infer T> ? T : never };

/** One route: method, path, access, body, handler and its OpenAPI operation. */
export interface Route<B extends BodySpec = BodySpec> {
  /** HTTP method. */
  method: "get" | "post" | "delete";
  /** Path in Hono syntax (`/v1/references/:id`); the document writes `:id` as `{id}`. */
  path: string;
  /** Who may call it. */
  access: Access;
  /** The JSON body it takes (read with the limits, then checked part by part). */
  body?: B;
  /** The OpenAPI operation beside the request body and security, which are filled in from `body` and `access`. */
  doc?(env: DocEnv): JsonSchema;
  /** Answer the request; `body` is the checked body (an empty object without `body`). */
  handle(c: Context, ctx: RouteContext, body: BodyOf<B>): Response | Promise<Response>;
}

/** A group of routes (health, embed, query, references, openapi), mounted with `app.route()`. */
export interface RouteModule {
  /** Its routes. */
  readonly routes: readonly Route[];
  /** A Hono app serving them over a context. */
  mount(ctx: RouteContext): Hono;
  /** Their OpenAPI `paths` entries. */
  paths(env: DocEnv): Record<string, Record<string, JsonSchema>>;
}
