/**
 * Quaterion's GatedHead: scales each embedding dimension by a learned gate.
 *
 * @module
 */
import { tf } from "@likeness/tf";
import { checkDim, checkDropout } from "./_params.ts";
import { HeadBase } from "./_trainable.ts";
import type { ComponentConfig, ForwardOptions } from "./types.ts";

/**
 * `y = x ⊙ sigmoid(g)` with one gate per dimension, initialised to 2 (so gates start near 0.88).
 *
 * @example
 * ```ts
 * import { GatedHead } from "@likeness/models";
 * import { tf } from "@likeness/tf";
 * console.log(new GatedHead({ inputDim: 4 }).forward(tf.ones([1, 4])).shape); // [1, 4]
 * ```
 */
export class GatedHead extends HeadBase {
  /** `gated`. */
  readonly type = "gated";
  /** Input width. */
  readonly inputDim: number;
  /** Same as the input width. */
  readonly outputDim: number;

  /**
   * @param options `inputDim`, input `dropout` while training (default 0)
   * @throws {ValueError} INVALID_ARGUMENT for a non-positive width
   */
  constructor(options: { inputDim: number; dropout?: number }) {
    super("GatedHead");
    this.inputDim = checkDim(options.inputDim, "inputDim");
    this.outputDim = this.inputDim;
    this.dropoutRate = checkDropout(options.dropout ?? 0);
    this.params.add("gates", [this.inputDim], new Float32Array(this.inputDim).fill(2));
  }
  /**
   * @param x `[n, inputDim]`
   * @param _options unused
   * @returns `[n, inputDim]`
   */
  forward(x: tf.Tensor2D, options?: ForwardOptions): tf.Tensor2D {
    return tf.tidy(() => tf.mul(this.dropIn(x, options), tf.sigmoid(this.params.get("gates"))));
  }
  /** @returns `{ type: "gated", inputDim }` */
  config(): ComponentConfig {
    return { type: this.type, inputDim: this.inputDim, dropout: this.dropoutRate };
  }
}
