/**
 * Quaterion's SkipConnectionHead: a gated linear correction added to the input.
 *
 * @module
 */
import { createRng } from "@likeness/core";
import { tf } from "@likeness/tf";
import { checkDim, checkDropout, glorotUniform } from "./_params.ts";
import { HeadBase } from "./_trainable.ts";
import type { ComponentConfig, ForwardOptions } from "./types.ts";

/**
 * `y = (x W + b) ⊙ sigmoid(g) + x`; gates start at -4 so the head starts close to identity.
 *
 * @example
 * ```ts
 * import { SkipConnectionHead } from "@likeness/models";
 * import { tf } from "@likeness/tf";
 * console.log(new SkipConnectionHead({ inputDim: 4, seed: 1 }).forward(tf.ones([1, 4])).shape); // [1, 4]
 * ```
 */
export class SkipConnectionHead extends HeadBase {
  /** `skip_connection`. */
  readonly type = "skip_connection";
  /** Input width. */
  readonly inputDim: number;
  /** Same as the input width. */
  readonly outputDim: number;
  readonly #seed: number;

  /**
   * @param options `inputDim`, initialiser `seed` (default 0), input `dropout` while training (default 0)
   * @throws {ValueError} INVALID_ARGUMENT for a non-positive width
   */
  constructor(options: { inputDim: number; seed?: number; dropout?: number }) {
    super("SkipConnectionHead");
    const d = checkDim(options.inputDim, "inputDim");
    this.inputDim = d;
    this.outputDim = d;
    this.#seed = options.seed ?? 0;
    this.dropoutRate = checkDropout(options.dropout ?? 0);
    this.params.add("gates", [d], new Float32Array(d).fill(-4));
    this.params.add("kernel", [d, d], glorotUniform(createRng(this.#seed), [d, d], d, d));
    this.params.add("bias", [d], new Float32Array(d));
  }
  /**
   * @param x `[n, inputDim]`
   * @param _options unused
   * @returns `[n, inputDim]`
   */
  forward(x: tf.Tensor2D, options?: ForwardOptions): tf.Tensor2D {
    return tf.tidy(() => {
      x = this.dropIn(x, options);
      const fc = tf.add(tf.matMul(x, this.params.get("kernel")), this.params.get("bias"));
      return tf.add(tf.mul(fc, tf.sigmoid(this.params.get("gates"))), x);
    });
  }
  /** @returns `{ type: "skip_connection", inputDim, seed }` */
  config(): ComponentConfig {
    return { type: this.type, inputDim: this.inputDim, seed: this.#seed, dropout: this.dropoutRate };
  }
}
