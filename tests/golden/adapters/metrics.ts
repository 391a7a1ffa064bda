/**
 * Golden adapters for the evaluation metrics: pytorch-metric-learning's AccuracyCalculator
 * (query vs reference, and reference vs itself with the self match excluded; pml's default
 * `k=None` is likeness's `k: "all"`) and Quaterion's GroupRetrievalMetrics (per-query
 * retrieval precision@k with the diagonal excluded).
 *
 * @module
 */
import { computeAccuracy, exactKnn, retrievalPerQuery } from "@likeness/eval";
import type { Metric } from "@likeness/backend";
import { type GoldenAdapter, type GoldenCase, inputMatrix, inputVector } from "../types.ts";

function metricOf(c: GoldenCase): Metric {
  const d = String(c.params.distance ?? "cosine");
  if (d === "cosine") return "cosine";
  if (d === "euclidean") return "l2"; // pml LpDistance on raw embeddings, as its CustomKNN uses it
  if (d === "dot_product") return "dot";
  if (d === "manhattan") return "l1";
  throw new Error(`case ${c.id}: no likeness metric for distance "${d}"`);
}

const PML_FIELDS = ["precision_at_1", "r_precision", "mean_average_precision_at_r", "mean_reciprocal_rank"] as const;

const accuracyCalculator: GoldenAdapter = {
  name: "pml AccuracyCalculator",
  matches: (c) => c.lib === "pml" && c.name === "AccuracyCalculator",
  async run(c) {
    const metric = metricOf(c);
    const query = { embeddings: inputMatrix(c, "query"), labels: inputVector(c, "query_labels") };
    const reference = { embeddings: inputMatrix(c, "reference"), labels: inputVector(c, "reference_labels") };
    const options = { metric, k: "all" as const, include: PML_FIELDS };
    const a = await computeAccuracy(query, reference, options);
    const b = await computeAccuracy(reference, undefined, options);
    return { query_vs_reference: a.metrics, reference_vs_itself: b.metrics };
  },
};

const groupRetrieval: GoldenAdapter = {
  name: "quaterion GroupRetrievalMetrics",
  matches: (c) => c.lib === "quaterion" && c.name === "GroupRetrievalMetrics",
  async run(c) {
    const embeddings = inputMatrix(c, "embeddings");
    const groups = inputVector(c, "groups");
    const out: Record<string, unknown> = {};
    for (const field of Object.keys(c.expected)) {
      const m = /^retrieval_precision_at_(\d+)$/.exec(field);
      if (!m) continue;
      const k = Number(m[1]);
      const knn = await exactKnn(embeddings, embeddings, { k, metric: metricOf(c), excludeSelf: true });
      const relevant = new Uint8Array(embeddings.length * k);
      const counts = new Int32Array(embeddings.length);
      for (let i = 0; i < embeddings.length; i++) {
        for (let t = 0; t < k; t++) relevant[i * k + t] = groups[knn.indices[i * k + t]] === groups[i] ? 1 : 0;
        counts[i] = groups.filter((g, j) => j !== i && g === groups[i]).length;
      }
      out[field] = Array.from(retrievalPerQuery(relevant, counts).precisionAtK);
    }
    return out;
  },
};

/** Adapters of this group. */
export const adapters: GoldenAdapter[] = [accuracyCalculator, groupRetrieval];
