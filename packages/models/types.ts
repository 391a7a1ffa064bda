/**
 * Shared shapes of encoders, heads and their weights.
 *
 * @module
 */
import type { tf } from "@likeness/tf";

/** One named float32 tensor, detached from tfjs (for saving, checkpoints and hashing). */
export interface NamedTensor {
  /** Stable name inside its owner, e.g. `dense0/kernel`. */
  name: string;
  /** Tensor shape. */
  shape: number[];
  /** Row-major values, length = product of `shape`. */
  values: Float32Array;
}

/** A JSON-serialisable description from which a registry factory rebuilds an encoder or head. */
export interface ComponentConfig {
  /** Registered type name, e.g. `mlp`, `linear`. */
  type: string;
  /** Any further JSON fields the factory needs. */
  [key: string]: unknown;
}

/**
 * What an encoder takes: a tensor whose first axis is the batch, or an array of items
 * (rows of numbers, Float32Arrays, strings, or routed objects for a switch encoder).
 */
export type EncoderBatch = tf.Tensor | readonly unknown[];

/** Options of a differentiable forward pass. */
export interface ForwardOptions {
  /** Whether this pass is for training (enables dropout where a component has it). Default false. */
  training?: boolean;
  /** Seed of this pass's dropout masks (the trainer passes one per step). Default: unseeded. */
  seed?: number;
}

/**
 * Something that turns a batch of inputs into a batch of embeddings.
 *
 * Every encoder has an asynchronous `encode` (a frozen graph model can only run
 * asynchronously); a trainable encoder also has a synchronous, differentiable `forward`
 * that the trainer calls inside `tf.variableGrads`.
 *
 * @example
 * ```ts
 * import { MlpEncoder } from "@likeness/models";
 * const enc = new MlpEncoder({ inputDim: 4, hidden: [8], outputDim: 2, seed: 1 });
 * const e = await enc.encode([[1, 2, 3, 4]]);
 * console.log(e.shape, enc.dim, enc.trainable, enc.identity()); // [1, 2] 2 true mlp:...
 * ```
 */
export interface Encoder {
  /** Registered type name (the registry key that restores it). */
  readonly type: string;
  /** Embedding width. */
  readonly dim: number;
  /** Whether its weights are trained (frozen encoders can be cached). */
  readonly trainable: boolean;
  /**
   * Embed a batch (inference). The caller disposes the result.
   * @param batch inputs
   * @returns `[batch, dim]` embeddings
   * @throws {ShapeError} / {ValueError} for inputs of the wrong shape or kind
   */
  encode(batch: EncoderBatch): Promise<tf.Tensor2D>;
  /**
   * Differentiable forward pass (trainable encoders only); call inside `tf.tidy`/`tf.variableGrads`.
   * @param batch inputs
   * @param options training flag
   * @returns `[batch, dim]` embeddings
   */
  forward?(batch: EncoderBatch, options?: ForwardOptions): tf.Tensor2D;
  /** A string that changes whenever the encoder's outputs could change (type, config and weights). */
  identity(): string;
  /** JSON config that the registry turns back into this encoder (weights are separate). */
  config(): ComponentConfig;
  /** The variables a trainer optimises (empty when frozen). */
  variables(): tf.Variable[];
  /** A copy of the weights to save (empty for frozen encoders loaded from their own files). */
  getWeights(): NamedTensor[];
  /**
   * Replace the weights by name.
   * @param weights as returned by `getWeights`
   * @throws {ShapeError} SHAPE_MISMATCH for a wrong shape; {ValueError} NOT_FOUND for a missing name
   */
  setWeights(weights: readonly NamedTensor[]): void;
  /** Free the tensors it owns. */
  dispose(): void;
}

/**
 * A head: a small trainable layer on top of an encoder's embeddings (Quaterion's EncoderHead).
 *
 * @example
 * ```ts
 * import { LinearHead } from "@likeness/models";
 * import { tf } from "@likeness/tf";
 * const head = new LinearHead({ inputDim: 4, outputDim: 2, seed: 3 });
 * console.log(head.forward(tf.ones([1, 4])).shape); // [1, 2]
 * ```
 */
export interface Head {
  /** Registered type name. */
  readonly type: string;
  /** Width it takes. */
  readonly inputDim: number;
  /** Width it returns. */
  readonly outputDim: number;
  /**
   * Differentiable forward pass.
   * @param x `[batch, inputDim]`
   * @param options training flag
   * @returns `[batch, outputDim]`
   */
  forward(x: tf.Tensor2D, options?: ForwardOptions): tf.Tensor2D;
  /** JSON config that the registry turns back into this head. */
  config(): ComponentConfig;
  /** Trainable variables. */
  variables(): tf.Variable[];
  /** A copy of the weights. */
  getWeights(): NamedTensor[];
  /**
   * Replace the weights by name.
   * @param weights as returned by `getWeights`
   */
  setWeights(weights: readonly NamedTensor[]): void;
  /** Free the tensors it owns. */
  dispose(): void;
}
