/**
 * Quaterion's StackedProjectionHead: several linear layers with an activation between them.
 *
 * @module
 */
import { createRng, ValueError } from "@likeness/core";
import { tf } from "@likeness/tf";
import { activate, type Activation, checkActivation, checkDim, checkDropout, glorotUniform } from "./_params.ts";
import { HeadBase } from "./_trainable.ts";
import type { ComponentConfig, ForwardOptions } from "./types.ts";

/** Options of {@link StackedProjectionHead}. */
export interface StackedProjectionHeadOptions {
  /** Input width. */
  inputDim: number;
  /** Width of each layer; the last is the output width (at least one). */
  outputSizes: number[];
  /** Activation between layers, not after the last (default `relu`). */
  activation?: Activation;
  /** Initialiser seed (default 0). */
  seed?: number;
  /** Dropout on the input while training (default 0). */
  dropout?: number;
}

/**
 * `inputDim → outputSizes[0] → … → outputSizes[k-1]`, activation between layers.
 *
 * @example
 * ```ts
 * import { StackedProjectionHead } from "@likeness/models";
 * import { tf } from "@likeness/tf";
 * const head = new StackedProjectionHead({ inputDim: 8, outputSizes: [16, 4] });
 * console.log(head.forward(tf.ones([1, 8])).shape); // [1, 4]
 * ```
 */
export class StackedProjectionHead extends HeadBase {
  /** `stacked_projection`. */
  readonly type = "stacked_projection";
  /** Input width. */
  readonly inputDim: number;
  /** Last of `outputSizes`. */
  readonly outputDim: number;
  readonly #opts: Required<StackedProjectionHeadOptions>;

  /**
   * @param options widths, activation and seed
   * @throws {ValueError} INVALID_ARGUMENT for no layers or a non-positive width
   */
  constructor(options: StackedProjectionHeadOptions) {
    super("StackedProjectionHead");
    const inputDim = checkDim(options.inputDim, "inputDim");
    if (!Array.isArray(options.outputSizes) || options.outputSizes.length === 0) {
      throw new ValueError(
        "INVALID_ARGUMENT",
        "Invalid StackedProjectionHead: outputSizes needs at least one width, e.g. [256, 128]",
      );
    }
    const outputSizes = options.outputSizes.map((s, i) => checkDim(s, `outputSizes[${i}]`));
    const activation = checkActivation(options.activation ?? "relu");
    this.#opts = {
      inputDim,
      outputSizes,
      activation,
      seed: options.seed ?? 0,
      dropout: checkDropout(options.dropout ?? 0),
    };
    this.dropoutRate = this.#opts.dropout;
    this.inputDim = inputDim;
    this.outputDim = outputSizes[outputSizes.length - 1];
    const rng = createRng(this.#opts.seed);
    const widths = [inputDim, ...outputSizes];
    for (let i = 0; i + 1 < widths.length; i++) {
      const [a, b] = [widths[i], widths[i + 1]];
      this.params.add(`dense${i}/kernel`, [a, b], glorotUniform(rng, [a, b], a, b));
      this.params.add(`dense${i}/bias`, [b], new Float32Array(b));
    }
  }
  /**
   * @param x `[n, inputDim]`
   * @param _options unused
   * @returns `[n, outputDim]`
   */
  forward(x: tf.Tensor2D, options?: ForwardOptions): tf.Tensor2D {
    return tf.tidy(() => {
      let y = this.dropIn(x, options);
      const k = this.#opts.outputSizes.length;
      for (let i = 0; i < k; i++) {
        y = tf.add(tf.matMul(y, this.params.get(`dense${i}/kernel`)), this.params.get(`dense${i}/bias`));
        if (i + 1 < k) y = activate(y, this.#opts.activation);
      }
      return y;
    });
  }
  /** @returns `{ type: "stacked_projection", inputDim, outputSizes, activation, seed }` */
  config(): ComponentConfig {
    return { type: this.type, ...this.#opts, outputSizes: [...this.#opts.outputSizes] };
  }
}
