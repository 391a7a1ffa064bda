/**
 * Quaterion's SoftmaxEmbeddingsHead: independent softmax groups, concatenated.
 *
 * @module
 */
import { createRng } from "@likeness/core";
import { tf } from "@likeness/tf";
import { checkDim, checkDropout, glorotUniform } from "./_params.ts";
import { HeadBase } from "./_trainable.ts";
import type { ComponentConfig, ForwardOptions } from "./types.ts";

/** Options of {@link SoftmaxEmbeddingsHead}. */
export interface SoftmaxEmbeddingsHeadOptions {
  /** Input width. */
  inputDim: number;
  /** Number of independent groups. */
  outputGroups: number;
  /** Width of each group. */
  outputSizePerGroup: number;
  /** Initialiser seed (default 0). */
  seed?: number;
  /** Dropout on the input while training (default 0). */
  dropout?: number;
}

/**
 * Project to `outputGroups × outputSizePerGroup`, softmax within each group, flatten.
 * Each group sums to 1, so the output is a set of soft categorical codes.
 *
 * @example
 * ```ts
 * import { SoftmaxEmbeddingsHead } from "@likeness/models";
 * import { tf } from "@likeness/tf";
 * const head = new SoftmaxEmbeddingsHead({ inputDim: 8, outputGroups: 2, outputSizePerGroup: 3 });
 * console.log(head.forward(tf.ones([1, 8])).shape); // [1, 6]
 * ```
 */
export class SoftmaxEmbeddingsHead extends HeadBase {
  /** `softmax_embeddings`. */
  readonly type = "softmax_embeddings";
  /** Input width. */
  readonly inputDim: number;
  /** `outputGroups * outputSizePerGroup`. */
  readonly outputDim: number;
  readonly #opts: Required<SoftmaxEmbeddingsHeadOptions>;

  /**
   * @param options widths and seed
   * @throws {ValueError} INVALID_ARGUMENT for a non-positive size
   */
  constructor(options: SoftmaxEmbeddingsHeadOptions) {
    super("SoftmaxEmbeddingsHead");
    const inputDim = checkDim(options.inputDim, "inputDim");
    const outputGroups = checkDim(options.outputGroups, "outputGroups");
    const outputSizePerGroup = checkDim(options.outputSizePerGroup, "outputSizePerGroup");
    this.#opts = {
      inputDim,
      outputGroups,
      outputSizePerGroup,
      seed: options.seed ?? 0,
      dropout: checkDropout(options.dropout ?? 0),
    };
    this.dropoutRate = this.#opts.dropout;
    this.inputDim = inputDim;
    this.outputDim = outputGroups * outputSizePerGroup;
    const d = this.outputDim;
    this.params.add("kernel", [inputDim, d], glorotUniform(createRng(this.#opts.seed), [inputDim, d], inputDim, d));
    this.params.add("bias", [d], new Float32Array(d));
  }
  /**
   * @param x `[n, inputDim]`
   * @param _options unused
   * @returns `[n, outputGroups * outputSizePerGroup]`, each group summing to 1
   */
  forward(x: tf.Tensor2D, options?: ForwardOptions): tf.Tensor2D {
    return tf.tidy(() => {
      x = this.dropIn(x, options);
      const n = x.shape[0];
      const y = tf.add(tf.matMul(x, this.params.get("kernel")), this.params.get("bias"));
      const g = tf.reshape(y, [n * this.#opts.outputGroups, this.#opts.outputSizePerGroup]);
      return tf.reshape(tf.softmax(g), [n, this.outputDim]);
    });
  }
  /** @returns `{ type: "softmax_embeddings", inputDim, outputGroups, outputSizePerGroup, seed }` */
  config(): ComponentConfig {
    return { type: this.type, ...this.#opts };
  }
}
