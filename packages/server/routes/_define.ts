/**
 * `defineRoutes()`: turns a module's route declarations into a Hono app (access check, body read
 * and checked part by part, then the handler) and into OpenAPI `paths` entries, from the same
 * declarations.
 *
 * @module
 */
import { Hono } from "hono";
import type { Context } from "hono";
import { timingSafeEqualStrings } from "../auth.ts";
import { HttpError } from "../http_errors.ts";
import { readBody } from "../read_body.ts";
import { jsonContent } from "./_doc.ts";
import type { Access, BodyOf, BodySpec, DocEnv, JsonSchema, Route, RouteContext, RouteModule } from "./context.ts";

/** Throw 401 unless the request carries the configured bearer token (no token configured: anyone). */
function requireToken(c: Context, ctx: RouteContext): void {
  const token = ctx.auth.token;
  if (!token) return;
  const m = /^Bearer (.+)$/.exec(c.req.header("authorization") ?? "");
  if (!m || !timingSafeEqualStrings(m[1], token)) {
    throw new HttpError(401, "UNAUTHORIZED", "Missing or wrong bearer token: send `Authorization: Bearer <token>`");
  }
}

/**
 * Apply an access rule to a request.
 *
 * @param c the request
 * @param ctx the route context (auth, store health)
 * @param access the rule
 * @throws {HttpError} 401 UNAUTHORIZED without the token; 409 READ_ONLY for a write to a replica
 */
export function checkAccess(c: Context, ctx: RouteContext, access: Access): void {
  if (access === "read" && ctx.auth.protectReads) requireToken(c, ctx);
  if (access === "write") {
    requireToken(c, ctx);
    if (ctx.store.health().readOnly) {
      throw new HttpError(409, "READ_ONLY", "This server is a read-only replica; send writes to the writer");
    }
  }
}

/** Read the body as a JSON object, within the body limits. */
async function readJson(c: Context, ctx: RouteContext): Promise<Record<string, unknown>> {
  const buf = await readBody(c.req.raw, ctx.limits.maxBodyBytes, ctx.limits.bodyTimeoutMs);
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
}

/**
 * Read and check a body part by part, in declaration order.
 *
 * @param spec the parts
 * @param body the request object
 * @param ctx the route context
 * @returns each part's checked value
 */
async function parseBody<B extends BodySpec>(spec: B, body: Record<string, unknown>, ctx: RouteContext) {
  const out: Record<string, unknown> = {};
  for (const [name, part] of Object.entries(spec)) out[name] = await part.parse(body, ctx);
  return out as BodyOf<B>;
}

/**
 * The JSON Schema of a body, from its parts' declarations.
 *
 * @param spec the parts
 * @param env model and limits
 * @returns an object schema
 */
export function bodySchema(spec: BodySpec, env: DocEnv): JsonSchema {
  const properties: Record<string, JsonSchema> = {};
  const required: string[] = [];
  for (const part of Object.values(spec)) {
    Object.assign(properties, part.schemas(env));
    required.push(...(part.required ?? []));
  }
  return { type: "object", properties, ...(required.length ? { required } : {}) };
}

/** A route with its body type checked against its handler (the module's list holds them as {@link Route}). */
export function route<B extends BodySpec>(r: Route<B>): Route {
  return r as unknown as Route;
}

/**
 * A route module from its declarations.
 *
 * @param routes the module's routes
 * @returns the module: `mount(ctx)` for `app.route()`, `paths(env)` for the OpenAPI document
 */
export function defineRoutes(routes: readonly Route[]): RouteModule {
  return {
    routes,
    mount(ctx: RouteContext): Hono {
      const app = new Hono();
      for (const r of routes) {
        app.on(r.method.toUpperCase(), r.path, async (c) => {
          checkAccess(c, ctx, r.access);
          const body = r.body ? await parseBody(r.body, await readJson(c, ctx), ctx) : {};
          return await r.handle(c, ctx, body);
        });
      }
      return app;
    },
    paths(env: DocEnv) {
      const paths: Record<string, Record<string, JsonSchema>> = {};
      for (const r of routes) {
        if (!r.doc) continue;
        const path = r.path.replace(/:(\w+)/g, "{$1}");
        paths[path] ??= {};
        paths[path][r.method] = {
          ...(r.access === "write" ? { security: [{ bearer: [] }] } : {}),
          ...(r.body ? { requestBody: { content: jsonContent(bodySchema(r.body, env)) } } : {}),
          ...r.doc(env),
        };
      }
      return paths;
    },
  };
}
