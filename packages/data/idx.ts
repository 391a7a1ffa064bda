/**
 * IDX source (the MNIST file format): a big-endian header — two zero bytes, a type code
 * (0x08 = unsigned byte), the number of dimensions, then one uint32 size per dimension — and
 * the values. Images files have magic 2051 (3 dimensions), label files 2049 (1 dimension).
 *
 * @module
 */
import { LikenessError, ShapeError } from "@likeness/core";

/** Magic number of an IDX unsigned-byte image file (3 dimensions). */
export const IDX_IMAGES_MAGIC = 2051;
/** Magic number of an IDX unsigned-byte label file (1 dimension). */
export const IDX_LABELS_MAGIC = 2049;

/** A parsed IDX tensor of unsigned bytes. */
export interface IdxTensor {
  /** The magic number (2051 images, 2049 labels). */
  magic: number;
  /** Sizes of each dimension; `dims[0]` is the item count actually read (after `limit`). */
  dims: number[];
  /** Item count the file declares. */
  declaredCount: number;
  /** The values, row-major (a view into the input when possible). */
  data: Uint8Array;
}

/**
 * Read an IDX header only.
 *
 * @param bytes at least the header's bytes
 * @returns magic and dimensions as declared
 * @throws {LikenessError} CORRUPT when the header is short, not unsigned bytes, or has an unexpected magic
 * @example
 * ```ts
 * import { readIdxHeader } from "@likeness/data";
 * const h = readIdxHeader(new Uint8Array([0, 0, 8, 1, 0, 0, 0, 2]));
 * console.log(h.magic, h.dims); // 2049 [2]
 * ```
 */
export function readIdxHeader(bytes: Uint8Array): { magic: number; dims: number[]; headerBytes: number } {
  if (bytes.length < 4) throw corrupt(`it has ${bytes.length} bytes, fewer than the 4-byte magic`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = view.getUint32(0, false);
  if (bytes[0] !== 0 || bytes[1] !== 0 || bytes[2] !== 0x08) {
    throw corrupt(
      `magic ${magic} (0x${magic.toString(16).padStart(8, "0")}) is not an unsigned-byte IDX file ` +
        `(expected ${IDX_IMAGES_MAGIC} images or ${IDX_LABELS_MAGIC} labels); is it still gzipped?`,
    );
  }
  const nd = bytes[3];
  if (nd < 1) throw corrupt("it declares 0 dimensions");
  const headerBytes = 4 + 4 * nd;
  if (bytes.length < headerBytes) {
    throw corrupt(`its header needs ${headerBytes} bytes but the file has ${bytes.length}`);
  }
  const dims: number[] = [];
  for (let d = 0; d < nd; d++) dims.push(view.getUint32(4 + 4 * d, false));
  return { magic, dims, headerBytes };
}

/**
 * Parse an (uncompressed) IDX file of unsigned bytes.
 *
 * @param bytes the file's bytes
 * @param options `limit`: read only the first items; `expectMagic`: require 2051 or 2049
 * @returns the tensor (data is a view into `bytes`)
 * @throws {LikenessError} CORRUPT for a bad header, an unexpected magic or a truncated body
 * @example
 * ```ts
 * import { parseIdx } from "@likeness/data";
 * const t = parseIdx(new Uint8Array([0, 0, 8, 1, 0, 0, 0, 2, 7, 3]));
 * console.log(t.magic, Array.from(t.data)); // 2049 [7, 3]
 * ```
 */
export function parseIdx(bytes: Uint8Array, options: { limit?: number; expectMagic?: number } = {}): IdxTensor {
  const { magic, dims, headerBytes } = readIdxHeader(bytes);
  if (options.expectMagic !== undefined && magic !== options.expectMagic) {
    throw corrupt(
      `magic is ${magic} but ${options.expectMagic} was expected (images 2051, labels 2049); check the file name`,
    );
  }
  const declaredCount = dims[0];
  const per = dims.slice(1).reduce((a, b) => a * b, 1);
  let count = declaredCount;
  if (options.limit !== undefined) {
    if (!Number.isInteger(options.limit) || options.limit < 1) {
      throw new ShapeError(`Invalid limit ${options.limit}: pass a positive integer`, "EMPTY_INPUT");
    }
    count = Math.min(count, options.limit);
  }
  const need = headerBytes + count * per;
  if (bytes.length < need) {
    throw corrupt(
      `it declares ${declaredCount} items of ${per} bytes but holds only ${
        bytes.length - headerBytes
      } data bytes (truncated)`,
    );
  }
  return {
    magic,
    dims: [count, ...dims.slice(1)],
    declaredCount,
    data: bytes.subarray(headerBytes, headerBytes + count * per),
  };
}

function corrupt(why: string): LikenessError {
  return new LikenessError("CORRUPT", `Cannot read IDX data: ${why}`);
}
