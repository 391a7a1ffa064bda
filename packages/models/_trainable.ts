// Private: shared plumbing of trainable components (encoders and heads) built on a ParamSet.
import { tf } from "@likeness/tf";
import { hashWeights } from "./_hash.ts";
import { dropout, ParamSet } from "./_params.ts";
import type { ComponentConfig, EncoderBatch, ForwardOptions, NamedTensor } from "./types.ts";

/** Base of the built-in trainable encoders: `encode` runs `forward` without gradients. */
export abstract class TrainableEncoderBase {
  /** Registered type name. */
  abstract readonly type: string;
  /** Embedding width. */
  abstract readonly dim: number;
  /** Always true. */
  readonly trainable = true;
  /** The variables. */
  protected readonly params: ParamSet;

  constructor(owner: string) {
    this.params = new ParamSet(owner);
  }

  /** Differentiable forward pass. */
  abstract forward(batch: EncoderBatch, options?: ForwardOptions): tf.Tensor2D;
  /** JSON config. */
  abstract config(): ComponentConfig;

  /** Inference: `forward` inside `tf.tidy`. */
  encode(batch: EncoderBatch): Promise<tf.Tensor2D> {
    try {
      return Promise.resolve(tf.tidy(() => this.forward(batch, { training: false })));
    } catch (e) {
      return Promise.reject(e);
    }
  }
  /** Type, config and a hash of the current weights. */
  identity(): string {
    return `${this.type}:${hashWeights(this.config(), this.getWeights())}`;
  }
  /** The variables. */
  variables(): tf.Variable[] {
    return this.params.variables();
  }
  /** Copy of the weights. */
  getWeights(): NamedTensor[] {
    return this.params.getWeights();
  }
  /** Replace weights by name. */
  setWeights(weights: readonly NamedTensor[]): void {
    this.params.setWeights(weights);
  }
  /** Free the variables. */
  dispose(): void {
    this.params.dispose();
  }
}

/** Base of the built-in heads with their own variables. */
export abstract class HeadBase {
  /** Registered type name. */
  abstract readonly type: string;
  /** Input width. */
  abstract readonly inputDim: number;
  /** Output width. */
  abstract readonly outputDim: number;
  /** The variables. */
  protected readonly params: ParamSet;
  /** Dropout rate on the head's input while training (Quaterion's EncoderHead dropout). */
  protected dropoutRate = 0;

  constructor(owner: string) {
    this.params = new ParamSet(owner);
  }

  /** Differentiable forward pass. */
  abstract forward(x: tf.Tensor2D, options?: ForwardOptions): tf.Tensor2D;

  /** Apply input dropout when training. */
  protected dropIn(x: tf.Tensor2D, options?: ForwardOptions): tf.Tensor2D {
    return dropout(x, this.dropoutRate, options, 7919);
  }
  /** JSON config. */
  abstract config(): ComponentConfig;

  /** The variables. */
  variables(): tf.Variable[] {
    return this.params.variables();
  }
  /** Copy of the weights. */
  getWeights(): NamedTensor[] {
    return this.params.getWeights();
  }
  /** Replace weights by name. */
  setWeights(weights: readonly NamedTensor[]): void {
    this.params.setWeights(weights);
  }
  /** Free the variables. */
  dispose(): void {
    this.params.dispose();
  }
}
