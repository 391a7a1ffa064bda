/**
 * The saved form of a vector index: a documented little-endian byte format with a header, a
 * version, tagged sections and a CRC-32, read back by `loadIndex` (see the backend README,
 * "Saved index format").
 *
 * ```
 * offset  size  field
 * 0       4     magic "LKIX"
 * 4       2     format version (u16: 1, or 2 for an hnsw index with int8 codes)
 * 6       1     kind code (0 flat, 1 int8, 2 binary, 3 hnsw)
 * 7       1     metric code (0 dot, 1 cosine, 2 l2, 3 sqeuclidean, 4 l1)
 * 8       4     dim (u32)
 * 12      4     rows stored (u32, live rows only: a saved index is compact)
 * 16      4     next id (u32)
 * 20      4     section count (u32)
 * 24      4     flags (u32; bit 0: stored vectors are unit-normalised)
 * 28      4     reserved (0)
 * 32      ...   sections: tag (4 ASCII bytes), byte length (u32), payload, zero padding to 4 bytes
 * end-4   4     CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320) of every byte before it
 * ```
 *
 * Sections of every kind: `META` (UTF-8 JSON of the kind parameters), `IDS ` (int32 × rows),
 * `LABL` (int32 × rows), `VECS` (float32 × rows × dim, row-major, in position order). `int8` adds
 * `QSCL` (float32 × dim, the per-dimension scale); `binary` adds `BCTR` (float32 × dim, the
 * centre the sign bits are taken against); codes are derived from the vectors on load. `hnsw`
 * adds `HNSW` (its graph, format owned by that kind) and, with int8 codes, `HQ8 ` (float32 × (dim
 * + 1): the codes' per-dimension offset, then their scale): such a file is written as version 2,
 * so a build that reads only version 1 rejects it (UNSUPPORTED) instead of searching it without
 * its codes. Every other file is written as version 1. Readers skip sections they do not know.
 *
 * @module
 */
import { LikenessError } from "@likeness/core";
import { type Metric, METRICS } from "@likeness/kernels/types";
import { INDEX_KINDS, type IndexKind } from "./index_types.ts";

/** Magic bytes "LKIX". */
export const INDEX_MAGIC = 0x58494b4c;
/** Newest format version this build reads and writes (2: hnsw int8 codes; see the module doc). */
export const INDEX_FORMAT_VERSION = 2;
/** Bytes of the fixed header. */
export const INDEX_HEADER_BYTES = 32;
/** Header flag: stored vectors are unit-normalised (cosine). */
export const FLAG_NORMALIZED = 1;

/** The fixed header of a saved index. */
export interface IndexHeader {
  /** Format version. */
  version: number;
  /** Kind. */
  kind: IndexKind;
  /** Metric. */
  metric: Metric;
  /** Dimension. */
  dim: number;
  /** Rows stored. */
  rows: number;
  /** Next id to assign. */
  nextId: number;
  /** Flags (bit 0: vectors normalised). */
  flags: number;
}

/** A decoded index: header and sections by tag. */
export interface DecodedIndex {
  /** The header. */
  header: IndexHeader;
  /** Section payloads by 4-character tag (views into the input bytes). */
  sections: Map<string, Uint8Array>;
}

let table: Uint32Array | undefined;

/** Slice-by-8 tables: `table[k * 256 + b]` is the CRC of byte b followed by k zero bytes. */
function crcTables(): Uint32Array {
  if (!table) {
    table = new Uint32Array(8 * 256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let b = 0; b < 8; b++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      table[n] = c >>> 0;
    }
    for (let n = 0; n < 256; n++) {
      let c = table[n];
      for (let k = 1; k < 8; k++) {
        c = table[c & 0xff] ^ (c >>> 8);
        table[k * 256 + n] = c >>> 0;
      }
    }
  }
  return table;
}

/**
 * CRC-32 (IEEE 802.3) of bytes (slice-by-8: eight bytes per step, the same value as the
 * byte-at-a-time definition). Given the CRC-32 of the bytes before, it continues it:
 * `crc32(b, crc32(a))` is the CRC-32 of `a` followed by `b` (so a file can be checked while it is read).
 *
 * @param bytes input
 * @param previous the CRC-32 of the bytes before these [0: none]
 * @returns the checksum as an unsigned 32-bit integer
 * @example
 * ```ts
 * import { crc32 } from "@likeness/backend";
 * import assert from "node:assert/strict";
 * const b = new TextEncoder().encode("123456789");
 * assert.equal(crc32(b).toString(16), "cbf43926");
 * assert.equal(crc32(b.subarray(4), crc32(b.subarray(0, 4))).toString(16), "cbf43926");
 * ```
 */
export function crc32(bytes: Uint8Array, previous = 0): number {
  const t = crcTables();
  let c = (previous ^ 0xffffffff) >>> 0;
  let i = 0;
  const n = bytes.length;
  const end8 = n - (n & 7);
  for (; i < end8; i += 8) {
    const a = (c ^ (bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) | (bytes[i + 3] << 24))) >>> 0;
    c = t[1792 + (a & 0xff)] ^ t[1536 + ((a >>> 8) & 0xff)] ^ t[1280 + ((a >>> 16) & 0xff)] ^ t[1024 + (a >>> 24)] ^
      t[768 + bytes[i + 4]] ^ t[512 + bytes[i + 5]] ^ t[256 + bytes[i + 6]] ^ t[bytes[i + 7]];
  }
  for (; i < n; i++) c = t[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function corrupt(why: string): LikenessError {
  return new LikenessError(
    "CORRUPT",
    `Cannot load index: ${why}; the bytes are not a saved likeness index or are damaged`,
  );
}

/**
 * Encode a header and sections into the saved format.
 *
 * @param header the header (`version`: 1 to {@link INDEX_FORMAT_VERSION}, the oldest version
 *   whose readers understand the sections)
 * @param sections `[tag, payload]` pairs in order; tags are 4 ASCII characters
 * @returns the bytes
 * @throws {LikenessError} INVALID_ARGUMENT for a tag that is not 4 ASCII characters or a version out of range
 * @example
 * ```ts
 * import { decodeIndex, encodeIndex } from "@likeness/backend";
 * import assert from "node:assert/strict";
 * const bytes = encodeIndex({ version: 1, kind: "flat", metric: "dot", dim: 2, rows: 0, nextId: 0, flags: 0 }, []);
 * assert.equal(decodeIndex(bytes).header.dim, 2);
 * ```
 */
export function encodeIndex(header: IndexHeader, sections: [string, Uint8Array][]): Uint8Array {
  const version = header.version;
  if (!Number.isInteger(version) || version < 1 || version > INDEX_FORMAT_VERSION) {
    throw new LikenessError(
      "INVALID_ARGUMENT",
      `Invalid format version ${version}: this build writes versions 1 to ${INDEX_FORMAT_VERSION}`,
    );
  }
  let total = INDEX_HEADER_BYTES + 4;
  for (const [tag, p] of sections) {
    if (!/^[\x20-\x7e]{4}$/.test(tag)) {
      throw new LikenessError("INVALID_ARGUMENT", `Invalid section tag ${JSON.stringify(tag)}: use 4 ASCII characters`);
    }
    total += 8 + ((p.byteLength + 3) & ~3);
  }
  const out = new Uint8Array(total);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, INDEX_MAGIC, true);
  dv.setUint16(4, version, true);
  dv.setUint8(6, INDEX_KINDS.indexOf(header.kind));
  dv.setUint8(7, METRICS.indexOf(header.metric));
  dv.setUint32(8, header.dim, true);
  dv.setUint32(12, header.rows, true);
  dv.setUint32(16, header.nextId, true);
  dv.setUint32(20, sections.length, true);
  dv.setUint32(24, header.flags, true);
  let at = INDEX_HEADER_BYTES;
  for (const [tag, p] of sections) {
    for (let i = 0; i < 4; i++) out[at + i] = tag.charCodeAt(i);
    dv.setUint32(at + 4, p.byteLength, true);
    out.set(p, at + 8);
    at += 8 + ((p.byteLength + 3) & ~3);
  }
  dv.setUint32(at, crc32(out.subarray(0, at)), true);
  return out;
}

/** Options of {@link decodeIndex}. */
export interface DecodeIndexOptions {
  /**
   * The CRC-32 of every byte before the stored one, when the caller computed it while reading the
   * bytes (it is compared with the stored checksum instead of a second pass over the bytes).
   */
  checksum?: number;
}

/**
 * Decode and check saved bytes: magic, version, kind, metric, section bounds and the CRC-32.
 *
 * @param bytes saved index bytes
 * @param options `checksum`: the CRC-32 the caller already computed over the bytes
 * @returns header and sections
 * @throws {LikenessError} CORRUPT for truncated, damaged or foreign bytes; UNSUPPORTED for a newer version
 * @example
 * ```ts
 * import { decodeIndex } from "@likeness/backend";
 * import assert from "node:assert/strict";
 * assert.throws(() => decodeIndex(new Uint8Array(8)), { code: "CORRUPT" });
 * ```
 */
export function decodeIndex(bytes: Uint8Array, options: DecodeIndexOptions = {}): DecodedIndex {
  if (!(bytes instanceof Uint8Array)) throw corrupt("expected a Uint8Array");
  if (bytes.byteLength < INDEX_HEADER_BYTES + 4) throw corrupt(`only ${bytes.byteLength} bytes`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (dv.getUint32(0, true) !== INDEX_MAGIC) throw corrupt("wrong magic");
  const end = bytes.byteLength - 4;
  if ((options.checksum ?? crc32(bytes.subarray(0, end))) !== dv.getUint32(end, true)) {
    throw corrupt("checksum mismatch (truncated or damaged)");
  }
  const version = dv.getUint16(4, true);
  if (version > INDEX_FORMAT_VERSION || version < 1) {
    throw new LikenessError(
      "UNSUPPORTED",
      `Cannot load index: format version ${version} is not supported (this build reads up to ${INDEX_FORMAT_VERSION})`,
    );
  }
  const kind = INDEX_KINDS[dv.getUint8(6)];
  const metric = METRICS[dv.getUint8(7)];
  if (!kind) throw corrupt(`unknown kind code ${dv.getUint8(6)}`);
  if (!metric) throw corrupt(`unknown metric code ${dv.getUint8(7)}`);
  const header: IndexHeader = {
    version,
    kind,
    metric,
    dim: dv.getUint32(8, true),
    rows: dv.getUint32(12, true),
    nextId: dv.getUint32(16, true),
    flags: dv.getUint32(24, true),
  };
  if (header.dim < 1) throw corrupt("dimension 0");
  const count = dv.getUint32(20, true);
  const sections = new Map<string, Uint8Array>();
  let at = INDEX_HEADER_BYTES;
  for (let s = 0; s < count; s++) {
    if (at + 8 > end) throw corrupt("section table runs past the end");
    const tag = String.fromCharCode(bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]);
    const len = dv.getUint32(at + 4, true);
    if (at + 8 + len > end) throw corrupt(`section ${tag} runs past the end`);
    if (sections.has(tag)) throw corrupt(`section ${tag} appears twice`);
    sections.set(tag, bytes.subarray(at + 8, at + 8 + len));
    at += 8 + ((len + 3) & ~3);
  }
  if (at !== end) throw corrupt("trailing bytes after the last section");
  return { header, sections };
}

/**
 * A section as a typed array of the expected length (copied, so alignment does not matter).
 *
 * @param sections decoded sections
 * @param tag section tag
 * @param count expected element count
 * @param type `f32` or `i32`
 * @returns the values
 * @throws {LikenessError} CORRUPT when the section is missing or has another size
 * @example
 * ```ts
 * import { sectionArray } from "@likeness/backend";
 * import assert from "node:assert/strict";
 * const s = new Map([["IDS ", new Uint8Array(new Int32Array([7]).buffer)]]);
 * assert.deepEqual([...sectionArray(s, "IDS ", 1, "i32")], [7]);
 * ```
 */
export function sectionArray(
  sections: Map<string, Uint8Array>,
  tag: string,
  count: number,
  type: "f32",
): Float32Array;
export function sectionArray(
  sections: Map<string, Uint8Array>,
  tag: string,
  count: number,
  type: "i32",
): Int32Array;
export function sectionArray(
  sections: Map<string, Uint8Array>,
  tag: string,
  count: number,
  type: "f32" | "i32",
): Float32Array | Int32Array {
  const p = sections.get(tag);
  if (!p) throw corrupt(`section ${tag.trim()} is missing`);
  if (p.byteLength !== count * 4) {
    throw corrupt(`section ${tag.trim()} has ${p.byteLength} bytes, expected ${count * 4}`);
  }
  const copy = p.slice();
  return type === "f32" ? new Float32Array(copy.buffer) : new Int32Array(copy.buffer);
}

/**
 * Bytes of a typed array (little-endian on every platform likeness runs on).
 *
 * @param a the array
 * @returns a byte view (no copy)
 * @example
 * ```ts
 * import { bytesOf } from "@likeness/backend";
 * import assert from "node:assert/strict";
 * assert.equal(bytesOf(new Int32Array([1])).length, 4);
 * ```
 */
export function bytesOf(a: Float32Array | Int32Array | Uint8Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}
