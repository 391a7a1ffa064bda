/**
 * A small convolutional encoder for grey or colour images (e.g. 28×28 MNIST digits).
 *
 * Training note: tfjs-backend-wasm 4.22 has no `Conv2DBackpropFilter` kernel; import
 * `@likeness/tfwasm` (which registers likeness's conv-gradient and matmul kernels) before training
 * a convnet on `wasm`. `@likeness/trainer` imports it, so `fit` needs nothing more.
 *
 * @module
 */
import { createRng, ValueError } from "@likeness/core";
import { tf } from "@likeness/tf";
import { denseBatch } from "./_input.ts";
import {
  activate,
  type Activation,
  checkActivation,
  checkDim,
  checkDropout,
  dropout,
  glorotUniform,
} from "./_params.ts";
import { TrainableEncoderBase } from "./_trainable.ts";
import type { ComponentConfig, EncoderBatch, ForwardOptions } from "./types.ts";

/** One convolution block: conv (stride 1) → activation → optional max-pool. */
export interface ConvBlock {
  /** Output channels. */
  filters: number;
  /** Square kernel size (default 3). */
  kernelSize?: number;
  /** Max-pool window and stride after the activation (default none). */
  pool?: number;
}

/** Options of {@link ConvNetEncoder}. */
export interface ConvNetEncoderOptions {
  /** `[height, width, channels]`, e.g. `[28, 28, 1]`. */
  inputShape: [number, number, number];
  /** Convolution blocks (default `[{filters: 32}, {filters: 64, pool: 2}]`, as pytorch-metric-learning's MNIST net). */
  conv?: ConvBlock[];
  /** Padding of every convolution (default `valid`). */
  padding?: "valid" | "same";
  /** Hidden dense widths after flattening (default `[]`). */
  dense?: number[];
  /** Embedding width (final linear layer). */
  outputDim: number;
  /** Activation (default `relu`). */
  activation?: Activation;
  /** Seed of the weight initialiser (default 0). */
  seed?: number;
  /** Dropout after the conv stack (flattened) and after each hidden dense layer while training (default 0). */
  dropout?: number;
}

/**
 * Conv blocks, flatten, dense layers, linear output. Inputs are `[n, h, w, c]` tensors or n
 * rows of `h*w*c` numbers (row-major, channels last).
 *
 * @example
 * ```ts
 * import { ConvNetEncoder } from "@likeness/models";
 * const enc = new ConvNetEncoder({ inputShape: [28, 28, 1], conv: [{ filters: 8, pool: 2 }], outputDim: 16 });
 * const e = await enc.encode([new Float32Array(784)]);
 * console.log(e.shape); // [1, 16]
 * ```
 */
export class ConvNetEncoder extends TrainableEncoderBase {
  /** `convnet`. */
  readonly type = "convnet";
  /** Embedding width. */
  readonly dim: number;
  readonly #opts: Required<ConvNetEncoderOptions>;

  /**
   * @param options architecture and seed
   * @throws {ValueError} INVALID_ARGUMENT when a size is not a positive integer or the image shrinks to nothing
   */
  constructor(options: ConvNetEncoderOptions) {
    super("ConvNetEncoder");
    const shape = options.inputShape;
    if (!Array.isArray(shape) || shape.length !== 3) {
      throw new ValueError(
        "INVALID_ARGUMENT",
        "Invalid inputShape: expected [height, width, channels], e.g. [28, 28, 1]",
      );
    }
    const inputShape = shape.map((d, i) => checkDim(d, `inputShape[${i}]`)) as [number, number, number];
    const conv = (options.conv ?? [{ filters: 32 }, { filters: 64, pool: 2 }]).map((b, i) => ({
      filters: checkDim(b.filters, `conv[${i}].filters`),
      kernelSize: checkDim(b.kernelSize ?? 3, `conv[${i}].kernelSize`),
      ...(b.pool === undefined ? {} : { pool: checkDim(b.pool, `conv[${i}].pool`) }),
    }));
    const padding = options.padding ?? "valid";
    if (padding !== "valid" && padding !== "same") {
      throw new ValueError("UNKNOWN_NAME", `Unknown padding ${JSON.stringify(padding)}: use one of valid, same`);
    }
    const dense = (options.dense ?? []).map((d, i) => checkDim(d, `dense[${i}]`));
    const outputDim = checkDim(options.outputDim, "outputDim");
    const activation = checkActivation(options.activation ?? "relu");
    const seed = options.seed ?? 0;
    this.#opts = {
      inputShape,
      conv,
      padding,
      dense,
      outputDim,
      activation,
      seed,
      dropout: checkDropout(options.dropout ?? 0),
    };
    this.dim = outputDim;
    const rng = createRng(seed);
    let [h, w, c] = inputShape;
    conv.forEach((b, i) => {
      const k = b.kernelSize;
      this.params.add(
        `conv${i}/kernel`,
        [k, k, c, b.filters],
        glorotUniform(rng, [k, k, c, b.filters], k * k * c, k * k * b.filters),
      );
      this.params.add(`conv${i}/bias`, [b.filters], new Float32Array(b.filters));
      if (padding === "valid") {
        h = h - k + 1;
        w = w - k + 1;
      }
      if (b.pool) {
        h = Math.floor((h - b.pool) / b.pool) + 1;
        w = Math.floor((w - b.pool) / b.pool) + 1;
      }
      if (h < 1 || w < 1) {
        throw new ValueError(
          "INVALID_ARGUMENT",
          `Invalid ConvNetEncoder: the ${inputShape[0]}×${
            inputShape[1]
          } input shrinks to nothing after conv block ${i}; use fewer blocks, padding "same" or smaller pools`,
        );
      }
      c = b.filters;
    });
    const widths = [h * w * c, ...dense, outputDim];
    for (let i = 0; i + 1 < widths.length; i++) {
      const [a, b] = [widths[i], widths[i + 1]];
      this.params.add(`dense${i}/kernel`, [a, b], glorotUniform(rng, [a, b], a, b));
      this.params.add(`dense${i}/bias`, [b], new Float32Array(b));
    }
  }

  /**
   * Differentiable forward pass.
   * @param batch `[n, h, w, c]` (or `[n, h*w*c]`) tensor, or n rows of `h*w*c` numbers
   * @param options `training` enables dropout, seeded by `seed`
   * @returns `[n, dim]`
   * @throws {ShapeError} when items have the wrong size
   */
  forward(batch: EncoderBatch, options?: ForwardOptions): tf.Tensor2D {
    const o = this.#opts;
    return tf.tidy(() => {
      let x = denseBatch(batch, o.inputShape, "ConvNetEncoder") as tf.Tensor4D;
      o.conv.forEach((b, i) => {
        x = tf.conv2d(x, this.params.get(`conv${i}/kernel`) as tf.Tensor4D, 1, o.padding);
        x = activate(tf.add(x, this.params.get(`conv${i}/bias`)) as tf.Tensor, o.activation) as tf.Tensor4D;
        if (b.pool) x = tf.maxPool(x, b.pool, b.pool, "valid");
      });
      let y = dropout(tf.reshape(x, [x.shape[0], -1]) as tf.Tensor2D, o.dropout, options, 0);
      const layers = o.dense.length + 1;
      for (let i = 0; i < layers; i++) {
        y = tf.add(tf.matMul(y, this.params.get(`dense${i}/kernel`)), this.params.get(`dense${i}/bias`));
        if (i + 1 < layers) y = dropout(activate(y, o.activation), o.dropout, options, i + 1);
      }
      return y;
    });
  }

  /** @returns the architecture as JSON */
  config(): ComponentConfig {
    const o = this.#opts;
    return {
      type: this.type,
      inputShape: [...o.inputShape],
      conv: o.conv.map((b) => ({ ...b })),
      padding: o.padding,
      dense: [...o.dense],
      outputDim: o.outputDim,
      activation: o.activation,
      seed: o.seed,
      dropout: o.dropout,
    };
  }
}
