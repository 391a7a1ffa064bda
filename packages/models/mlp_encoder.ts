/**
 * A multi-layer perceptron encoder for dense feature rows.
 *
 * @module
 */
import { createRng } from "@likeness/core";
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

/** Options of {@link MlpEncoder}. */
export interface MlpEncoderOptions {
  /** Width of each input row. */
  inputDim: number;
  /** Hidden layer widths (default `[]`: a single linear layer). */
  hidden?: number[];
  /** Embedding width. */
  outputDim: number;
  /** Activation after each hidden layer (default `relu`); the output layer is linear. */
  activation?: Activation;
  /** Seed of the weight initialiser (default 0). */
  seed?: number;
  /** Dropout after each hidden layer while training (default 0). */
  dropout?: number;
}

/**
 * Dense layers `inputDim → hidden… → outputDim` with Glorot-uniform weights from a seeded generator.
 *
 * @example
 * ```ts
 * import { MlpEncoder } from "@likeness/models";
 * const enc = new MlpEncoder({ inputDim: 64, hidden: [128], outputDim: 32, seed: 1 });
 * const e = await enc.encode([new Float32Array(64)]);
 * console.log(e.shape); // [1, 32]
 * ```
 */
export class MlpEncoder extends TrainableEncoderBase {
  /** `mlp`. */
  readonly type = "mlp";
  /** Embedding width. */
  readonly dim: number;
  readonly #opts: Required<MlpEncoderOptions>;

  /**
   * @param options layer widths, activation and seed
   * @throws {ValueError} INVALID_ARGUMENT for a non-positive width; UNKNOWN_NAME for an unknown activation
   */
  constructor(options: MlpEncoderOptions) {
    super("MlpEncoder");
    const inputDim = checkDim(options.inputDim, "inputDim");
    const outputDim = checkDim(options.outputDim, "outputDim");
    const hidden = (options.hidden ?? []).map((h, i) => checkDim(h, `hidden[${i}]`));
    const activation = checkActivation(options.activation ?? "relu");
    const seed = options.seed ?? 0;
    this.#opts = { inputDim, hidden, outputDim, activation, seed, dropout: checkDropout(options.dropout ?? 0) };
    this.dim = outputDim;
    const rng = createRng(seed);
    const widths = [inputDim, ...hidden, outputDim];
    for (let i = 0; i + 1 < widths.length; i++) {
      const [a, b] = [widths[i], widths[i + 1]];
      this.params.add(`dense${i}/kernel`, [a, b], glorotUniform(rng, [a, b], a, b));
      this.params.add(`dense${i}/bias`, [b], new Float32Array(b));
    }
  }

  /**
   * Differentiable forward pass.
   * @param batch `[n, inputDim]` tensor or n rows of `inputDim` numbers
   * @param options `training` enables dropout, seeded by `seed`
   * @returns `[n, dim]`
   * @throws {ShapeError} when rows have the wrong width
   */
  forward(batch: EncoderBatch, options?: ForwardOptions): tf.Tensor2D {
    return tf.tidy(() => {
      let x = denseBatch(batch, [this.#opts.inputDim], "MlpEncoder") as tf.Tensor2D;
      const layers = this.#opts.hidden.length + 1;
      for (let i = 0; i < layers; i++) {
        x = tf.add(tf.matMul(x, this.params.get(`dense${i}/kernel`)), this.params.get(`dense${i}/bias`));
        if (i + 1 < layers) x = dropout(activate(x, this.#opts.activation), this.#opts.dropout, options, i);
      }
      return x;
    });
  }

  /** @returns `{ type: "mlp", inputDim, hidden, outputDim, activation, seed, dropout }` */
  config(): ComponentConfig {
    return { type: this.type, ...this.#opts, hidden: [...this.#opts.hidden] };
  }
}
