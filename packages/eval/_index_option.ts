/**
 * The `index` option of the evaluators (private): which resident index kind of
 * `@likeness/backend` holds the reference set, with its parameters. One check, read by
 * `exactKnn` (and so `computeAccuracy`, `evaluateHeldOut`) and `mineHardNegatives`.
 *
 * @module
 */
import { checkOneOf, ValueError } from "@likeness/core";
import { INDEX_KINDS, type IndexOptions } from "@likeness/backend";
import type { EvalIndexOption } from "./knn.ts";

/** The index option as `createIndex` options without `dim` and `metric` (kind checked here, parameters there). */
export function indexOptionsOf(option: EvalIndexOption): Omit<IndexOptions, "dim"> {
  if (typeof option === "string") return { kind: checkOneOf(option, INDEX_KINDS, "index kind") };
  if (option === null || typeof option !== "object") {
    throw new ValueError(
      "INVALID_ARGUMENT",
      `Invalid index option ${JSON.stringify(option)}: pass a kind ("hnsw") or { kind, hnsw?, oversample? }`,
    );
  }
  const kind = checkOneOf(option.kind, INDEX_KINDS, "index kind");
  return { kind, hnsw: option.hnsw, oversample: option.oversample };
}
