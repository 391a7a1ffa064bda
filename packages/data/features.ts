/**
 * In-memory labelled feature sets: validated rows (no ragged or non-finite rows, one label
 * per row) and conversion to group samples.
 *
 * @module
 */
import {
  checkLabelValues,
  checkMatrix,
  type Label,
  type Matrix,
  ShapeError,
  toMatrix,
  ValueError,
} from "@likeness/core";
import type { SimilarityGroupSample } from "./samples.ts";

/** Feature rows with one label each. */
export interface LabeledFeatures {
  /** N×D features, row-major float32. */
  features: Matrix;
  /** One label per row. */
  labels: Label[];
  /** Optional readable name per class id (e.g. Fashion-MNIST's "Sneaker"). */
  classNames?: string[];
}

/**
 * Validate and pack feature rows and labels.
 *
 * @param rows N rows of D numbers (or a Matrix)
 * @param labels one label per row
 * @param options optional class names
 * @returns the validated set
 * @throws {ShapeError} SHAPE_MISMATCH for ragged rows; EMPTY_INPUT without rows; LABEL_MISMATCH for missing labels
 * @throws {ValueError} NON_FINITE naming the first bad value
 * @example
 * ```ts
 * import { labeledFeatures } from "@likeness/data";
 * const d = labeledFeatures([[0, 1], [1, 0]], ["a", "b"]);
 * console.log(d.features.rows); // 2
 * ```
 */
export function labeledFeatures(
  rows: number[][] | Matrix,
  labels: readonly Label[],
  options: { classNames?: string[] } = {},
): LabeledFeatures {
  const features = toMatrix(rows, "features");
  checkMatrix(features, "features");
  if (!Array.isArray(labels) || labels.length !== features.rows) {
    throw new ShapeError(
      `Cannot use labels: got ${
        Array.isArray(labels) ? labels.length : "no"
      } labels for ${features.rows} feature rows; ` +
        `pass one label per row`,
      "LABEL_MISMATCH",
    );
  }
  // a blank text cell is a missing label here (features often come from CSV)
  checkLabelValues(labels, "use labels", { blankIsMissing: true });
  return { features, labels: [...labels], classNames: options.classNames };
}

/**
 * The rows of a labelled set as group samples (each object is its feature row).
 *
 * @param set labelled features
 * @returns one group sample per row
 * @example
 * ```ts
 * import { labeledFeatures, toGroupSamples } from "@likeness/data";
 * console.log(toGroupSamples(labeledFeatures([[1, 2]], [7]))[0].group); // 7
 * ```
 */
export function toGroupSamples(set: LabeledFeatures): SimilarityGroupSample<Float32Array>[] {
  const { data, rows, cols } = set.features;
  return Array.from({ length: rows }, (_, i) => ({
    obj: data.subarray(i * cols, (i + 1) * cols),
    group: set.labels[i] as number | string,
  }));
}

/**
 * Select rows of a labelled set (e.g. a train split).
 *
 * @param set labelled features
 * @param indices rows to keep, in order
 * @returns a new set holding copies of those rows
 * @throws {ValueError} OUT_OF_RANGE for an index outside the set
 * @example
 * ```ts
 * import { labeledFeatures, selectRows } from "@likeness/data";
 * const d = selectRows(labeledFeatures([[1], [2], [3]], [0, 1, 0]), [2, 0]);
 * console.log(d.features.data); // Float32Array [3, 1]
 * ```
 */
export function selectRows(set: LabeledFeatures, indices: readonly number[]): LabeledFeatures {
  const { data, rows, cols } = set.features;
  if (indices.length === 0) throw new ShapeError("Cannot select rows: no indices given", "EMPTY_INPUT");
  const out = new Float32Array(indices.length * cols);
  indices.forEach((r, t) => {
    if (!Number.isInteger(r) || r < 0 || r >= rows) {
      throw new ValueError("OUT_OF_RANGE", `Cannot select row ${r}: the set has rows 0..${rows - 1}`);
    }
    out.set(data.subarray(r * cols, (r + 1) * cols), t * cols);
  });
  return {
    features: { data: out, rows: indices.length, cols },
    labels: indices.map((r) => set.labels[r]),
    classNames: set.classNames,
  };
}
