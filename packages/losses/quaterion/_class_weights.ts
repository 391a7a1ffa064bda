/**
 * Private base of Quaterion's class-weight losses (SoftmaxLoss, ArcFaceLoss, CosFaceLoss): a
 * learned `kernel` of shape embeddingSize × numGroups.
 *
 * @module
 */
import { tf } from "@likeness/tf";
import { _matMul } from "../_matmul.ts";
import { checkPositiveInt, createRng } from "@likeness/core";
import type { LossTarget } from "../types.ts";
import { _classIds, _labels, _weightInit } from "../_common.ts";
import { ShapeError } from "@likeness/core";

/** Options shared by the class-weight losses. */
export interface ClassWeightOptions {
  /** Embedding dimension D (required). */
  embeddingSize: number;
  /** Number of groups (classes) C; labels must be integer ids in [0, C) (required). */
  numGroups: number;
  /** Initial kernel, D×C (default: normal with std 0.01 from `seed`, as Quaterion). */
  kernel?: readonly (readonly number[])[];
  /** Seed of the default initialisation (default 0). */
  seed?: number;
}

/** Checked constructor arguments and the kernel variable. */
export function _initKernel(options: ClassWeightOptions, loss: string): { d: number; c: number; kernel: tf.Variable } {
  const d = checkPositiveInt(options.embeddingSize, `${loss} embeddingSize`);
  const c = checkPositiveInt(options.numGroups, `${loss} numGroups`);
  const rng = createRng(options.seed ?? 0);
  const init = _weightInit(options.kernel, d, c, `${loss} kernel`, () => 0.01 * rng.normal());
  const kernel = tf.variable(init, true);
  init.dispose();
  return { d, c, kernel };
}

/** Validate a batch for a class-weight loss and return its class ids. */
export function _classBatch(
  embeddings: tf.Tensor2D,
  target: LossTarget,
  d: number,
  c: number,
  loss: string,
): Int32Array {
  if (embeddings.shape[1] !== d) {
    throw new ShapeError(
      `Cannot compute ${loss}: embeddings have ${
        embeddings.shape[1]
      } columns but embeddingSize is ${d}; build the loss with embeddingSize ${embeddings.shape[1]}`,
    );
  }
  return _classIds(_labels(target, embeddings.shape[0], loss), c, loss);
}

/** cos(θ) between L2-normalised rows and L2-normalised kernel columns, clamped to [-1, 1]. */
export function _cosines(embeddings: tf.Tensor2D, kernel: tf.Tensor2D): tf.Tensor2D {
  const e = tf.div(embeddings, tf.sqrt(tf.maximum(tf.sum(tf.square(embeddings), 1, true), 1e-24)));
  const k = tf.div(kernel, tf.sqrt(tf.maximum(tf.sum(tf.square(kernel), 0, true), 1e-24)));
  return tf.clipByValue(_matMul(e, k), -1, 1) as tf.Tensor2D;
}
