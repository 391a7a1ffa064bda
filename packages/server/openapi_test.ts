import { test } from "node:test";
import assert from "node:assert/strict";
import { INDEX_KIND_REGISTRY } from "@likeness/backend";
import { openApiDocument, vectorOnlyModel } from "@likeness/server";

test("the OpenAPI index kinds and their parameters are read from INDEX_KIND_REGISTRY", () => {
  const doc = openApiDocument(vectorOnlyModel(3), { maxK: 100, maxItems: 10 }) as {
    components: { schemas: Record<string, { enum?: string[]; oneOf?: Record<string, unknown>[] }> };
  };
  const { IndexKind, IndexOptions } = doc.components.schemas;
  assert.deepEqual(IndexKind.enum, INDEX_KIND_REGISTRY.names());
  assert.deepEqual(IndexOptions.oneOf!.map((v) => v.title), INDEX_KIND_REGISTRY.names());
  const int8 = IndexOptions.oneOf!.find((v) => v.title === "int8") as {
    properties: Record<string, Record<string, unknown>>;
    required: string[];
  };
  assert.deepEqual(int8.required, ["kind", "dim"]);
  assert.deepEqual(int8.properties.kind, { const: "int8" });
  assert.deepEqual(int8.properties.oversample, {
    type: "integer",
    minimum: 1,
    maximum: 1024,
    description: "Rerank the best k × oversample candidates in float32.",
    default: 4,
  });
  const hnsw = IndexOptions.oneOf!.find((v) => v.title === "hnsw") as { properties: Record<string, unknown> };
  assert.equal((hnsw.properties.hnsw as { properties: Record<string, { default: number }> }).properties.M.default, 16);
});
