/**
 * `readBody()`: a request body read with a byte limit and a deadline.
 *
 * @module
 */
import { concatBytes } from "@likeness/core";
import { HttpError } from "./http_errors.ts";

/**
 * Read a request body, counting bytes while it streams (chunked bodies included) and cancelling
 * it at the limit, and giving up when it does not arrive in time.
 *
 * @param req the request
 * @param maxBytes the body limit
 * @param timeoutMs how long the whole body may take
 * @returns the body bytes
 * @throws {HttpError} 413 TOO_LARGE over the limit, 408 TIMEOUT when too slow
 */
export async function readBody(req: Request, maxBytes: number, timeoutMs: number): Promise<Uint8Array> {
  const declared = Number(req.headers.get("content-length") ?? "0");
  if (declared > maxBytes) {
    throw new HttpError(413, "TOO_LARGE", `Request body is ${declared} bytes; the limit is ${maxBytes}`);
  }
  if (!req.body) return new Uint8Array(0);
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new HttpError(408, "TIMEOUT", `Request body did not arrive within ${timeoutMs} ms`)),
      timeoutMs,
    );
  });
  try {
    for (;;) {
      const { done, value } = await Promise.race([reader.read(), timeout]);
      if (done) break;
      total += value.length;
      if (total > maxBytes) {
        throw new HttpError(413, "TOO_LARGE", `Request body is over ${maxBytes} bytes; the limit is ${maxBytes}`);
      }
      chunks.push(value);
    }
  } catch (e) {
    reader.cancel().catch(() => {});
    throw e;
  } finally {
    clearTimeout(timer);
  }
  if (chunks.length === 1) return chunks[0];
  return concatBytes(chunks);
}
