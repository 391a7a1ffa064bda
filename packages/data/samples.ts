/**
 * Sample types as Quaterion defines them: a pair with a similarity score and an optional
 * subgroup (`SimilarityPairSample`), and an object with a group id (`SimilarityGroupSample`).
 *
 * @module
 */
import { ShapeError, ValueError } from "@likeness/core";

/**
 * Two objects and how similar they are. `subgroup` groups pairs that belong together (in
 * Quaterion's example, all pairs of one query share a subgroup); losses that take negatives
 * from other pairs of the batch use it to decide which pairs may serve as negatives.
 */
export interface SimilarityPairSample<T = unknown> {
  /** First object. */
  objA: T;
  /** Second object. */
  objB: T;
  /** Similarity score (1 = similar, 0 = not; any finite number for regression losses). */
  score: number;
  /** Subgroup id, as Quaterion uses it (default 0). */
  subgroup: number;
}

/** An object and the group it belongs to: objects of one group are similar to each other. */
export interface SimilarityGroupSample<T = unknown> {
  /** The object. */
  obj: T;
  /** Group id (class). */
  group: number | string;
}

/**
 * Build a validated {@link SimilarityPairSample}.
 *
 * @param objA first object
 * @param objB second object
 * @param options score (default 1) and subgroup (default 0)
 * @returns the sample
 * @throws {ValueError} NON_FINITE for a non-finite score; INVALID_ARGUMENT for a non-integer subgroup
 * @example
 * ```ts
 * import { pairSample } from "@likeness/data";
 * const s = pairSample("How old are you?", "What is your age?", { score: 1 });
 * console.log(s.subgroup); // 0
 * ```
 */
export function pairSample<T>(
  objA: T,
  objB: T,
  options: { score?: number; subgroup?: number } = {},
): SimilarityPairSample<T> {
  const s: SimilarityPairSample<T> = { objA, objB, score: options.score ?? 1, subgroup: options.subgroup ?? 0 };
  checkPair(s, 0);
  return s;
}

/**
 * Build a validated {@link SimilarityGroupSample}.
 *
 * @param obj the object
 * @param group its group id
 * @returns the sample
 * @throws {ShapeError} LABEL_MISMATCH when the group is missing or not finite
 * @example
 * ```ts
 * import { groupSample } from "@likeness/data";
 * console.log(groupSample([0.1, 0.2], 3).group); // 3
 * ```
 */
export function groupSample<T>(obj: T, group: number | string): SimilarityGroupSample<T> {
  const s = { obj, group };
  checkGroup(s, 0);
  return s;
}

function checkPair(s: SimilarityPairSample<unknown>, i: number): void {
  if (s === null || typeof s !== "object") {
    throw new ShapeError(`Cannot use pair sample ${i}: expected { objA, objB, score, subgroup }`, "SHAPE_MISMATCH");
  }
  if (s.objA === undefined || s.objB === undefined) {
    throw new ShapeError(`Cannot use pair sample ${i}: objA and objB are required`, "EMPTY_INPUT");
  }
  if (typeof s.score !== "number" || !Number.isFinite(s.score)) {
    throw new ValueError("NON_FINITE", `Cannot use pair sample ${i}: score is ${s.score}; pass a finite number`, {
      details: { index: i },
    });
  }
  if (!Number.isInteger(s.subgroup)) {
    throw new ValueError(
      "INVALID_ARGUMENT",
      `Cannot use pair sample ${i}: subgroup is ${s.subgroup}; pass an integer (0 when unused)`,
    );
  }
}

function checkGroup(s: SimilarityGroupSample<unknown>, i: number): void {
  if (s === null || typeof s !== "object" || s.obj === undefined) {
    throw new ShapeError(`Cannot use group sample ${i}: expected { obj, group }`, "EMPTY_INPUT");
  }
  const g = s.group;
  if (!(typeof g === "string" || (typeof g === "number" && Number.isFinite(g)))) {
    throw new ShapeError(
      `Cannot use group sample ${i}: group is ${g}; give every sample a group (number or string)`,
      "LABEL_MISMATCH",
      { details: { index: i } },
    );
  }
}

/**
 * Validate a list of pair samples (e.g. parsed from JSONL).
 *
 * @param samples the samples
 * @returns the same array, typed
 * @throws {ShapeError} EMPTY_INPUT for an empty list or missing objects
 * @throws {ValueError} NON_FINITE / INVALID_ARGUMENT naming the first bad sample
 * @example
 * ```ts
 * import { checkPairSamples } from "@likeness/data";
 * checkPairSamples([{ objA: "a", objB: "b", score: 1, subgroup: 0 }]);
 * ```
 */
export function checkPairSamples<T>(samples: readonly SimilarityPairSample<T>[]): readonly SimilarityPairSample<T>[] {
  if (!Array.isArray(samples) || samples.length === 0) {
    throw new ShapeError("Cannot use pair samples: the list is empty; pass at least one", "EMPTY_INPUT");
  }
  samples.forEach((s, i) => checkPair(s, i));
  return samples;
}

/**
 * Validate a list of group samples.
 *
 * @param samples the samples
 * @returns the same array, typed
 * @throws {ShapeError} EMPTY_INPUT for an empty list; LABEL_MISMATCH naming the first missing group
 * @example
 * ```ts
 * import { checkGroupSamples } from "@likeness/data";
 * checkGroupSamples([{ obj: "a", group: 0 }, { obj: "b", group: 0 }]);
 * ```
 */
export function checkGroupSamples<T>(
  samples: readonly SimilarityGroupSample<T>[],
): readonly SimilarityGroupSample<T>[] {
  if (!Array.isArray(samples) || samples.length === 0) {
    throw new ShapeError("Cannot use group samples: the list is empty; pass at least one", "EMPTY_INPUT");
  }
  samples.forEach((s, i) => checkGroup(s, i));
  return samples;
}
