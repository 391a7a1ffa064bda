/**
 * Typed errors with stable codes. Every public boundary in likeness throws one of
 * these for bad input, so callers (and the server) can branch on `code`.
 *
 * @module
 */

/** Stable error codes. The server maps these to HTTP status codes in one place. */
export type ErrorCode =
  | "SHAPE_MISMATCH"
  | "NON_FINITE"
  | "EMPTY_INPUT"
  | "K_TOO_LARGE"
  | "INVALID_ARGUMENT"
  | "UNKNOWN_NAME"
  | "LABEL_MISMATCH"
  | "OUT_OF_RANGE"
  | "UNSUPPORTED"
  | "NOT_FOUND"
  | "CORRUPT"
  | "MISSING_DEPENDENCY"
  | "UNAUTHORIZED"
  | "TOO_LARGE"
  | "CONFLICT"
  | "STORAGE_FULL"
  | "READ_ONLY"
  | "LOCKED"
  | "UNAVAILABLE"
  | "WORKER_FAILED";

/** Options shared by every likeness error. */
export interface LikenessErrorOptions {
  /** The underlying error, if any. */
  cause?: unknown;
  /** Extra machine-readable details (shapes, names, indices). */
  details?: Record<string, unknown>;
}

/**
 * Base class of every likeness error. `code` is stable across versions.
 *
 * @example
 * ```ts
 * import { LikenessError } from "@likeness/core";
 * import assert from "node:assert/strict";
 * assert.throws(() => {
 *   throw new LikenessError("EMPTY_INPUT", "Cannot search: no references");
 * }, (e) => e instanceof LikenessError && e.code === "EMPTY_INPUT");
 * ```
 */
export class LikenessError extends Error {
  /** Stable machine-readable code. */
  readonly code: ErrorCode;
  /** Extra machine-readable details. */
  readonly details?: Record<string, unknown>;
  /**
   * @param code stable code
   * @param message what went wrong and how to fix it
   * @param options cause and details
   */
  constructor(code: ErrorCode, message: string, options: LikenessErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "LikenessError";
    this.code = code;
    if (options.details) this.details = options.details;
  }
}

/**
 * A shape or size error (the nearest built-in is `RangeError`, so `instanceof RangeError` holds).
 *
 * @example
 * ```ts
 * import { ShapeError } from "@likeness/core";
 * import assert from "node:assert/strict";
 * const e = new ShapeError("Cannot compute pairwise distance: query has 64 columns but reference has 32");
 * assert.equal(e.code, "SHAPE_MISMATCH");
 * assert.ok(e instanceof RangeError);
 * ```
 */
export class ShapeError extends RangeError {
  /** Stable machine-readable code. */
  readonly code: ErrorCode;
  /** Extra machine-readable details. */
  readonly details?: Record<string, unknown>;
  /**
   * @param message what went wrong and how to fix it
   * @param code one of the shape-like codes (default `SHAPE_MISMATCH`)
   * @param options cause and details
   */
  constructor(
    message: string,
    code: ErrorCode = "SHAPE_MISMATCH",
    options: LikenessErrorOptions = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "ShapeError";
    this.code = code;
    if (options.details) this.details = options.details;
  }
}

/**
 * A value error: non-finite numbers, unknown names, bad options (nearest built-in `TypeError`).
 *
 * @example
 * ```ts
 * import { ValueError } from "@likeness/core";
 * import assert from "node:assert/strict";
 * const e = new ValueError("UNKNOWN_NAME", 'Unknown metric "cosin": use one of cosine, dot, l2');
 * assert.equal(e.code, "UNKNOWN_NAME");
 * ```
 */
export class ValueError extends TypeError {
  /** Stable machine-readable code. */
  readonly code: ErrorCode;
  /** Extra machine-readable details. */
  readonly details?: Record<string, unknown>;
  /**
   * @param code stable code
   * @param message what went wrong and how to fix it
   * @param options cause and details
   */
  constructor(code: ErrorCode, message: string, options: LikenessErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "ValueError";
    this.code = code;
    if (options.details) this.details = options.details;
  }
}

/** Any likeness error. */
export type AnyLikenessError = LikenessError | ShapeError | ValueError;

/**
 * True when `e` is one of likeness's typed errors (has a stable `code`).
 *
 * @param e anything thrown
 * @returns whether it carries a likeness error code
 * @example
 * ```ts
 * import { isLikenessError, ShapeError } from "@likeness/core";
 * import assert from "node:assert/strict";
 * assert.equal(isLikenessError(new ShapeError("bad")), true);
 * ```
 */
export function isLikenessError(e: unknown): e is AnyLikenessError {
  return e instanceof LikenessError || e instanceof ShapeError || e instanceof ValueError;
}
