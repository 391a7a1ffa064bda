/**
 * Quaterion's WideningHead: a wider layer with an activation.
 *
 * @module
 */
import { createRng } from "@likeness/core";
import { tf } from "@likeness/tf";
import { activate, type Activation, checkActivation, checkDim, checkDropout, glorotUniform } from "./_params.ts";
import { HeadBase } from "./_trainable.ts";
import type { ComponentConfig, ForwardOptions } from "./types.ts";

/** Options of {@link WideningHead}. */
export interface WideningHeadOptions {
  /** Input width. */
  inputDim: number;
  /** Output width is `round(inputDim * expansionFactor)` (default 4). */
  expansionFactor?: number;
  /** Activation (default `relu`). */
  activation?: Activation;
  /** Initialiser seed (default 0). */
  seed?: number;
  /** Dropout on the input while training (default 0). */
  dropout?: number;
}

/**
 * `y = act(x W + b)` with `outputDim = inputDim * expansionFactor`.
 *
 * @example
 * ```ts
 * import { WideningHead } from "@likeness/models";
 * import { tf } from "@likeness/tf";
 * console.log(new WideningHead({ inputDim: 4, expansionFactor: 2 }).forward(tf.ones([1, 4])).shape); // [1, 8]
 * ```
 */
export class WideningHead extends HeadBase {
  /** `widening`. */
  readonly type = "widening";
  /** Input width. */
  readonly inputDim: number;
  /** `round(inputDim * expansionFactor)`. */
  readonly outputDim: number;
  readonly #opts: Required<WideningHeadOptions>;

  /**
   * @param options width, factor, activation and seed
   * @throws {ValueError} INVALID_ARGUMENT for a non-positive width or factor; UNKNOWN_NAME for an unknown activation
   */
  constructor(options: WideningHeadOptions) {
    super("WideningHead");
    const inputDim = checkDim(options.inputDim, "inputDim");
    const expansionFactor = options.expansionFactor ?? 4;
    const outputDim = checkDim(Math.round(inputDim * expansionFactor), "inputDim * expansionFactor");
    const activation = checkActivation(options.activation ?? "relu");
    this.#opts = {
      inputDim,
      expansionFactor,
      activation,
      seed: options.seed ?? 0,
      dropout: checkDropout(options.dropout ?? 0),
    };
    this.dropoutRate = this.#opts.dropout;
    this.inputDim = inputDim;
    this.outputDim = outputDim;
    this.params.add(
      "kernel",
      [inputDim, outputDim],
      glorotUniform(createRng(this.#opts.seed), [inputDim, outputDim], inputDim, outputDim),
    );
    this.params.add("bias", [outputDim], new Float32Array(outputDim));
  }
  /**
   * @param x `[n, inputDim]`
   * @param _options unused
   * @returns `[n, outputDim]`
   */
  forward(x: tf.Tensor2D, options?: ForwardOptions): tf.Tensor2D {
    return tf.tidy(() =>
      activate(
        tf.add(tf.matMul(this.dropIn(x, options), this.params.get("kernel")), this.params.get("bias")),
        this.#opts.activation,
      )
    );
  }
  /** @returns `{ type: "widening", inputDim, expansionFactor, activation, seed }` */
  config(): ComponentConfig {
    return { type: this.type, ...this.#opts };
  }
}
