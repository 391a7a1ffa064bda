/**
 * The declarations of the resident index kinds ({@link INDEX_KIND_REGISTRY}): `flat`, `int8`,
 * `binary` and `hnsw`, each with its summary and parameters (types, defaults, ranges), built by
 * `createIndex`. The server's OpenAPI document and the docs read them; a test checks that they
 * cover {@link INDEX_KINDS} exactly. A new kind adds its module (which calls `registerIndexKind`)
 * and one `INDEX_KIND_REGISTRY.register` entry here.
 *
 * @example
 * ```ts
 * import { INDEX_KIND_REGISTRY } from "@likeness/backend";
 * import assert from "node:assert/strict";
 * const index = await INDEX_KIND_REGISTRY.create("int8", { dim: 4, metric: "l2", oversample: 8 });
 * assert.equal(index.info().kind, "int8");
 * index.dispose();
 * await assert.rejects(async () => await INDEX_KIND_REGISTRY.create("int9", { dim: 4 }), { code: "UNKNOWN_NAME" });
 * ```
 *
 * @module
 */
import { ComponentRegistry, s, type Schema } from "@likeness/core";
import { METRICS } from "@likeness/kernels/types";
import type { Backend } from "./types.ts";
import { HNSW_CODES, type IndexKind, type IndexOptions, type VectorIndex } from "./index_types.ts";
import { createIndex } from "./vector_index.ts";
import { HNSW_PARAM_RANGES } from "./hnsw_index.ts";

/** Every index kind `createIndex` builds; `backend` is passed live beside the JSON parameters. */
export const INDEX_KIND_REGISTRY: ComponentRegistry<Promise<VectorIndex>> = new ComponentRegistry<
  Promise<VectorIndex>
>("index kind");

const common: Record<string, Schema> = {
  dim: s.number({ integer: true, min: 1, max: 65536, summary: "Vector dimension." }),
  metric: { ...s.enum("metric", METRICS, "cosine"), summary: "Metric; cosine normalises vectors once at add time." },
  capacity: { ...s.positiveInt(1024), summary: "Initial capacity in rows (grows by doubling)." },
};
const oversample = (dflt: number): Schema => ({
  ...s.number({ integer: true, min: 1, max: 1024, default: dflt }),
  summary: "Rerank the best k × oversample candidates in float32.",
});
const range = (k: keyof typeof HNSW_PARAM_RANGES, summary: string): Schema => {
  const [min, max, dflt] = HNSW_PARAM_RANGES[k];
  return s.number({ integer: true, min, max, default: dflt, summary });
};

function declareKind(kind: IndexKind, summary: string, params: Record<string, Schema>): void {
  INDEX_KIND_REGISTRY.register({
    name: kind,
    summary,
    params: { ...common, ...params },
    required: ["dim"],
    example: { dim: 4 },
    create: (p) => {
      const { backend, ...options } = p;
      return createIndex({ ...options, kind } as unknown as IndexOptions, backend as Backend | undefined);
    },
  });
}

declareKind("flat", "Exact float32 search over every row.", {});
declareKind("int8", "Per-dimension int8 codes and int8 scores, exact float32 rerank of k × oversample.", {
  oversample: oversample(4),
});
declareKind("binary", "Sign bits and a Hamming prefilter, exact float32 rerank of k × oversample.", {
  oversample: oversample(16),
});
declareKind("hnsw", "HNSW graph (approximate), seeded: one seed and insertion order give the same graph.", {
  hnsw: s.object({
    M: range("M", "Neighbours per node above layer 0 (layer 0 keeps 2·M)."),
    efConstruction: range("efConstruction", "Candidate list size while building."),
    efSearch: range("efSearch", "Candidate list size while searching (≥ k is used)."),
    seed: range("seed", "Seed of the level assignment."),
    codes: {
      ...s.enum("codes", HNSW_CODES, "float32"),
      summary: "What the search walks on: float32 rows, or int8 codes with a float32 rerank of the best efSearch.",
    },
  }),
});
