/**
 * Quaterion's SequentialHead: heads applied one after another.
 *
 * @module
 */
import { ShapeError, ValueError } from "@likeness/core";
import { tf } from "@likeness/tf";
import { prefixWeights, unprefixWeights } from "./_params.ts";
import type { ComponentConfig, ForwardOptions, Head, NamedTensor } from "./types.ts";

/**
 * Chain of heads; each head's `outputDim` must equal the next one's `inputDim`.
 *
 * @example
 * ```ts
 * import { GatedHead, LinearHead, SequentialHead } from "@likeness/models";
 * import { tf } from "@likeness/tf";
 * const head = new SequentialHead([new LinearHead({ inputDim: 8, outputDim: 4 }), new GatedHead({ inputDim: 4 })]);
 * console.log(head.forward(tf.ones([1, 8])).shape); // [1, 4]
 * ```
 */
export class SequentialHead implements Head {
  /** `sequential`. */
  readonly type = "sequential";
  /** First head's input width. */
  readonly inputDim: number;
  /** Last head's output width. */
  readonly outputDim: number;
  /** The heads, in order. */
  readonly heads: readonly Head[];

  /**
   * @param heads at least one head
   * @throws {ValueError} INVALID_ARGUMENT for no heads; {ShapeError} when widths do not chain
   */
  constructor(heads: Head[]) {
    if (!Array.isArray(heads) || heads.length === 0) {
      throw new ValueError("INVALID_ARGUMENT", "Invalid SequentialHead: pass at least one head");
    }
    for (let i = 1; i < heads.length; i++) {
      if (heads[i - 1].outputDim !== heads[i].inputDim) {
        throw new ShapeError(
          `Invalid SequentialHead: head ${i - 1} (${heads[i - 1].type}) outputs ${
            heads[i - 1].outputDim
          } but head ${i} (${heads[i].type}) takes ${heads[i].inputDim}`,
        );
      }
    }
    this.heads = heads;
    this.inputDim = heads[0].inputDim;
    this.outputDim = heads[heads.length - 1].outputDim;
  }
  /**
   * @param x `[n, inputDim]`
   * @param options passed to every head
   * @returns `[n, outputDim]`
   */
  forward(x: tf.Tensor2D, options?: ForwardOptions): tf.Tensor2D {
    return tf.tidy(() => this.heads.reduce((y, h) => h.forward(y, options), x));
  }
  /** @returns `{ type: "sequential", heads: [configs] }` */
  config(): ComponentConfig {
    return { type: this.type, heads: this.heads.map((h) => h.config()) };
  }
  /** @returns every head's variables */
  variables(): tf.Variable[] {
    return this.heads.flatMap((h) => h.variables());
  }
  /** @returns weights named `<index>/<name>` */
  getWeights(): NamedTensor[] {
    return this.heads.flatMap((h, i) => prefixWeights(`${i}/`, h.getWeights()));
  }
  /**
   * @param weights named `<index>/<name>`
   */
  setWeights(weights: readonly NamedTensor[]): void {
    this.heads.forEach((h, i) => h.setWeights(unprefixWeights(`${i}/`, weights)));
  }
  /** Free every head. */
  dispose(): void {
    for (const h of this.heads) h.dispose();
  }
}
