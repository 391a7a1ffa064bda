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
 * @param options `finite: false` skips the finite scan, for callers that scan the values themselves
 *   (the mining kernels scan inside WebAssembly) [finite: true]
 * @throws {ShapeError} EMPTY_INPUT or SHAPE_MISMATCH
 * @throws {ValueError} NON_FINITE
 * @example
 * ```ts
 * import { checkMatrix } from "@likeness/core";
 * checkMatrix({ data: new Float32Array(4), rows: 2, cols: 2 }, "reference");
 * ```
 */
export function checkMatrix(m: Matrix, what = "input", options: { finite?: boolean } = {}): void {
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
  if (options.finite !== false) checkFinite(m.data, what);
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
 * Check a positive integer option (a count, a size, a k): the one rule for them, with one code
 * and one wording.
 *
 * @param value the value
 * @param name option name for the message
 * @param owner optional: what takes the option (e.g. "FastAPLoss"), named in the message
 * @returns the value
 * @throws {ValueError} INVALID_ARGUMENT when not an integer >= 1
 * @example
 * ```ts
 * import { checkPositiveInt, ValueError } from "@likeness/core";
 * import assert from "node:assert/strict";
 * assert.equal(checkPositiveInt(10, "k"), 10);
 * assert.throws(() => checkPositiveInt(0, "numBins", "FastAPLoss"), ValueError);
 * assert.throws(() => checkPositiveInt(2.5, "k"), /Invalid k: expected a positive integer, got 2.5/);
 * ```
 */
export function checkPositiveInt(value: unknown, name: string, owner?: string): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1) {
    throw new ValueError(
      "INVALID_ARGUMENT",
      `Invalid ${name}${owner ? ` for ${owner}` : ""}: expected a positive integer, got ${String(value)}`,
    );
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

/** Bounds of a numeric option for {@link checkFiniteNumber}. */
export interface NumberRange {
  /** Smallest allowed value (inclusive unless `minExclusive`). */
  min?: number;
  /** Exclude `min` itself (a strictly positive option: `{ min: 0, minExclusive: true }`). */
  minExclusive?: boolean;
  /** Largest allowed value (inclusive). */
  max?: number;
  /** Require an integer. */
  integer?: boolean;
}

/**
 * Check a finite number option (a margin, a scale, a temperature): the one rule every loss, miner,
 * kernel wrapper and backend uses, with one code and one wording.
 *
 * @param value the given value
 * @param name option name for the message (e.g. "margin")
 * @param owner what takes the option (e.g. "TripletMarginLoss", "batchHard")
 * @param range optional bounds
 * @returns the value
 * @throws {ValueError} INVALID_ARGUMENT when not a finite number or out of `range`
 * @example
 * ```ts
 * import { checkFiniteNumber, ValueError } from "@likeness/core";
 * import assert from "node:assert/strict";
 * assert.equal(checkFiniteNumber(0.5, "margin", "TripletLoss"), 0.5);
 * assert.throws(() => checkFiniteNumber(NaN, "margin", "TripletLoss"), ValueError);
 * assert.throws(() => checkFiniteNumber(0, "scale", "CoSENTLoss", { min: 0, minExclusive: true }), ValueError);
 * ```
 */
export function checkFiniteNumber(value: unknown, name: string, owner: string, range: NumberRange = {}): number {
  const { min, max, minExclusive = false, integer = false } = range;
  const ok = typeof value === "number" && Number.isFinite(value) &&
    (min === undefined || (minExclusive ? value > min : value >= min)) &&
    (max === undefined || value <= max) && (!integer || Number.isInteger(value));
  if (!ok) {
    const bounds = [
      min === undefined ? "" : `${minExclusive ? ">" : ">="} ${min}`,
      max === undefined ? "" : `<= ${max}`,
    ].filter((s) => s).join(" and ");
    throw new ValueError(
      "INVALID_ARGUMENT",
      `Invalid ${name} for ${owner}: expected a finite ${integer ? "integer" : "number"}${
        bounds ? ` ${bounds}` : ""
      }, got ${typeof value === "number" ? value : JSON.stringify(value) ?? String(value)}`,
      { details: { option: name } },
    );
  }
  return value as number;
}

/**
 * The labels a computation needs, one per row: the one rule for labels. Missing labels are
 * `INVALID_ARGUMENT` (a required input was not passed, like missing pairs or scores); a count
 * that differs from the rows is `LABEL_MISMATCH`.
 *
 * @param labels the given labels (may be undefined)
 * @param n number of rows
 * @param owner what needs them (e.g. "TripletLoss"), for the message
 * @returns the labels
 * @throws {ValueError} INVALID_ARGUMENT when absent
 * @throws {ShapeError} LABEL_MISMATCH when the count differs from `n`
 * @example
 * ```ts
 * import { requireLabels, ShapeError, ValueError } from "@likeness/core";
 * import assert from "node:assert/strict";
 * assert.deepEqual(requireLabels([0, 1], 2, "TripletLoss"), [0, 1]);
 * assert.throws(() => requireLabels(undefined, 2, "TripletLoss"), ValueError);
 * assert.throws(() => requireLabels([0], 2, "TripletLoss"), ShapeError);
 * ```
 */
export function requireLabels<L>(labels: readonly L[] | undefined, n: number, owner: string): readonly L[] {
  if (labels === undefined || labels === null) {
    throw new ValueError(
      "INVALID_ARGUMENT",
      `Cannot compute ${owner}: labels are missing; pass one label per embedding row (target.labels)`,
    );
  }
  checkLabels(labels, n, "embeddings");
  return labels;
}

/**
 * Check the shape of an embeddings batch: two dimensions, at least one row and one column.
 *
 * @param shape the tensor's or matrix's shape
 * @param owner what computes on it, for the message
 * @throws {ShapeError} SHAPE_MISMATCH for another rank; EMPTY_INPUT for no rows or columns
 * @example
 * ```ts
 * import { checkEmbeddingShape, ShapeError } from "@likeness/core";
 * import assert from "node:assert/strict";
 * checkEmbeddingShape([4, 2], "TripletLoss");
 * assert.throws(() => checkEmbeddingShape([0, 2], "TripletLoss"), ShapeError);
 * ```
 */
export function checkEmbeddingShape(shape: readonly number[] | undefined, owner: string): void {
  if (!shape || shape.length !== 2) {
    throw new ShapeError(
      `Cannot compute ${owner}: embeddings must be a 2-D tensor (B×D), got rank ${shape?.length}`,
    );
  }
  if (shape[0] === 0 || shape[1] === 0) {
    throw new ShapeError(`Cannot compute ${owner}: embeddings are empty (${shape[0]}×${shape[1]})`, "EMPTY_INPUT");
  }
}

/**
 * Check that every embedding value is finite, naming the first bad row and column.
 *
 * @param data row-major values
 * @param cols columns per row
 * @param owner what computes on them, for the message
 * @throws {ValueError} NON_FINITE with `details: { row, col }`
 * @example
 * ```ts
 * import { checkEmbeddingValues, ValueError } from "@likeness/core";
 * import assert from "node:assert/strict";
 * checkEmbeddingValues([1, 0, 0, 1], 2, "TripletLoss");
 * assert.throws(() => checkEmbeddingValues([1, NaN], 2, "TripletLoss"), ValueError);
 * ```
 */
export function checkEmbeddingValues(data: ArrayLike<number>, cols: number, owner: string): void {
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i])) {
      const row = Math.floor(i / cols);
      const col = i % cols;
      throw new ValueError(
        "NON_FINITE",
        `Cannot compute ${owner}: embedding [${row}, ${col}] is ${data[i]}; ` +
          "check the model output (learning rate, normalisation) and pass finite embeddings",
        { details: { row, col } },
      );
    }
  }
}

/**
 * Check that an index refers to a row of a batch (a mined tuple, a pair).
 *
 * @param i the index
 * @param n number of rows
 * @param owner what uses it
 * @param what what the index is (e.g. "mined index", "pair 3")
 * @throws {ValueError} OUT_OF_RANGE
 * @example
 * ```ts
 * import { checkRowIndex, ValueError } from "@likeness/core";
 * import assert from "node:assert/strict";
 * checkRowIndex(2, 3, "TripletMarginLoss", "mined index");
 * assert.throws(() => checkRowIndex(3, 3, "TripletMarginLoss", "mined index"), ValueError);
 * ```
 */
export function checkRowIndex(i: unknown, n: number, owner: string, what: string): void {
  if (!Number.isInteger(i) || (i as number) < 0 || (i as number) >= n) {
    throw new ValueError(
      "OUT_OF_RANGE",
      `Cannot compute ${owner}: ${what} ${JSON.stringify(i)} is not a row of the batch [0, ${n})`,
      { details: { index: i } },
    );
  }
}

/**
 * Check a boolean option (e.g. `smallerIsCloser`): the one rule the backend and the kernel
 * wrappers share.
 *
 * @param value the given value
 * @param name option name
 * @param owner what takes it (an operation or class name)
 * @returns the value
 * @throws {ValueError} INVALID_ARGUMENT when not `true` or `false`
 * @example
 * ```ts
 * import { checkBoolean, ValueError } from "@likeness/core";
 * import assert from "node:assert/strict";
 * assert.equal(checkBoolean(false, "smallerIsCloser", "batchHard"), false);
 * assert.throws(() => checkBoolean("yes", "smallerIsCloser", "batchHard"), ValueError);
 * ```
 */
export function checkBoolean(value: unknown, name: string, owner: string): boolean {
  if (typeof value !== "boolean") {
    throw new ValueError(
      "INVALID_ARGUMENT",
      `Invalid ${name} for ${owner}: expected true or false, got ${JSON.stringify(value) ?? String(value)}`,
      { details: { option: name } },
    );
  }
  return value;
}
