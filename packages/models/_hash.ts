// Private: a small synchronous 64-bit content hash (two FNV-1a lanes) for identities.
import { concatBytes } from "@likeness/core";
import type { NamedTensor } from "./types.ts";

/** Hash bytes (and optionally continue from a previous state) into 16 hex chars. */
export function hashBytes(bytes: Uint8Array, seed: [number, number] = [0x811c9dc5, 0x9e3779b9]): string {
  let a = seed[0] >>> 0;
  let b = seed[1] >>> 0;
  for (let i = 0; i < bytes.length; i++) {
    a = Math.imul(a ^ bytes[i], 0x01000193) >>> 0;
    b = Math.imul(b ^ bytes[i], 0x5bd1e995) >>> 0;
    b = (b ^ (b >>> 13)) >>> 0;
  }
  return a.toString(16).padStart(8, "0") + b.toString(16).padStart(8, "0");
}

/** Hash a config plus weights into 16 hex chars. */
export function hashWeights(config: unknown, weights: readonly NamedTensor[]): string {
  const parts: Uint8Array[] = [new TextEncoder().encode(JSON.stringify(config))];
  for (const w of weights) {
    parts.push(new TextEncoder().encode(`${w.name}:${w.shape.join("x")};`));
    parts.push(new Uint8Array(w.values.buffer, w.values.byteOffset, w.values.byteLength));
  }
  return hashBytes(concatBytes(parts));
}
