/**
 * Per-call scratch layout after a resident set (private): consecutive 16-byte-aligned regions in
 * one WebAssembly memory, grown once, with the same typed errors for every resident kernel.
 *
 * @module
 */
import { ShapeError } from "@likeness/core";

/**
 * Lay out `sizes` bytes from `start`, check the memory limit and grow the memory to fit.
 *
 * @param start first free byte (after the resident data)
 * @param sizes bytes of each region (0 allowed)
 * @param limit the most bytes this memory may hold
 * @param ensure grows the memory to at least the given byte count
 * @returns each region's offset and the end of the last one
 * @throws {ShapeError} TOO_LARGE when the layout passes `limit` or the memory cannot grow
 */
export function layoutScratch(
  start: number,
  sizes: readonly number[],
  limit: number,
  ensure: (bytes: number) => void,
): { offs: number[]; end: number } {
  let at = start;
  const offs: number[] = [];
  for (const s of sizes) {
    offs.push(at);
    at = (at + s + 16 + 15) & ~15;
  }
  if (at > limit) {
    throw new ShapeError(
      `Cannot search: it needs ${
        Math.ceil(at / 2 ** 20)
      } MiB of WebAssembly memory; split the queries into smaller batches`,
      "TOO_LARGE",
    );
  }
  try {
    ensure(at);
  } catch (cause) {
    throw new ShapeError(
      `Cannot search: could not grow WebAssembly memory to ${Math.ceil(at / 2 ** 20)} MiB`,
      "TOO_LARGE",
      { cause },
    );
  }
  return { offs, end: at };
}
