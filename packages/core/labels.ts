/**
 * Label matching: the one place that decides whether two labels count as "same class".
 * Multi-label data passes its own function; the default is equality. Also the one rule for a
 * missing label ({@link checkLabelValues}).
 *
 * @module
 */
import { ShapeError } from "./errors.ts";

/** A label: a class id, a name, or for multi-label data a set of ids. */
export type Label = number | string | readonly (number | string)[];

/** Decides whether two labels are a positive pair. Must be symmetric. */
export type LabelMatcher = (a: Label, b: Label) => boolean;

/**
 * Default matcher: equal scalars, or arrays with equal elements.
 *
 * @param a first label
 * @param b second label
 * @returns whether they match
 * @example
 * ```ts
 * import { equalLabels } from "@likeness/core";
 * import assert from "node:assert/strict";
 * assert.equal(equalLabels(1, 1), true);
 * assert.equal(equalLabels("a", "b"), false);
 * ```
 */
export function equalLabels(a: Label, b: Label): boolean {
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((v, i) => v === b[i]);
  }
  return a === b;
}

/**
 * Multi-label matcher: two label sets match when they share at least one element.
 *
 * @param a first label (scalar or array)
 * @param b second label (scalar or array)
 * @returns whether they share an element
 * @example
 * ```ts
 * import { sharesAnyLabel } from "@likeness/core";
 * import assert from "node:assert/strict";
 * assert.equal(sharesAnyLabel([1, 2], [2, 3]), true);
 * ```
 */
export function sharesAnyLabel(a: Label, b: Label): boolean {
  const as = Array.isArray(a) ? a : [a];
  const bs = Array.isArray(b) ? b : [b];
  return as.some((x) => bs.includes(x));
}

/**
 * Build the B×B "same" matrix (1 = positive pair, 0 = not) as a Uint8Array, row-major.
 * The diagonal is 1 (an item matches itself); callers exclude it where needed.
 *
 * @param labels one label per item
 * @param match matcher (default {@link equalLabels})
 * @returns Uint8Array of length B*B
 * @example
 * ```ts
 * import { sameLabelMatrix } from "@likeness/core";
 * import assert from "node:assert/strict";
 * assert.deepEqual([...sameLabelMatrix([0, 1, 0])], [1, 0, 1, 0, 1, 0, 1, 0, 1]);
 * ```
 */
export function sameLabelMatrix(labels: readonly Label[], match: LabelMatcher = equalLabels): Uint8Array {
  const n = labels.length;
  const out = new Uint8Array(n * n);
  for (let i = 0; i < n; i++) {
    out[i * n + i] = 1;
    for (let j = i + 1; j < n; j++) {
      const m = match(labels[i], labels[j]) ? 1 : 0;
      out[i * n + j] = m;
      out[j * n + i] = m;
    }
  }
  return out;
}

/**
 * Map labels to dense int32 class ids (first appearance order) so kernels can compare ints.
 * Only valid for the default equality matcher.
 *
 * @param labels one label per item
 * @returns Int32Array of ids
 * @example
 * ```ts
 * import { labelIds } from "@likeness/core";
 * import assert from "node:assert/strict";
 * assert.deepEqual([...labelIds(["b", "a", "b"])], [0, 1, 0]);
 * ```
 */
export function labelIds(labels: readonly Label[]): Int32Array {
  const ids = new Map<string, number>();
  const out = new Int32Array(labels.length);
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i];
    const key = Array.isArray(l) ? JSON.stringify(l) : `${typeof l}:${l}`;
    let id = ids.get(key);
    if (id === undefined) {
      id = ids.size;
      ids.set(key, id);
    }
    out[i] = id;
  }
  return out;
}

/**
 * Throw if some label is missing: `undefined`, `null`, or a number that is not finite (a NaN from
 * a blank cell); with `blankIsMissing`, also the empty string (a blank text cell). The one rule
 * the trainer, the evaluators, the samplers and the data loaders use, with one code.
 *
 * @param labels the labels, one per row
 * @param op what needs them, for the message (`train`, `evaluate`, `sample`)
 * @param options `what`: the name of the list [labels]; `blankIsMissing` [false]
 * @throws {ShapeError} LABEL_MISMATCH naming the first missing label (`details.index`)
 * @example
 * ```ts
 * import { checkLabelValues } from "@likeness/core";
 * import assert from "node:assert/strict";
 * checkLabelValues([0, "cat", [1, 2]], "train");
 * assert.throws(() => checkLabelValues([0, NaN], "train"), { code: "LABEL_MISMATCH", message: /row 1 has no label/ });
 * assert.throws(() => checkLabelValues(["a", ""], "use labels", { blankIsMissing: true }), { code: "LABEL_MISMATCH" });
 * ```
 */
export function checkLabelValues(
  labels: ArrayLike<unknown>,
  op: string,
  options: { what?: string; blankIsMissing?: boolean } = {},
): void {
  const { what = "labels", blankIsMissing = false } = options;
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i];
    if (
      l === undefined || l === null || (typeof l === "number" && !Number.isFinite(l)) ||
      (blankIsMissing && l === "")
    ) {
      throw new ShapeError(
        `Cannot ${op}: ${what} row ${i} has no label (${JSON.stringify(l) ?? String(l)}); ` +
          `give every row a label (a number, string or array)`,
        "LABEL_MISMATCH",
        { details: { index: i } },
      );
    }
  }
}
