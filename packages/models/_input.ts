// Private: turn a dense batch (tensor, rows of numbers, Float32Arrays) into a float32 tensor.
import { checkFinite, ShapeError, ValueError } from "@likeness/core";
import { tf } from "@likeness/tf";
import type { EncoderBatch } from "./types.ts";

/** Build a `[batch, ...featureShape]` float32 tensor, validating the shape and values. */
export function denseBatch(batch: EncoderBatch, featureShape: readonly number[], what: string): tf.Tensor {
  const width = featureShape.reduce((a, b) => a * b, 1);
  if (batch instanceof tf.Tensor) {
    const s = batch.shape;
    const rest = s.slice(1);
    const restSize = rest.reduce((a, b) => a * b, 1);
    if (s.length < 2 || restSize !== width) {
      throw new ShapeError(
        `Cannot encode with ${what}: input tensor has shape [${s}] but each item needs ${width} values ([batch, ${featureShape}])`,
      );
    }
    if (s[0] === 0) throw new ShapeError(`Cannot encode with ${what}: the batch is empty`, "EMPTY_INPUT");
    return tf.tidy(() => tf.reshape(tf.cast(batch, "float32"), [s[0], ...featureShape]));
  }
  if (!Array.isArray(batch)) {
    throw new ValueError("INVALID_ARGUMENT", `Cannot encode with ${what}: pass a tf.Tensor or an array of rows`);
  }
  const n = batch.length;
  if (n === 0) throw new ShapeError(`Cannot encode with ${what}: the batch is empty`, "EMPTY_INPUT");
  const data = new Float32Array(n * width);
  for (let i = 0; i < n; i++) {
    const row = batch[i] as ArrayLike<number>;
    if (row === null || typeof row !== "object" || typeof row.length !== "number") {
      throw new ValueError(
        "INVALID_ARGUMENT",
        `Cannot encode with ${what}: item ${i} is ${typeof row}; each item must be an array of ${width} numbers`,
      );
    }
    if (row.length !== width) {
      throw new ShapeError(
        `Cannot encode with ${what}: item ${i} has ${row.length} values but the encoder takes ${width}; make every item ${width} long`,
      );
    }
    data.set(row, i * width);
  }
  checkFinite(data, `${what} input`);
  return tf.tensor(data, [n, ...featureShape], "float32");
}
