/**
 * The calibration curve: precision and recall of "match" decisions at every distance (or
 * similarity) threshold, from scored held-out pairs.
 *
 * @module
 */
import { checkPositiveInt, ShapeError, ValueError } from "@likeness/core";
import type { CalibrationPoint } from "./types.ts";

/** Options for {@link calibrationCurve}. */
export interface CalibrationCurveOptions {
  /** Whether smaller scores mean "more similar" (distances; default true). False for similarities. */
  smallerIsCloser?: boolean;
  /** At most this many points, evenly spaced over the sorted pairs (default 200). */
  maxPoints?: number;
}

/**
 * Precision and recall at each threshold: a pair is called a match when its score is at most the
 * threshold (at least, for similarities). Thresholds are the pairs' own scores; precision is 1
 * when nothing is called a match, recall is 0 when there are no similar pairs.
 *
 * @param scores one distance (or similarity) per pair
 * @param same one label per pair: true / 1 when the pair is similar
 * @param options smallerIsCloser, maxPoints
 * @returns points sorted by threshold, closest first (ascending for distances, descending for similarities)
 * @throws {ShapeError} EMPTY_INPUT without pairs; LABEL_MISMATCH when lengths differ
 * @throws {ValueError} NON_FINITE for a NaN or infinite score; INVALID_ARGUMENT for a bad maxPoints
 * @example
 * ```ts
 * import { calibrationCurve } from "@likeness/report";
 * const c = calibrationCurve([0.1, 0.2, 0.3, 0.9], [1, 1, 0, 0]);
 * console.log(c[1]); // { threshold: 0.2, precision: 1, recall: 1 }
 * ```
 */
export function calibrationCurve(
  scores: ArrayLike<number>,
  same: ArrayLike<boolean | number>,
  options: CalibrationCurveOptions = {},
): CalibrationPoint[] {
  const n = scores.length;
  if (n === 0) throw new ShapeError("Cannot compute calibration curve: no pairs; pass scored pairs", "EMPTY_INPUT");
  if (same.length !== n) {
    throw new ShapeError(
      `Cannot compute calibration curve: ${n} scores but ${same.length} labels; pass one label per pair`,
      "LABEL_MISMATCH",
    );
  }
  const maxPoints = checkPositiveInt(options.maxPoints ?? 200, "maxPoints");
  const smaller = options.smallerIsCloser ?? true;
  for (let i = 0; i < n; i++) {
    if (!Number.isFinite(scores[i])) {
      throw new ValueError(
        "NON_FINITE",
        `Cannot compute calibration curve: score ${i} is ${scores[i]}; pass finite scores`,
      );
    }
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) =>
    smaller ? scores[a] - scores[b] || a - b : scores[b] - scores[a] || a - b
  );
  let positives = 0;
  for (let i = 0; i < n; i++) if (same[i]) positives++;
  // Cut after each distinct score (ties share a threshold).
  const cuts: CalibrationPoint[] = [];
  let tp = 0;
  for (let k = 0; k < n; k++) {
    if (same[order[k]]) tp++;
    if (k + 1 < n && scores[order[k + 1]] === scores[order[k]]) continue;
    cuts.push({ threshold: scores[order[k]], precision: tp / (k + 1), recall: positives > 0 ? tp / positives : 0 });
  }
  if (cuts.length <= maxPoints) return cuts;
  const out: CalibrationPoint[] = [];
  for (let i = 0; i < maxPoints; i++) out.push(cuts[Math.round((i * (cuts.length - 1)) / Math.max(1, maxPoints - 1))]);
  return out;
}
