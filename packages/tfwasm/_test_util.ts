/**
 * Set-up shared by the tfwasm kernel tests: seeded tensors of every heap dtype, and one run of a
 * function on a tfjs backend read back as plain arrays (to compare ours on wasm with cpu's).
 *
 * @module
 */
import "@tensorflow/tfjs-backend-cpu";
import { createRng } from "@likeness/core";
import { tf, type TfBackendName, useTfBackend } from "@likeness/tf";

/** A seeded tensor of `shape`: float32 in [-1, 1), int32 in [-1000, 1000], or bool. */
export function values(seed: number, shape: number[], dtype: "float32" | "int32" | "bool" = "float32"): tf.Tensor {
  const rng = createRng(seed);
  const n = shape.reduce((p, d) => p * d, 1);
  const v = Array.from({ length: n }, () => rng.next() * 2 - 1);
  if (dtype === "float32") return tf.tensor(Float32Array.from(v), shape);
  if (dtype === "int32") return tf.tensor(Int32Array.from(v, (x) => Math.round(x * 1000)), shape, "int32");
  return tf.tensor(Uint8Array.from(v, (x) => (x > 0 ? 1 : 0)), shape, "bool");
}

/** Run `f` on `backend` and read its outputs back (shape and values). */
export async function on(backend: TfBackendName, f: () => tf.Tensor[]): Promise<{ shape: number[]; data: number[] }[]> {
  await useTfBackend(backend);
  const out = tf.tidy(f);
  const got = out.map((t) => ({ shape: t.shape, data: Array.from(t.dataSync() as ArrayLike<number>) }));
  tf.dispose(out);
  return got;
}
