/**
 * Quaterion's EmptyHead: passes the encoder's embeddings through unchanged.
 *
 * @module
 */
import type { tf } from "@likeness/tf";
import { checkDim } from "./_params.ts";
import type { ComponentConfig, ForwardOptions, Head, NamedTensor } from "./types.ts";

/**
 * Identity head (no weights).
 *
 * @example
 * ```ts
 * import { EmptyHead } from "@likeness/models";
 * import { tf } from "@likeness/tf";
 * console.log(new EmptyHead({ inputDim: 3 }).forward(tf.ones([2, 3])).shape); // [2, 3]
 * ```
 */
export class EmptyHead implements Head {
  /** `empty`. */
  readonly type = "empty";
  /** Input width. */
  readonly inputDim: number;
  /** Same as the input width. */
  readonly outputDim: number;

  /**
   * @param options `inputDim`
   * @throws {ValueError} INVALID_ARGUMENT for a non-positive width
   */
  constructor(options: { inputDim: number }) {
    this.inputDim = checkDim(options.inputDim, "inputDim");
    this.outputDim = this.inputDim;
  }
  /**
   * @param x `[n, inputDim]`
   * @param _options unused
   * @returns `x` itself
   */
  forward(x: tf.Tensor2D, _options?: ForwardOptions): tf.Tensor2D {
    return x;
  }
  /** @returns `{ type: "empty", inputDim }` */
  config(): ComponentConfig {
    return { type: this.type, inputDim: this.inputDim };
  }
  /** @returns `[]` */
  variables(): tf.Variable[] {
    return [];
  }
  /** @returns `[]` */
  getWeights(): NamedTensor[] {
    return [];
  }
  /** No weights to set. */
  setWeights(_weights: readonly NamedTensor[]): void {}
  /** Nothing to free. */
  dispose(): void {}
}
