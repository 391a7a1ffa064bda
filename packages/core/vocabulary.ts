/**
 * One vocabulary for the names users type (distances, triplet selections), with the peers'
 * spellings as documented aliases, so `l2`, `euclidean` and pml's `LpDistance` name the same thing
 * wherever a name is accepted.
 *
 * | canonical (losses)  | backend / kernels metric | also accepted                     |
 * | ------------------- | ------------------------ | --------------------------------- |
 * | `euclidean`         | `l2`                     | `lp`, `l2`                        |
 * | `squared_euclidean` | `sqeuclidean`            | `sqeuclidean`, `lp_squared`       |
 * | `manhattan`         | `l1`                     | `l1`, `cityblock`                 |
 * | `cosine`            | `cosine`                 | `cosine_similarity`               |
 * | `dot`               | `dot`                    | `dot_product`                     |
 *
 * Triplet selection: `semihard` (pytorch-metric-learning, the miners and kernels) and `semi_hard`
 * (Quaterion's TripletLoss) are accepted by both.
 *
 * @module
 */
import { checkOneOf } from "./validate.ts";

/** Peer and backend spellings of the loss distances, mapped to likeness's names. */
export const DISTANCE_ALIASES: Readonly<Record<string, string>> = {
  l2: "euclidean",
  lp: "euclidean",
  sqeuclidean: "squared_euclidean",
  lp_squared: "squared_euclidean",
  l1: "manhattan",
  cityblock: "manhattan",
  cosine_similarity: "cosine",
  dot_product: "dot",
};

/** Backend metric of each loss distance name (`Backend.pairwise`'s `metric`). */
export const METRIC_OF_DISTANCE: Readonly<Record<string, string>> = {
  euclidean: "l2",
  squared_euclidean: "sqeuclidean",
  manhattan: "l1",
  cosine: "cosine",
  dot: "dot",
};

/** Both spellings of semi-hard triplet selection. */
export const SEMIHARD_ALIASES: Readonly<Record<string, string>> = { semi_hard: "semihard", semihard: "semi_hard" };

/**
 * Check a name against the allowed ones, first mapping a documented alias to its canonical name.
 *
 * @param value the given name
 * @param allowed canonical names
 * @param what what the name selects (for the message)
 * @param aliases alias → canonical name (an alias whose target is not allowed is ignored)
 * @returns the canonical name
 * @throws {ValueError} UNKNOWN_NAME listing the allowed names
 * @example
 * ```ts
 * import { checkName, DISTANCE_ALIASES } from "@likeness/core";
 * import assert from "node:assert/strict";
 * const names = ["cosine", "euclidean"] as const;
 * assert.equal(checkName("l2", names, "distance", DISTANCE_ALIASES), "euclidean");
 * assert.equal(checkName("cosine", names, "distance", DISTANCE_ALIASES), "cosine");
 * ```
 */
export function checkName<T extends string>(
  value: unknown,
  allowed: readonly T[],
  what: string,
  aliases: Readonly<Record<string, string>> = {},
): T {
  if (typeof value === "string" && !(allowed as readonly string[]).includes(value)) {
    const target = aliases[value];
    if (target !== undefined && (allowed as readonly string[]).includes(target)) return target as T;
  }
  return checkOneOf(value, allowed, what);
}
