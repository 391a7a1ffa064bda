/**
 * The one place where errors become HTTP responses: stable codes to status, a JSON body
 * `{ "error": { "code", "message" } }`, and never a 5xx for bad input.
 *
 * @module
 */
import { isLikenessError } from "@likeness/core";

/** An HTTP-level error with a stable code (thrown by route handlers). */
export class HttpError extends Error {
  /** HTTP status. */
  readonly status: number;
  /** Stable code. */
  readonly code: string;
  /**
   * @param status HTTP status
   * @param code stable code
   * @param message what went wrong and how to fix it
   */
  constructor(status: number, code: string, message: string) {
    super(message);
    this.name = "HttpError";
    this.status = status;
    this.code = code;
  }
}

/** Status for each likeness error code. */
export const STATUS_BY_CODE: Readonly<Record<string, number>> = {
  SHAPE_MISMATCH: 422,
  NON_FINITE: 422,
  EMPTY_INPUT: 422,
  K_TOO_LARGE: 422,
  INVALID_ARGUMENT: 422,
  UNKNOWN_NAME: 422,
  LABEL_MISMATCH: 422,
  OUT_OF_RANGE: 422,
  UNSUPPORTED: 422,
  NOT_FOUND: 404,
  UNAUTHORIZED: 401,
  TOO_LARGE: 413,
  MALFORMED_JSON: 400,
  BAD_REQUEST: 400,
  CONFLICT: 409,
  READ_ONLY: 409,
  STORAGE_FULL: 507,
  UNAVAILABLE: 503,
  WORKER_FAILED: 503,
};

/**
 * Map anything thrown to a status and JSON body.
 *
 * @param e the thrown value
 * @returns status and body; unknown errors are 500 with a generic message
 * @example
 * ```ts
 * import { HttpError, toErrorResponse } from "@likeness/server";
 * console.log(toErrorResponse(new HttpError(404, "NOT_FOUND", "no such id")).status); // 404
 * ```
 */
export function toErrorResponse(e: unknown): { status: number; body: { error: { code: string; message: string } } } {
  if (e instanceof HttpError) return { status: e.status, body: { error: { code: e.code, message: e.message } } };
  if (isLikenessError(e)) {
    return { status: STATUS_BY_CODE[e.code] ?? 422, body: { error: { code: e.code, message: e.message } } };
  }
  // Deep recursion on hostile input (a payload nested 100,000 deep) is the client's fault, not ours.
  if (e instanceof RangeError && /call stack|recursion/i.test(e.message)) {
    return { status: 400, body: { error: { code: "BAD_REQUEST", message: "Request is nested too deeply" } } };
  }
  return { status: 500, body: { error: { code: "INTERNAL", message: "Internal error; see the server log" } } };
}
