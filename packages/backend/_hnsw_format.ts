/**
 * The saved-index byte format of the `hnsw` kind (little-endian), read back in one pass from one
 * buffer (no mmap, no per-row calls):
 *
 * ```
 * u32 magic "LKIX" (0x58494b4c) | u32 version (1) | u32 header bytes H | H bytes of UTF-8 JSON
 * then sections, each 4-byte aligned: 4-byte ASCII tag | u32 payload bytes | payload | zero pad
 * last: u32 CRC-32 (IEEE) of every byte before it
 * ```
 *
 * The JSON header names the kind, metric, dim and the kind's parameters; the `hnsw` sections are
 * `VECS` (rows × dim f32), `IDS_`, `LABL` (rows i32), `DELE` (rows u8 tombstones), `LEVL`, `UOFF`
 * (rows i32), `LNK0` (rows × (1 + 2M) i32), `UPPR` (upper lists, i32).
 *
 * @module
 */
import { LikenessError } from "@likeness/core";

const MAGIC = 0x58494b4c;
/** Format version written by this code. */
export const _FORMAT_VERSION = 1;

const TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC-32 (IEEE 802.3) of bytes. */
export function _crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** A section payload. */
export type _Section = Float32Array | Int32Array | Uint8Array;

const pad4 = (n: number) => (n + 3) & ~3;

/** Write header JSON and sections into one buffer with a trailing CRC-32. */
export function _writeIndexFile(header: Record<string, unknown>, sections: Record<string, _Section>): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(header));
  let total = 12 + pad4(json.length);
  for (const s of Object.values(sections)) total += 8 + pad4(s.byteLength);
  total += 4;
  const out = new Uint8Array(total);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, MAGIC, true);
  dv.setUint32(4, _FORMAT_VERSION, true);
  dv.setUint32(8, json.length, true);
  out.set(json, 12);
  let at = 12 + pad4(json.length);
  for (const [tag, s] of Object.entries(sections)) {
    for (let i = 0; i < 4; i++) out[at + i] = tag.charCodeAt(i);
    dv.setUint32(at + 4, s.byteLength, true);
    out.set(new Uint8Array(s.buffer, s.byteOffset, s.byteLength), at + 8);
    at += 8 + pad4(s.byteLength);
  }
  dv.setUint32(at, _crc32(out.subarray(0, at)), true);
  return out;
}

function corrupt(why: string): LikenessError {
  return new LikenessError("CORRUPT", `Cannot load the index: ${why}; save it again from a live index`);
}

/** A parsed file: header and raw section bytes (aligned copies). */
export interface _IndexFile {
  header: Record<string, unknown>;
  sections: Map<string, Uint8Array>;
}

/**
 * Parse and checksum a saved index.
 *
 * @throws {LikenessError} CORRUPT for a bad magic, version, checksum or truncation
 */
export function _readIndexFile(bytes: Uint8Array): _IndexFile {
  if (!(bytes instanceof Uint8Array)) throw corrupt("expected a Uint8Array");
  if (bytes.length < 16) throw corrupt(`only ${bytes.length} bytes`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (dv.getUint32(0, true) !== MAGIC) throw corrupt("it does not start with the LKIX magic");
  const version = dv.getUint32(4, true);
  if (version !== _FORMAT_VERSION) throw corrupt(`format version ${version} is not ${_FORMAT_VERSION}`);
  const end = bytes.length - 4;
  if (_crc32(bytes.subarray(0, end)) !== dv.getUint32(end, true)) throw corrupt("the CRC-32 does not match");
  const h = dv.getUint32(8, true);
  if (12 + h > end) throw corrupt("the header runs past the end");
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(12, 12 + h)));
  } catch {
    throw corrupt("the header is not JSON");
  }
  if (!header || typeof header !== "object") throw corrupt("the header is not an object");
  const sections = new Map<string, Uint8Array>();
  let at = 12 + pad4(h);
  while (at < end) {
    if (at + 8 > end) throw corrupt("a section header runs past the end");
    const tag = String.fromCharCode(bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]);
    const len = dv.getUint32(at + 4, true);
    if (at + 8 + len > end) throw corrupt(`section ${tag} runs past the end`);
    sections.set(tag, bytes.slice(at + 8, at + 8 + len));
    at += 8 + pad4(len);
  }
  return { header, sections };
}

/** A section as a typed array of the expected length. */
export function _section<T extends _Section>(
  file: _IndexFile,
  tag: string,
  ctor: { new (b: ArrayBuffer): T; BYTES_PER_ELEMENT: number },
  length: number,
): T {
  const raw = file.sections.get(tag);
  if (!raw) throw corrupt(`section ${tag} is missing`);
  if (raw.byteLength !== length * ctor.BYTES_PER_ELEMENT) {
    throw corrupt(`section ${tag} has ${raw.byteLength} bytes, expected ${length * ctor.BYTES_PER_ELEMENT}`);
  }
  return new ctor(raw.buffer as ArrayBuffer);
}

/** Throw CORRUPT with a reason (for checks of the caller). */
export function _corrupt(why: string): LikenessError {
  return corrupt(why);
}
