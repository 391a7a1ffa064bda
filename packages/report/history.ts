/**
 * Curves from a training history (one record of numbers per epoch, as the trainer logs them).
 *
 * @module
 */
import { ValueError } from "@likeness/core";
import type { Curve, Series } from "./types.ts";

/** Options for {@link curvesFromHistory}. */
export interface CurvesFromHistoryOptions {
  /** Key of the x value (default `"epoch"`; falls back to the record's position, 1-based). */
  x?: string;
  /** Keys never charted (default `["epoch", "steps", "step"]`). */
  skip?: string[];
  /** Constant baseline values drawn dashed beside a metric (e.g. the untrained model's). */
  baseline?: Record<string, number>;
}

/**
 * Turn per-epoch logs into report curves: one "Loss" chart with `loss` and `val_loss`, then one
 * chart per other numeric key (in first-seen order), with the baseline as a dashed line when given.
 *
 * @param history one record per epoch, e.g. the trainer's `EpochLog`s
 * @param options x key, skipped keys, baseline values
 * @returns curves for `ReportData.curves`
 * @throws {ValueError} INVALID_ARGUMENT when `history` is not an array of records
 * @example
 * ```ts
 * import { curvesFromHistory } from "@likeness/report";
 * const curves = curvesFromHistory([{ epoch: 1, loss: 0.9, "precision@1": 0.6 }, { epoch: 2, loss: 0.5, "precision@1": 0.8 }]);
 * console.log(curves.map((c) => c.title)); // ["Loss", "precision@1"]
 * ```
 */
export function curvesFromHistory(
  history: Record<string, number | undefined>[],
  options: CurvesFromHistoryOptions = {},
): Curve[] {
  if (!Array.isArray(history) || history.some((h) => !h || typeof h !== "object")) {
    throw new ValueError(
      "INVALID_ARGUMENT",
      "Cannot build curves: history must be an array of { name: number } records",
    );
  }
  const xKey = options.x ?? "epoch";
  const skip = new Set(options.skip ?? ["epoch", "steps", "step"]);
  skip.add(xKey);
  const x = history.map((h, i) => (typeof h[xKey] === "number" ? h[xKey] as number : i + 1));
  const value = (k: string) => history.map((h) => (typeof h[k] === "number" ? h[k] as number : NaN));
  const keys: string[] = [];
  for (const h of history) for (const k of Object.keys(h)) if (!skip.has(k) && !keys.includes(k)) keys.push(k);
  const curves: Curve[] = [];
  const xLabel = xKey;
  if (keys.includes("loss") || keys.includes("val_loss")) {
    const series: Series[] = [];
    if (keys.includes("loss")) series.push({ name: "train", x, y: value("loss") });
    if (keys.includes("val_loss")) series.push({ name: "validation", x, y: value("val_loss"), dashed: true });
    curves.push({ title: "Loss", xLabel, yLabel: "loss", series });
  }
  for (const k of keys) {
    if (k === "loss" || k === "val_loss") continue;
    const series: Series[] = [{ name: k, x, y: value(k) }];
    const b = options.baseline?.[k];
    if (typeof b === "number") series.push({ name: `${k} (untrained)`, x, y: x.map(() => b), dashed: true });
    curves.push({ title: k, xLabel, yLabel: k, series });
  }
  return curves;
}
