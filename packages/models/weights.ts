/**
 * Binary weight files: tensors packed into one little-endian float32 buffer plus a JSON
 * manifest with a SHA-256 per tensor and for the whole file, so corruption is detected.
 *
 * @module
 */
import { LikenessError, ShapeError } from "@likeness/core";
import type { NamedTensor } from "./types.ts";

/** One tensor in a {@link WeightManifest}. */
export interface WeightEntry {
  /** Tensor name. */
  name: string;
  /** Shape. */
  shape: number[];
  /** Always `float32`. */
  dtype: "float32";
  /** Byte offset in the data. */
  offset: number;
  /** Byte length. */
  byteLength: number;
  /** Hex SHA-256 of the tensor's bytes. */
  sha256: string;
}

/** Manifest of a packed weight buffer. */
export interface WeightManifest {
  /** `likeness-weights`. */
  format: "likeness-weights";
  /** Format version (1). */
  version: 1;
  /** Total byte length of the data. */
  byteLength: number;
  /** Hex SHA-256 of the whole data. */
  sha256: string;
  /** Tensors in order. */
  tensors: WeightEntry[];
}

/**
 * Hex SHA-256 of bytes (WebCrypto).
 * @param bytes data
 * @returns 64 hex chars
 * @example
 * ```ts
 * import { sha256Hex } from "@likeness/models";
 * console.log((await sha256Hex(new Uint8Array([1, 2]))).length); // 64
 * ```
 */
export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const copy = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : bytes.slice();
  const d = new Uint8Array(await crypto.subtle.digest("SHA-256", copy as Uint8Array<ArrayBuffer>));
  return Array.from(d, (b) => b.toString(16).padStart(2, "0")).join("");
}

const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function toBytes(values: Float32Array): Uint8Array {
  const out = new Uint8Array(values.length * 4);
  if (littleEndian) {
    out.set(new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
  } else {
    const dv = new DataView(out.buffer);
    values.forEach((v, i) => dv.setFloat32(i * 4, v, true));
  }
  return out;
}

/**
 * Pack tensors into one buffer and a manifest.
 * @param tensors named tensors (names must be unique)
 * @returns manifest and data
 * @throws {ShapeError} when a tensor's values do not match its shape
 * @example
 * ```ts
 * import { packWeights } from "@likeness/models";
 * const { manifest, data } = await packWeights([{ name: "w", shape: [2], values: new Float32Array([1, 2]) }]);
 * console.log(manifest.tensors[0].byteLength, data.length); // 8 8
 * ```
 */
export async function packWeights(
  tensors: readonly NamedTensor[],
): Promise<{ manifest: WeightManifest; data: Uint8Array }> {
  const entries: WeightEntry[] = [];
  const chunks: Uint8Array[] = [];
  let offset = 0;
  const seen = new Set<string>();
  for (const t of tensors) {
    const n = t.shape.reduce((a, b) => a * b, 1);
    if (n !== t.values.length) {
      throw new ShapeError(
        `Cannot pack weight "${t.name}": shape [${t.shape}] needs ${n} values but it has ${t.values.length}`,
      );
    }
    if (seen.has(t.name)) throw new ShapeError(`Cannot pack weights: the name "${t.name}" appears twice`, "CONFLICT");
    seen.add(t.name);
    const bytes = toBytes(t.values);
    entries.push({
      name: t.name,
      shape: [...t.shape],
      dtype: "float32",
      offset,
      byteLength: bytes.length,
      sha256: await sha256Hex(bytes),
    });
    chunks.push(bytes);
    offset += bytes.length;
  }
  const data = new Uint8Array(offset);
  let o = 0;
  for (const c of chunks) {
    data.set(c, o);
    o += c.length;
  }
  return {
    manifest: {
      format: "likeness-weights",
      version: 1,
      byteLength: offset,
      sha256: await sha256Hex(data),
      tensors: entries,
    },
    data,
  };
}

/**
 * Unpack and verify tensors.
 * @param manifest as written by {@link packWeights}
 * @param data the packed bytes
 * @param what file name used in error messages (default `weights.bin`)
 * @returns the tensors
 * @throws {LikenessError} CORRUPT when the manifest is malformed, the size or a checksum does not match
 * @example
 * ```ts
 * import { packWeights, unpackWeights } from "@likeness/models";
 * const p = await packWeights([{ name: "w", shape: [1], values: new Float32Array([3]) }]);
 * console.log((await unpackWeights(p.manifest, p.data))[0].values[0]); // 3
 * ```
 */
export async function unpackWeights(
  manifest: WeightManifest,
  data: Uint8Array,
  what = "weights.bin",
): Promise<NamedTensor[]> {
  const fix = "re-save the model or copy the artifact again";
  if (!manifest || manifest.format !== "likeness-weights" || !Array.isArray(manifest.tensors)) {
    throw new LikenessError("CORRUPT", `Cannot read ${what}: its manifest is not a likeness weight manifest; ${fix}`);
  }
  if (data.length !== manifest.byteLength) {
    throw new LikenessError(
      "CORRUPT",
      `Cannot read ${what}: it has ${data.length} bytes but its manifest says ${manifest.byteLength} (truncated or replaced); ${fix}`,
      { details: { actual: data.length, expected: manifest.byteLength } },
    );
  }
  if ((await sha256Hex(data)) !== manifest.sha256) {
    throw new LikenessError("CORRUPT", `Cannot read ${what}: checksum mismatch (the file is corrupt); ${fix}`);
  }
  const out: NamedTensor[] = [];
  for (const e of manifest.tensors) {
    const n = e.shape.reduce((a, b) => a * b, 1);
    if (e.offset < 0 || e.byteLength !== n * 4 || e.offset + e.byteLength > data.length) {
      throw new LikenessError(
        "CORRUPT",
        `Cannot read ${what}: tensor "${e.name}" has an impossible offset or size; ${fix}`,
      );
    }
    const bytes = data.slice(e.offset, e.offset + e.byteLength);
    if ((await sha256Hex(bytes)) !== e.sha256) {
      throw new LikenessError("CORRUPT", `Cannot read ${what}: checksum mismatch for tensor "${e.name}"; ${fix}`);
    }
    const values = new Float32Array(n);
    const dv = new DataView(bytes.buffer);
    for (let i = 0; i < n; i++) values[i] = dv.getFloat32(i * 4, true);
    out.push({ name: e.name, shape: [...e.shape], values });
  }
  return out;
}
