/**
 * The OpenAPI 3.1 document served at /v1/openapi.json. The index kinds and their parameters
 * (`components.schemas.IndexKind`, `IndexOptions`) are read from `INDEX_KIND_REGISTRY`, the one
 * declaration of each kind in `@likeness/backend`.
 *
 * @module
 */
import { INDEX_KIND_REGISTRY } from "@likeness/backend";
import { toJsonSchema } from "@likeness/core";
import type { ServedModel } from "./model.ts";

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

const err = { $ref: "#/components/schemas/Error" };
const errors = {
  "400": { description: "Malformed JSON", content: { "application/json": { schema: err } } },
  "401": { description: "Missing or wrong bearer token", content: { "application/json": { schema: err } } },
  "413": {
    description: "Body, item count or dimension over the limit",
    content: { "application/json": { schema: err } },
  },
  "422": { description: "Invalid values (dimension, non-finite, k)", content: { "application/json": { schema: err } } },
};

/**
 * Build the OpenAPI document for a model and limits.
 *
 * @param model the served model (name, dim)
 * @param limits request limits
 * @returns an OpenAPI 3.1 object
 * @example
 * ```ts
 * import { openApiDocument, vectorOnlyModel } from "@likeness/server";
 * console.log(openApiDocument(vectorOnlyModel(3), { maxK: 100 }).openapi); // 3.1.0
 * ```
 */
export function openApiDocument(model: ServedModel, limits: Record<string, number>): Record<string, unknown> {
  const query = {
    type: "object",
    properties: {
      input: { description: "Raw input for the model's encoder (string or flat number array)" },
      vector: { type: "array", items: { type: "number" }, minItems: model.dim, maxItems: model.dim },
      k: { type: "integer", minimum: 1, maximum: limits.maxK },
      label: { type: "string", description: "Only return references with this label" },
    },
  };
  const hit = {
    type: "object",
    properties: { id: { type: "string" }, label: { type: "string" }, score: { type: "number" }, payload: {} },
  };
  const json = (schema: unknown) => ({ "application/json": { schema } });
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
    paths: {
      "/v1/embed": {
        post: {
          requestBody: json({ type: "object", properties: { inputs: { type: "array", maxItems: limits.maxItems } } }),
          responses: { "200": { description: "Embeddings", content: json({ type: "object" }) }, ...errors },
        },
      },
      "/v1/search": {
        post: {
          requestBody: { content: json(query) },
          responses: {
            "200": {
              description: "Nearest first",
              content: json({ type: "object", properties: { results: { type: "array", items: hit } } }),
            },
            ...errors,
          },
        },
      },
      "/v1/classify": {
        post: {
          requestBody: { content: json(query) },
          responses: {
            "200": { description: "Label or null (open set)", content: json({ type: "object" }) },
            ...errors,
          },
        },
      },
      "/v1/references": {
        post: {
          security: [{ bearer: [] }],
          requestBody: {
            content: json({ type: "object", properties: { items: { type: "array", maxItems: limits.maxItems } } }),
          },
          responses: {
            "200": { description: "{ added, updated }", content: json({ type: "object" }) },
            "409": { description: "Read-only replica", content: json(err) },
            "507": { description: "Disk full: nothing of the batch was stored", content: json(err) },
            ...errors,
          },
        },
        get: {
          description: "The item with `?id=` (any id, also `.` and `..`, which Bun removes from paths)",
          parameters: [{ name: "id", in: "query", required: true, schema: { type: "string" } }],
          responses: { "200": { description: "The item without its vector" }, "404": { description: "Unknown id" } },
        },
        delete: {
          security: [{ bearer: [] }],
          parameters: [{ name: "id", in: "query", required: true, schema: { type: "string" } }],
          responses: {
            "204": { description: "Deleted" },
            "404": { description: "Unknown id" },
            "507": { description: "Disk full: not deleted" },
          },
        },
      },
      "/v1/references/{id}": {
        get: {
          responses: { "200": { description: "The item without its vector" }, "404": { description: "Unknown id" } },
        },
        delete: {
          security: [{ bearer: [] }],
          responses: { "204": { description: "Deleted" }, "404": { description: "Unknown id" } },
        },
      },
      "/v1/health": {
        get: {
          responses: {
            "200": {
              description: "status (ok or degraded while writes fail); with the token or without --protect-reads " +
                "also detail, readOnly, references, backend, model, dim, store",
            },
          },
        },
      },
      "/metrics": { get: { responses: { "200": { description: "Prometheus text format" } } } },
    },
  };
}
