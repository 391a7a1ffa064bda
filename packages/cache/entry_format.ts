/**
 * Binary format of one cache entry: magic, a JSON header (who computed it, from what, shape,
 * SHA-256 of the payload), then little-endian float32 rows. A bad magic, header, size or
 * checksum is detected, so garbage is never loaded.
 *
 * @module
 */
import { LikenessError, type Matrix } from "@likeness/core";

const MAGIC = new TextEncoder().encode("LKEMB001");

/** Header of an entry. */
export interface EntryHeader {
  /** The encoder's identity. */
  identity: string;
  /** Hash of the inputs. */
  contentHash: string;
  /** Rows (inputs). */
  rows: number;
  /** Columns (embedding width). */
  cols: number;
  /** Hex SHA-256 of the payload bytes. */
  sha256: string;
}

/**
 * Hex SHA-256 (WebCrypto).
 * @param bytes data
 * @returns 64 hex chars
 * @example
 * ```ts
 * import { sha256 } from "@likeness/cache";
 * import assert from "node:assert/strict";
 * assert.equal((await sha256(new Uint8Array(0))).slice(0, 8), "e3b0c442");
 * ```
 */
export async function sha256(bytes: Uint8Array): Promise<string> {
  const d = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes.slice() as Uint8Array<ArrayBuffer>));
  return Array.from(d, (b) => b.toString(16).padStart(2, "0")).join("");
}

function payloadBytes(m: Matrix): Uint8Array {
  const out = new Uint8Array(m.data.length * 4);
  const dv = new DataView(out.buffer);
  for (let i = 0; i < m.data.length; i++) dv.setFloat32(i * 4, m.data[i], true);
  return out;
}

/**
 * Serialise an entry.
 * @param m the embeddings
 * @param meta identity and content hash
 * @returns bytes
 * @example
 * ```ts
 * import { encodeEntry } from "@likeness/cache";
 * import assert from "node:assert/strict";
 * const b = await encodeEntry({ data: new Float32Array([1, 2]), rows: 1, cols: 2 }, { identity: "e", contentHash: "c" });
 * assert.ok(b.length > 8);
 * ```
 */
export async function encodeEntry(m: Matrix, meta: { identity: string; contentHash: string }): Promise<Uint8Array> {
  const payload = payloadBytes(m);
  const header: EntryHeader = {
    identity: meta.identity,
    contentHash: meta.contentHash,
    rows: m.rows,
    cols: m.cols,
    sha256: await sha256(payload),
  };
  const h = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(MAGIC.length + 4 + h.length + payload.length);
  out.set(MAGIC, 0);
  new DataView(out.buffer).setUint32(MAGIC.length, h.length, true);
  out.set(h, MAGIC.length + 4);
  out.set(payload, MAGIC.length + 4 + h.length);
  return out;
}

function corrupt(why: string): LikenessError {
  return new LikenessError("CORRUPT", `Cache entry is corrupt (${why}); it will be recomputed`);
}

/**
 * Read only an entry's header.
 * @param bytes entry bytes
 * @returns the header and where the payload starts
 * @throws {LikenessError} CORRUPT for a bad magic or header
 * @example
 * ```ts
 * import { decodeHeader, encodeEntry } from "@likeness/cache";
 * import assert from "node:assert/strict";
 * const b = await encodeEntry({ data: new Float32Array([1]), rows: 1, cols: 1 }, { identity: "e", contentHash: "c" });
 * assert.equal(decodeHeader(b).header.identity, "e");
 * ```
 */
export function decodeHeader(bytes: Uint8Array): { header: EntryHeader; payloadOffset: number } {
  if (bytes.length < MAGIC.length + 4 || MAGIC.some((b, i) => bytes[i] !== b)) throw corrupt("bad magic");
  const hl = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(MAGIC.length, true);
  if (MAGIC.length + 4 + hl > bytes.length) throw corrupt("truncated header");
  let header: EntryHeader;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(MAGIC.length + 4, MAGIC.length + 4 + hl)));
  } catch {
    throw corrupt("unreadable header");
  }
  if (
    !header || typeof header.identity !== "string" || typeof header.contentHash !== "string" ||
    !Number.isInteger(header.rows) || !Number.isInteger(header.cols) || header.rows < 0 || header.cols < 1
  ) {
    throw corrupt("malformed header");
  }
  return { header, payloadOffset: MAGIC.length + 4 + hl };
}

/**
 * Parse and verify an entry.
 * @param bytes entry bytes
 * @returns header and embeddings
 * @throws {LikenessError} CORRUPT when anything does not check out
 * @example
 * ```ts
 * import { decodeEntry, encodeEntry } from "@likeness/cache";
 * import assert from "node:assert/strict";
 * const b = await encodeEntry({ data: new Float32Array([1, 2]), rows: 1, cols: 2 }, { identity: "e", contentHash: "c" });
 * assert.deepEqual([...(await decodeEntry(b)).matrix.data], [1, 2]);
 * ```
 */
export async function decodeEntry(bytes: Uint8Array): Promise<{ header: EntryHeader; matrix: Matrix }> {
  const { header, payloadOffset } = decodeHeader(bytes);
  const n = header.rows * header.cols;
  const payload = bytes.subarray(payloadOffset);
  if (payload.length !== n * 4) throw corrupt(`payload has ${payload.length} bytes, header says ${n * 4}`);
  if ((await sha256(payload)) !== header.sha256) throw corrupt("checksum mismatch");
  const data = new Float32Array(n);
  const dv = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  for (let i = 0; i < n; i++) data[i] = dv.getFloat32(i * 4, true);
  for (let i = 0; i < n; i++) if (!Number.isFinite(data[i])) throw corrupt("non-finite value");
  return { header, matrix: { data, rows: header.rows, cols: header.cols } };
}
