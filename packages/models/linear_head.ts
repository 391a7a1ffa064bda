/**
 * Quaterion's LinearHead: one fully connected layer.
 *
 * @module
 */
import { createRng } from "@likeness/core";
import { tf } from "@likeness/tf";
import { checkDim, checkDropout, glorotUniform } from "./_params.ts";
import { HeadBase } from "./_trainable.ts";
import type { ComponentConfig, ForwardOptions } from "./types.ts";

/** Options of {@link LinearHead}. */
export interface LinearHeadOptions {
  /** Input width. */
  inputDim: number;
  /** Output width. */
  outputDim: number;
  /** Whether to add a bias (default true). */
  bias?: boolean;
  /** Initialiser seed (default 0). */
  seed?: number;
  /** Dropout on the input while training (default 0). */
  dropout?: number;
}

/**
 * `y = x W (+ b)`.
 *
 * @example
 * ```ts
 * import { LinearHead } from "@likeness/models";
 * import { tf } from "@likeness/tf";
 * const head = new LinearHead({ inputDim: 512, outputDim: 128, seed: 1 });
 * console.log(head.forward(tf.ones([2, 512])).shape); // [2, 128]
 * ```
 */
export class LinearHead extends HeadBase {
  /** `linear`. */
  readonly type = "linear";
  /** Input width. */
  readonly inputDim: number;
  /** Output width. */
  readonly outputDim: number;
  readonly #bias: boolean;
  readonly #seed: number;

  /**
   * @param options widths, bias and seed
   * @throws {ValueError} INVALID_ARGUMENT for a non-positive width
   */
  constructor(options: LinearHeadOptions) {
    super("LinearHead");
    this.inputDim = checkDim(options.inputDim, "inputDim");
    this.outputDim = checkDim(options.outputDim, "outputDim");
    this.#bias = options.bias ?? true;
    this.#seed = options.seed ?? 0;
    this.dropoutRate = checkDropout(options.dropout ?? 0);
    const rng = createRng(this.#seed);
    this.params.add(
      "kernel",
      [this.inputDim, this.outputDim],
      glorotUniform(rng, [this.inputDim, this.outputDim], this.inputDim, this.outputDim),
    );
    if (this.#bias) this.params.add("bias", [this.outputDim], new Float32Array(this.outputDim));
  }
  /**
   * @param x `[n, inputDim]`
   * @param _options unused
   * @returns `[n, outputDim]`
   */
  forward(x: tf.Tensor2D, options?: ForwardOptions): tf.Tensor2D {
    return tf.tidy(() => {
      x = this.dropIn(x, options);
      const y: tf.Tensor2D = tf.matMul(x, this.params.get("kernel") as tf.Tensor2D);
      return this.#bias ? tf.add(y, this.params.get("bias")) as tf.Tensor2D : y;
    });
  }
  /** @returns `{ type: "linear", inputDim, outputDim, bias, seed, dropout }` */
  config(): ComponentConfig {
    return {
      type: this.type,
      inputDim: this.inputDim,
      outputDim: this.outputDim,
      bias: this.#bias,
      seed: this.#seed,
      dropout: this.dropoutRate,
    };
  }
}
