/**
 * A hash of a batch of inputs (strings, number rows, typed arrays, tensors, JSON objects),
 * so a changed data set gets a different cache key.
 *
 * @module
 */
import { concatBytes, ValueError } from "@likeness/core";
import { tf } from "@likeness/tf";
import { sha256 } from "./entry_format.ts";

function u32(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n, true);
  return b;
}

function f32(values: ArrayLike<number>): Uint8Array {
  const b = new Uint8Array(values.length * 4);
  const dv = new DataView(b.buffer);
  for (let i = 0; i < values.length; i++) dv.setFloat32(i * 4, values[i], true);
  return b;
}

/**
 * SHA-256 of a canonical serialisation of the inputs (order matters).
 * @param inputs array of items or a tensor
 * @returns 64 hex chars
 * @throws {ValueError} INVALID_ARGUMENT for items that cannot be serialised (functions, symbols)
 * @example
 * ```ts
 * import { hashInputs } from "@likeness/cache";
 * console.log((await hashInputs(["a", "b"])) !== (await hashInputs(["b", "a"]))); // true
 * ```
 */
export async function hashInputs(inputs: tf.Tensor | readonly unknown[]): Promise<string> {
  const enc = new TextEncoder();
  const parts: Uint8Array[] = [];
  if (inputs instanceof tf.Tensor) {
    parts.push(
      enc.encode(`tensor:${inputs.dtype}:${inputs.shape.join("x")}:`),
      f32(await inputs.data() as Float32Array),
    );
  } else {
    parts.push(enc.encode(`items:${inputs.length}:`));
    inputs.forEach((item, i) => {
      if (typeof item === "string") {
        const s = enc.encode(item);
        parts.push(enc.encode("s"), u32(s.length), s);
      } else if (ArrayBuffer.isView(item) || (Array.isArray(item) && item.every((v) => typeof v === "number"))) {
        const a = item as unknown as ArrayLike<number>;
        parts.push(enc.encode("f"), u32(a.length), f32(a));
      } else {
        let s: string | undefined;
        try {
          s = JSON.stringify(item);
        } catch { /* handled below */ }
        if (s === undefined) {
          throw new ValueError(
            "INVALID_ARGUMENT",
            `Cannot hash input ${i} (${typeof item}) for the cache: use strings, number rows or JSON objects`,
          );
        }
        const b = enc.encode(s);
        parts.push(enc.encode("j"), u32(b.length), b);
      }
    });
  }
  return await sha256(concatBytes(parts));
}
