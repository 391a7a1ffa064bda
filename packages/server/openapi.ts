/**
 * The OpenAPI 3.1 document served at /v1/openapi.json. Paths, request bodies and security are
 * read from the route modules (`routes/`), the same declarations the server mounts and checks
 * requests with. The index kinds and their parameters
 * (`components.schemas.IndexKind`, `IndexOptions`) are read from `INDEX_KIND_REGISTRY`, the one
 * declaration of each kind in `@likeness/backend`.
 *
 * @module
 */
import { INDEX_KIND_REGISTRY } from "@likeness/backend";
import { toJsonSchema } from "@likeness/core";
import type { ServedModel } from "./model.ts";
import { defineRoutes, route } from "./routes/_define.ts";
import type { DocEnv, Limits, RouteModule } from "./routes/context.ts";
import { ROUTE_MODULES } from "./routes/modules.ts";

/**
 * The index kinds as OpenAPI schemas: `IndexKind` (the names) and `IndexOptions` (one variant a
 * kind: its declared parameters with types, defaults and ranges).
 *
 * @returns `{ IndexKind, IndexOptions }`
 * @example
 * ```ts
 * import { indexKindSchemas } from "@likeness/server";
 * import assert from "node:assert/strict";
 * assert.deepEqual(indexKindSchemas().IndexKind.enum, ["flat", "int8", "binary", "hnsw"]);
 * ```
 */
export function indexKindSchemas(): { IndexKind: { enum: string[] }; IndexOptions: Record<string, unknown> } {
  const decls = INDEX_KIND_REGISTRY.list();
  return {
    IndexKind: {
      type: "string",
      enum: decls.map((d) => d.name),
      description: decls.map((d) => `${d.name}: ${d.summary}`).join(" "),
    } as { enum: string[] },
    IndexOptions: {
      oneOf: decls.map((d) => {
        const o = toJsonSchema(INDEX_KIND_REGISTRY.schema(d.name)) as { properties: object; required?: string[] };
        return {
          ...o,
          title: d.name,
          description: d.summary,
          properties: { kind: { const: d.name }, ...o.properties },
          required: ["kind", ...(o.required ?? [])],
        };
      }),
    },
  };
}

/**
 * Build the OpenAPI document for a model and limits: the paths, request bodies and security are
 * read from the route modules' declarations (`routes/`), the ones the server mounts.
 *
 * @param model the served model (name, dim)
 * @param limits request limits
 * @returns an OpenAPI 3.1 object
 * @example
 * ```ts
 * import { openApiDocument, vectorOnlyModel } from "@likeness/server";
 * import assert from "node:assert/strict";
 * const doc = openApiDocument(vectorOnlyModel(3), { maxK: 100 }) as { openapi: string; paths: object };
 * assert.equal(doc.openapi, "3.1.0");
 * assert.ok("/v1/search" in doc.paths);
 * ```
 */
export function openApiDocument(model: Pick<ServedModel, "name" | "dim">, limits: Limits): Record<string, unknown> {
  const env: DocEnv = { model, limits };
  return {
    openapi: "3.1.0",
    info: {
      title: "likeness inference server",
      version: "1",
      description: `Model ${model.name}, ${model.dim} dimensions`,
    },
    components: {
      schemas: {
        ...indexKindSchemas(),
        Error: {
          type: "object",
          properties: {
            error: { type: "object", properties: { code: { type: "string" }, message: { type: "string" } } },
          },
        },
      },
      securitySchemes: { bearer: { type: "http", scheme: "bearer" } },
    },
    paths: Object.assign({}, ...ROUTE_MODULES.map((m) => m.paths(env))),
  };
}

/** `GET /v1/openapi.json`: the document above, for the served model and limits. */
export const openApiRoutes: RouteModule = defineRoutes([
  route({
    method: "get",
    path: "/v1/openapi.json",
    access: "read",
    handle: (c, ctx) => c.json(openApiDocument(ctx.model, ctx.limits)),
  }),
]);
