/**
 * Class colours for scatter plots and legends: a curated 10-colour palette for up to 10
 * classes, then evenly spread hues with alternating lightness for up to ~45 classes.
 *
 * @module
 */

/** Ten well-separated colours (colour-blind friendly ordering), used when there are ≤ 10 classes. */
const BASE10 = [
  "#4e79a7",
  "#f28e2b",
  "#e15759",
  "#76b7b2",
  "#59a14f",
  "#edc948",
  "#b07aa1",
  "#ff9da7",
  "#9c755f",
  "#79706e",
];

/**
 * The colour of class `index` among `count` classes.
 *
 * Up to 10 classes use a fixed palette; above that, hues step by the golden angle (neighbouring
 * indices are far apart in hue) and three lightness levels alternate, which keeps 45 classes
 * distinguishable side by side.
 *
 * @param index class index, 0-based
 * @param count number of classes
 * @returns a CSS colour (`#rrggbb` or `hsl(...)`)
 * @example
 * ```ts
 * import { classColor } from "@likeness/report";
 * import assert from "node:assert/strict";
 * assert.equal(classColor(0, 10), "#4e79a7");
 * ```
 */
export function classColor(index: number, count: number): string {
  if (count <= BASE10.length) return BASE10[((index % BASE10.length) + BASE10.length) % BASE10.length];
  // Golden-angle hue steps keep consecutive classes far apart on the colour wheel; three
  // lightness levels separate classes whose hues end up close.
  const hue = (index * 137.50776405) % 360;
  const lightness = [44, 60, 34][index % 3];
  const saturation = index % 3 === 1 ? 62 : 72;
  return `hsl(${hue.toFixed(1)} ${saturation}% ${lightness}%)`;
}

/**
 * Colours for `count` classes, in index order.
 *
 * @param count number of classes (0 or more)
 * @returns one CSS colour per class
 * @example
 * ```ts
 * import { classPalette } from "@likeness/report";
 * import assert from "node:assert/strict";
 * assert.equal(classPalette(3).length, 3);
 * ```
 */
export function classPalette(count: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < count; i++) out.push(classColor(i, count));
  return out;
}

/** Colours for line-chart series (trained, baseline, further series). */
export const SERIES_COLORS: readonly string[] = ["#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2"];
