/**
 * Reducers turn per-element losses (one per pair, triplet or row) into the scalar a loss returns:
 * mean, sum, average over non-zero (pytorch-metric-learning's AvgNonZeroReducer) and threshold.
 * An empty or all-filtered input reduces to 0, never NaN.
 *
 * @module
 */
import { tf } from "@likeness/tf";
import { checkOneOf, ValueError } from "@likeness/core";
import { noGrad } from "./grad_utils.ts";

/** Reduces per-element losses to a scalar. */
export interface Reducer {
  /** Reducer name. */
  readonly name: ReducerName;
  /**
   * Reduce per-element losses (any shape; empty gives 0).
   * @param losses per-element losses
   * @returns scalar
   */
  reduce(losses: tf.Tensor): tf.Scalar;
}

/** Names accepted by {@link reducer}. */
export type ReducerName = "mean" | "sum" | "avg_non_zero" | "threshold";

/** Options of {@link reducer}; `low`/`high` only for `threshold`. */
export interface ReducerOptions {
  /** Threshold reducer: keep losses strictly above this (default none). */
  low?: number;
  /** Threshold reducer: keep losses strictly below this (default none). */
  high?: number;
}

/** Names accepted by {@link reducer}, declared once (the CLI config reads them). */
export const REDUCER_NAMES: readonly ReducerName[] = ["mean", "sum", "avg_non_zero", "threshold"];
const NAMES = REDUCER_NAMES;

function zeroIfEmpty(losses: tf.Tensor, f: () => tf.Scalar): tf.Scalar {
  return losses.size === 0 ? tf.scalar(0) : tf.tidy(f);
}

/**
 * Mean of the per-element losses (0 for none).
 *
 * @returns a Reducer
 * @example
 * ```ts
 * import { tf } from "@likeness/tf";
 * import { meanReducer } from "@likeness/losses";
 * console.log(meanReducer().reduce(tf.tensor([0, 2])).arraySync()); // 1
 * ```
 */
export function meanReducer(): Reducer {
  return { name: "mean", reduce: (l) => zeroIfEmpty(l, () => tf.mean(l) as tf.Scalar) };
}

/**
 * Sum of the per-element losses (0 for none).
 *
 * @returns a Reducer
 * @example
 * ```ts
 * import { tf } from "@likeness/tf";
 * import { sumReducer } from "@likeness/losses";
 * console.log(sumReducer().reduce(tf.tensor([0, 2])).arraySync()); // 2
 * ```
 */
export function sumReducer(): Reducer {
  return { name: "sum", reduce: (l) => zeroIfEmpty(l, () => tf.sum(l) as tf.Scalar) };
}

/**
 * Average over the strictly positive losses (pytorch-metric-learning's AvgNonZeroReducer); 0 when
 * every loss is 0.
 *
 * @returns a Reducer
 * @example
 * ```ts
 * import { tf } from "@likeness/tf";
 * import { avgNonZeroReducer } from "@likeness/losses";
 * console.log(avgNonZeroReducer().reduce(tf.tensor([0, 2, 4])).arraySync()); // 3
 * ```
 */
export function avgNonZeroReducer(): Reducer {
  return {
    name: "avg_non_zero",
    reduce: (l) =>
      zeroIfEmpty(l, () => {
        const count = tf.sum(noGrad((v) => tf.greater(v, 0), l));
        return tf.div(tf.sum(l), tf.maximum(count, 1)) as tf.Scalar;
      }),
  };
}

/**
 * Average over the losses with `low < loss < high` (pytorch-metric-learning's ThresholdReducer);
 * 0 when none pass.
 *
 * @param options `low` and/or `high`
 * @returns a Reducer
 * @throws {ValueError} INVALID_ARGUMENT when neither bound is given or `low >= high`
 * @example
 * ```ts
 * import { tf } from "@likeness/tf";
 * import { thresholdReducer } from "@likeness/losses";
 * console.log(thresholdReducer({ low: 1 }).reduce(tf.tensor([0, 2, 4])).arraySync()); // 3
 * ```
 */
export function thresholdReducer(options: ReducerOptions): Reducer {
  const { low, high } = options;
  if (low === undefined && high === undefined) {
    throw new ValueError("INVALID_ARGUMENT", "Invalid threshold reducer: pass low and/or high");
  }
  for (const [k, v] of [["low", low], ["high", high]] as const) {
    if (v !== undefined && (typeof v !== "number" || Number.isNaN(v))) {
      throw new ValueError("INVALID_ARGUMENT", `Invalid threshold reducer: ${k} must be a number, got ${v}`);
    }
  }
  if (low !== undefined && high !== undefined && low >= high) {
    throw new ValueError("INVALID_ARGUMENT", `Invalid threshold reducer: low ${low} must be below high ${high}`);
  }
  return {
    name: "threshold",
    reduce: (l) =>
      zeroIfEmpty(l, () => {
        const keep = noGrad((v) => {
          const above = low !== undefined ? tf.greater(v, low) : null;
          const below = high !== undefined ? tf.less(v, high) : null;
          return above && below ? tf.logicalAnd(above, below) : (above ?? below)!;
        }, l);
        return tf.div(tf.sum(tf.mul(l, keep)), tf.maximum(tf.sum(keep), 1)) as tf.Scalar;
      }),
  };
}

/**
 * Create a reducer by name.
 *
 * @param name `mean`, `sum`, `avg_non_zero` or `threshold`
 * @param options bounds for `threshold`
 * @returns a Reducer
 * @throws {ValueError} UNKNOWN_NAME for other names; INVALID_ARGUMENT for bad bounds
 * @example
 * ```ts
 * import { tf } from "@likeness/tf";
 * import { reducer } from "@likeness/losses";
 * console.log(reducer("sum").reduce(tf.tensor([1, 2])).arraySync()); // 3
 * ```
 */
export function reducer(name: ReducerName, options: ReducerOptions = {}): Reducer {
  switch (checkOneOf(name, NAMES, "reducer")) {
    case "mean":
      return meanReducer();
    case "sum":
      return sumReducer();
    case "avg_non_zero":
      return avgNonZeroReducer();
    case "threshold":
      return thresholdReducer(options);
  }
}
