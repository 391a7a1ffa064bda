/**
 * Validation helpers used at every public boundary.
 *
 * @module
 */
import { ShapeError, ValueError } from "./errors.ts";

/** A dense row-major float matrix: `rows × cols` values in `data`. */
export interface Matrix {
  /** Row-major values, length `rows * cols`. */
  data: Float32Array;
  /** Number of rows. */
  rows: number;
  /** Number of columns. */
  cols: number;
}

/**
 * Build a {@link Matrix} from nested arrays (rows of equal length) or check an existing one.
 *
 * @param input nested number arrays, or a Matrix
 * @param what name used in error messages (e.g. "query")
 * @returns a Matrix backed by a Float32Array
 * @throws {ShapeError} EMPTY_INPUT when there are no rows or no columns; SHAPE_MISMATCH when ragged
 * @throws {ValueError} NON_FINITE when a value is NaN or infinite
 * @example
 * ```ts
 * import { toMatrix } from "@likeness/core";
 * const m = toMatrix([[1, 2], [3, 4]], "query");
 * console.log(m.rows, m.cols); // 2 2
 * ```
 */
export function toMatrix(input: number[][] | Matrix, what = "input"): Matrix {
  if (!Array.isArray(input)) {
    checkMatrix(input, what);
    return input;
  }
  const rows = input.length;
  if (rows === 0) throw new ShapeError(`Cannot use ${what}: it has no rows; pass at least one row`, "EMPTY_INPUT");
  const first = input[0];
  if (!Array.isArray(first) && !ArrayBuffer.isView(first)) {
    throw new ShapeError(`Cannot use ${what}: expected an array of rows (number[][])`);
  }
  const cols = first.length;
  if (cols === 0) throw new ShapeError(`Cannot use ${what}: rows have no columns`, "EMPTY_INPUT");
  const data = new Float32Array(rows * cols);
  for (let i = 0; i < rows; i++) {
    const row = input[i];
    if (!row || row.length !== cols) {
      throw new ShapeError(
        `Cannot use ${what}: row ${i} has ${
          row?.length ?? 0
        } columns but row 0 has ${cols}; make every row the same length`,
      );
    }
    for (let j = 0; j < cols; j++) {
      const v = row[j];
      if (typeof v !== "number" || !Number.isFinite(v)) {
        throw new ValueError(
          "NON_FINITE",
          `Cannot use ${what}: value at [${i}, ${j}] is ${v}; every value must be a finite number`,
          {
            details: { row: i, col: j },
          },
        );
      }
      data[i * cols + j] = v;
    }
  }
  return { data, rows, cols };
}

/**
 * Check a {@link Matrix}: positive integer shape, matching data length, finite values.
 *
 * @param m the matrix
 * @param what name used in error messages
 * @throws {ShapeError} EMPTY_INPUT or SHAPE_MISMATCH
 * @throws {ValueError} NON_FINITE
 * @example
 * ```ts
 * import { checkMatrix } from "@likeness/core";
 * checkMatrix({ data: new Float32Array(4), rows: 2, cols: 2 }, "reference");
 * ```
 */
export function checkMatrix(m: Matrix, what = "input"): void {
  if (!m || !(m.data instanceof Float32Array)) {
    throw new ShapeError(`Cannot use ${what}: expected { data: Float32Array, rows, cols }`);
  }
  if (!Number.isInteger(m.rows) || !Number.isInteger(m.cols) || m.rows < 0 || m.cols < 0) {
    throw new ShapeError(`Cannot use ${what}: rows and cols must be non-negative integers (got ${m.rows}×${m.cols})`);
  }
  if (m.rows === 0 || m.cols === 0) {
    throw new ShapeError(
      `Cannot use ${what}: it is empty (${m.rows}×${m.cols}); pass at least one row and one column`,
      "EMPTY_INPUT",
    );
  }
  if (m.data.length !== m.rows * m.cols) {
    throw new ShapeError(
      `Cannot use ${what}: data has ${m.data.length} values but shape ${m.rows}×${m.cols} needs ${m.rows * m.cols}`,
    );
  }
  checkFinite(m.data, what);
}

/**
 * Throw if any value is NaN or infinite.
 *
 * @param data values
 * @param what name used in error messages
 * @throws {ValueError} NON_FINITE naming the first bad index
 * @example
 * ```ts
 * import { checkFinite } from "@likeness/core";
 * checkFinite(new Float32Array([1, 2]), "embeddings");
 * ```
 */
export function checkFinite(data: ArrayLike<number>, what = "input"): void {
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (!Number.isFinite(v)) {
      throw new ValueError(
        "NON_FINITE",
        `Cannot use ${what}: value at flat index ${i} is ${v}; every value must be finite`,
        {
          details: { index: i },
        },
      );
    }
  }
}

/**
 * Check that `labels` has one entry per row.
 *
 * @param labels labels (any array-like)
 * @param n expected length
 * @param what name used in error messages
 * @throws {ShapeError} LABEL_MISMATCH
 * @example
 * ```ts
 * import { checkLabels } from "@likeness/core";
 * checkLabels([0, 1, 1], 3, "embeddings");
 * ```
 */
export function checkLabels(labels: ArrayLike<unknown>, n: number, what = "embeddings"): void {
  if (!labels || typeof labels.length !== "number") {
    throw new ShapeError(`Cannot use labels: expected an array with one label per row of ${what}`, "LABEL_MISMATCH");
  }
  if (labels.length !== n) {
    throw new ShapeError(
      `Cannot use labels: got ${labels.length} labels but ${what} has ${n} rows; pass one label per row`,
      "LABEL_MISMATCH",
    );
  }
}

/**
 * Check a positive integer option.
 *
 * @param value the value
 * @param name option name for the message
 * @returns the value
 * @throws {ValueError} INVALID_ARGUMENT
 * @example
 * ```ts
 * import { checkPositiveInt } from "@likeness/core";
 * checkPositiveInt(10, "k");
 * ```
 */
export function checkPositiveInt(value: number, name: string): number {
  if (!Number.isInteger(value) || value < 1) {
    throw new ValueError("INVALID_ARGUMENT", `Invalid ${name}: expected a positive integer, got ${value}`);
  }
  return value;
}

/**
 * Check that a name is one of the allowed values.
 *
 * @param value given name
 * @param allowed allowed names
 * @param what what the name selects (e.g. "metric")
 * @returns the value, typed
 * @throws {ValueError} UNKNOWN_NAME listing the allowed names
 * @example
 * ```ts
 * import { checkOneOf } from "@likeness/core";
 * const m = checkOneOf("cosine", ["cosine", "dot"] as const, "metric");
 * ```
 */
export function checkOneOf<T extends string>(value: unknown, allowed: readonly T[], what: string): T {
  if (typeof value !== "string" || !(allowed as readonly string[]).includes(value)) {
    throw new ValueError("UNKNOWN_NAME", `Unknown ${what} ${JSON.stringify(value)}: use one of ${allowed.join(", ")}`);
  }
  return value as T;
}
