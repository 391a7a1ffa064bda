/**
 * Pair metrics: accuracy, precision, recall and F1 at a distance (or similarity) threshold,
 * the best threshold, ranking average precision, and calibration of a threshold for a target
 * precision.
 *
 * @module
 */
import { checkOneOf, ShapeError, ValueError } from "@likeness/core";

/** Options shared by the pair metrics. */
export interface PairScoreOptions {
  /** Whether smaller scores mean "more similar" (distances; default true). False for similarities. */
  smallerIsCloser?: boolean;
}

/** Options for {@link pairMetrics}. */
export interface PairMetricsOptions extends PairScoreOptions {
  /** Decision threshold (a pair is predicted similar when `score ≤ threshold`, or `≥` for similarities). Default: the best one. */
  threshold?: number;
  /** What the best threshold maximises when none is given (default `accuracy`). */
  optimize?: "accuracy" | "f1";
}

/** Result of {@link pairMetrics} and {@link calibrateThreshold}. */
export interface PairMetrics {
  /** The threshold used. */
  threshold: number;
  /** Fraction of pairs classified correctly. */
  accuracy: number;
  /** Of the pairs predicted similar, the fraction that are (1 when none is predicted). */
  precision: number;
  /** Of the similar pairs, the fraction predicted similar. */
  recall: number;
  /** Harmonic mean of precision and recall (0 when both are 0). */
  f1: number;
  /** Ranking average precision over all pairs (threshold-free; sklearn's definition). */
  averagePrecision: number;
  /** Number of similar pairs. */
  positives: number;
  /** Number of dissimilar pairs. */
  negatives: number;
}

interface Sorted {
  score: Float64Array;
  pos: Uint8Array;
  n: number;
  positives: number;
  smaller: boolean;
}

function sortPairs(scores: ArrayLike<number>, same: ArrayLike<boolean | number>, options: PairScoreOptions): Sorted {
  const n = scores.length;
  if (n === 0) {
    throw new ShapeError("Cannot compute pair metrics: no pairs; pass at least one scored pair", "EMPTY_INPUT");
  }
  if (same.length !== n) {
    throw new ShapeError(
      `Cannot compute pair metrics: ${n} scores but ${same.length} labels; pass one same/different label per pair`,
      "LABEL_MISMATCH",
    );
  }
  const smaller = options.smallerIsCloser ?? true;
  const order = Array.from({ length: n }, (_, i) => i);
  for (let i = 0; i < n; i++) {
    if (!Number.isFinite(scores[i])) {
      throw new ValueError(
        "NON_FINITE",
        `Cannot compute pair metrics: score ${i} is ${scores[i]}; scores must be finite`,
      );
    }
  }
  // Closest first; stable on the index so ties keep input order.
  order.sort((a, b) => (smaller ? scores[a] - scores[b] : scores[b] - scores[a]) || a - b);
  const score = new Float64Array(n);
  const pos = new Uint8Array(n);
  let positives = 0;
  for (let t = 0; t < n; t++) {
    score[t] = scores[order[t]];
    pos[t] = same[order[t]] ? 1 : 0;
    positives += pos[t];
  }
  return { score, pos, n, positives, smaller };
}

function averagePrecisionOf(s: Sorted): number {
  if (s.positives === 0) return 0;
  // sklearn: sum over distinct thresholds of (R_t - R_{t-1}) * P_t.
  let tp = 0;
  let ap = 0;
  let prevRecall = 0;
  for (let t = 0; t < s.n; t++) {
    tp += s.pos[t];
    if (t + 1 < s.n && s.score[t + 1] === s.score[t]) continue;
    const recall = tp / s.positives;
    ap += (recall - prevRecall) * (tp / (t + 1));
    prevRecall = recall;
  }
  return ap;
}

function at(s: Sorted, predicted: number, tp: number, threshold: number, ap: number): PairMetrics {
  const fp = predicted - tp;
  const negatives = s.n - s.positives;
  const tn = negatives - fp;
  const precision = predicted === 0 ? 1 : tp / predicted;
  const recall = s.positives === 0 ? 0 : tp / s.positives;
  const f1 = tp === 0 ? 0 : (2 * precision * recall) / (precision + recall);
  return {
    threshold,
    accuracy: (tp + tn) / s.n,
    precision,
    recall,
    f1,
    averagePrecision: ap,
    positives: s.positives,
    negatives,
  };
}

/** Each cut: the first `p` pairs (closest first) predicted similar, only between distinct scores. */
function cuts(s: Sorted): { p: number; tp: number; threshold: number }[] {
  const out: { p: number; tp: number; threshold: number }[] = [];
  out.push({ p: 0, tp: 0, threshold: s.smaller ? -Infinity : Infinity });
  let tp = 0;
  for (let t = 0; t < s.n; t++) {
    tp += s.pos[t];
    if (t + 1 < s.n && s.score[t + 1] === s.score[t]) continue;
    const threshold = t + 1 < s.n ? (s.score[t] + s.score[t + 1]) / 2 : s.score[t];
    out.push({ p: t + 1, tp, threshold });
  }
  return out;
}

/**
 * Classification metrics of scored pairs at a threshold, and ranking average precision.
 * Without a threshold, the one maximising accuracy (or F1) is chosen among the midpoints
 * between consecutive distinct scores.
 *
 * @param scores one distance (or similarity) per pair
 * @param same one label per pair: true / 1 when the pair is similar
 * @param options threshold, smallerIsCloser, optimize
 * @returns threshold, accuracy, precision, recall, F1, average precision and counts
 * @throws {ShapeError} EMPTY_INPUT without pairs; LABEL_MISMATCH when lengths differ
 * @throws {ValueError} NON_FINITE for a bad score; UNKNOWN_NAME for a bad `optimize`
 * @example
 * ```ts
 * import { pairMetrics } from "@likeness/eval";
 * import assert from "node:assert/strict";
 * const m = pairMetrics([0.1, 0.2, 0.8, 0.9], [true, true, false, false]);
 * assert.deepEqual([m.accuracy, m.threshold], [1, 0.5]);
 * ```
 */
export function pairMetrics(
  scores: ArrayLike<number>,
  same: ArrayLike<boolean | number>,
  options: PairMetricsOptions = {},
): PairMetrics {
  const s = sortPairs(scores, same, options);
  const ap = averagePrecisionOf(s);
  if (options.threshold !== undefined) {
    const th = options.threshold;
    if (Number.isNaN(th)) throw new ValueError("NON_FINITE", "Cannot use threshold NaN; pass a number");
    let p = 0;
    let tp = 0;
    while (p < s.n && (s.smaller ? s.score[p] <= th : s.score[p] >= th)) tp += s.pos[p++];
    return at(s, p, tp, th, ap);
  }
  const goal = checkOneOf(options.optimize ?? "accuracy", ["accuracy", "f1"] as const, "optimize target");
  let best: PairMetrics | undefined;
  for (const c of cuts(s)) {
    const m = at(s, c.p, c.tp, c.threshold, ap);
    if (!best || m[goal] > best[goal]) best = m;
  }
  return best!;
}

/** Options for {@link calibrateThreshold}. */
export interface CalibrationOptions extends PairScoreOptions {
  /** Precision the threshold must reach (0 < p ≤ 1; default 0.99). */
  targetPrecision?: number;
}

/**
 * Calibrate a match threshold: the loosest threshold (highest recall) whose precision on these
 * pairs is at least `targetPrecision`, as TensorFlow Similarity's calibration does.
 *
 * @param scores one distance (or similarity) per pair, from held-out data
 * @param same one label per pair: true / 1 when similar
 * @param options targetPrecision, smallerIsCloser
 * @returns the metrics at the calibrated threshold
 * @throws {ShapeError} EMPTY_INPUT / LABEL_MISMATCH for bad input
 * @throws {ValueError} OUT_OF_RANGE for a bad target, or when no threshold reaches it (lower the target)
 * @example
 * ```ts
 * import { calibrateThreshold } from "@likeness/eval";
 * import assert from "node:assert/strict";
 * const c = calibrateThreshold([0.1, 0.2, 0.3, 0.9], [1, 1, 0, 0], { targetPrecision: 1 });
 * assert.deepEqual([c.threshold, c.recall], [0.25, 1]);
 * ```
 */
export function calibrateThreshold(
  scores: ArrayLike<number>,
  same: ArrayLike<boolean | number>,
  options: CalibrationOptions = {},
): PairMetrics {
  const target = options.targetPrecision ?? 0.99;
  if (!(target > 0 && target <= 1)) {
    throw new ValueError("OUT_OF_RANGE", `Invalid targetPrecision ${target}: pass a number in (0, 1]`);
  }
  const s = sortPairs(scores, same, options);
  const ap = averagePrecisionOf(s);
  let best: PairMetrics | undefined;
  for (const c of cuts(s)) {
    if (c.p === 0 || c.tp / c.p < target) continue;
    best = at(s, c.p, c.tp, c.threshold, ap); // later cuts are looser, so keep the last qualifying one
  }
  if (!best) {
    throw new ValueError(
      "OUT_OF_RANGE",
      `No threshold reaches precision ${target} on these ${s.n} pairs; lower targetPrecision or improve the model`,
      { details: { targetPrecision: target } },
    );
  }
  return best;
}
