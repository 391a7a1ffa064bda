/**
 * A similarity model: an encoder plus a head, with batched encoding, a differentiable forward
 * pass for training, and save/load as a servable artifact.
 *
 * @module
 */
import { type Matrix, ShapeError, ValueError } from "@likeness/core";
import { tf } from "@likeness/tf";
import { prefixWeights, unprefixWeights } from "./_params.ts";
import { EmptyHead } from "./empty_head.ts";
import type { ComponentConfig, Encoder, EncoderBatch, ForwardOptions, Head, NamedTensor } from "./types.ts";

/** Options of {@link SimilarityModel}. */
export interface SimilarityModelOptions {
  /** L2-normalise the head's output (default false). */
  normalize?: boolean;
}

/** Progress of a batched {@link SimilarityModel.encode}. */
export interface EncodeProgress {
  /** Items embedded so far. */
  done: number;
  /** Items in total. */
  total: number;
}

/** Options of {@link SimilarityModel.encode}. */
export interface EncodeOptions {
  /** Items per encoder call (default 256). */
  batchSize?: number;
  /** Called after every batch. */
  onProgress?: (p: EncodeProgress) => void;
}

/** Options of {@link SimilarityModel.save}. */
export interface SaveOptions {
  /** Calibration to store beside the model (e.g. a distance threshold), any JSON. */
  calibration?: unknown;
  /** Free-form JSON metadata (data set, metrics, ...). */
  metadata?: Record<string, unknown>;
  /** Replace an existing artifact at `dir` (default false: CONFLICT error). */
  overwrite?: boolean;
}

/** What {@link SimilarityModel.load} returns besides the model. */
export interface LoadedArtifact {
  /** The restored model. */
  model: SimilarityModel;
  /** Stored calibration, if any. */
  calibration?: unknown;
  /** Stored metadata, if any. */
  metadata?: Record<string, unknown>;
}

/** Number of items in a batch (array length or the tensor's first axis). */
export function batchLength(batch: EncoderBatch): number {
  return batch instanceof tf.Tensor ? batch.shape[0] ?? 0 : batch.length;
}

/** Items `[start, end)` of a batch. */
export function sliceBatch(batch: EncoderBatch, start: number, end: number): EncoderBatch {
  if (batch instanceof tf.Tensor) {
    const begin = batch.shape.map((_, i) => (i === 0 ? start : 0));
    const size = batch.shape.map((d, i) => (i === 0 ? end - start : d));
    return tf.slice(batch, begin, size);
  }
  return batch.slice(start, end);
}

/**
 * Encoder + head (Quaterion's SimilarityModel / MetricModel).
 *
 * @example
 * ```ts
 * import { LinearHead, MlpEncoder, SimilarityModel } from "@likeness/models";
 * const model = new SimilarityModel(
 *   new MlpEncoder({ inputDim: 4, hidden: [8], outputDim: 8, seed: 1 }),
 *   new LinearHead({ inputDim: 8, outputDim: 3, seed: 2 }),
 * );
 * const m = await model.encode([[1, 2, 3, 4], [4, 3, 2, 1]], { batchSize: 1 });
 * console.log(m.rows, m.cols); // 2 3
 * ```
 */
export class SimilarityModel {
  /** The encoder. */
  readonly encoder: Encoder;
  /** The head. */
  readonly head: Head;
  /** Whether outputs are L2-normalised. */
  readonly normalize: boolean;

  /**
   * @param encoder any {@link Encoder}
   * @param head a {@link Head} taking `encoder.dim` (default {@link EmptyHead})
   * @param options `normalize`
   * @throws {ShapeError} when the head's input width differs from the encoder's width
   */
  constructor(encoder: Encoder, head?: Head, options: SimilarityModelOptions = {}) {
    if (!encoder || typeof encoder.encode !== "function") {
      throw new ValueError(
        "INVALID_ARGUMENT",
        "Cannot build a SimilarityModel: pass an encoder (an object with encode())",
      );
    }
    const h = head ?? new EmptyHead({ inputDim: encoder.dim });
    if (h.inputDim !== encoder.dim) {
      throw new ShapeError(
        `Cannot build a SimilarityModel: the encoder outputs ${encoder.dim} values but the ${h.type} head takes ${h.inputDim}`,
      );
    }
    this.encoder = encoder;
    this.head = h;
    this.normalize = options.normalize ?? false;
  }

  /** Embedding width (the head's output width). */
  get dim(): number {
    return this.head.outputDim;
  }

  /**
   * Head (and normalisation) on encoder features; differentiable.
   * @param features `[n, encoder.dim]`
   * @param options training flag
   * @returns `[n, dim]`
   */
  forwardHead(features: tf.Tensor2D, options?: ForwardOptions): tf.Tensor2D {
    return tf.tidy(() => {
      const y = this.head.forward(features, options);
      if (!this.normalize) return y;
      return tf.div(y, tf.maximum(tf.sqrt(tf.sum(tf.square(y), 1, true)), 1e-12)) as tf.Tensor2D;
    });
  }

  /**
   * Differentiable forward pass through a trainable encoder and the head.
   * @param batch inputs
   * @param options training flag
   * @returns `[n, dim]`
   * @throws {ValueError} UNSUPPORTED when the encoder is frozen (encode features first, then `forwardHead`)
   */
  forward(batch: EncoderBatch, options?: ForwardOptions): tf.Tensor2D {
    if (!this.encoder.forward) {
      throw new ValueError(
        "UNSUPPORTED",
        `The ${this.encoder.type} encoder is frozen and has no differentiable forward(); embed inputs with encoder.encode() (or an EmbeddingCache) and call forwardHead()`,
      );
    }
    return tf.tidy(() => this.forwardHead(this.encoder.forward!(batch, options), options));
  }

  /**
   * Embed inputs in batches (inference).
   * @param inputs array of items or a tensor whose first axis is the batch
   * @param options batch size and progress callback
   * @returns an `n × dim` matrix
   * @throws {ShapeError} EMPTY_INPUT for no inputs; errors of the encoder for bad items
   */
  async encode(inputs: EncoderBatch, options: EncodeOptions = {}): Promise<Matrix> {
    const n = batchLength(inputs);
    if (n === 0) throw new ShapeError("Cannot encode: no inputs; pass at least one item", "EMPTY_INPUT");
    const bs = options.batchSize ?? 256;
    if (!Number.isInteger(bs) || bs < 1) {
      throw new ValueError("INVALID_ARGUMENT", `Invalid batchSize: expected a positive integer, got ${bs}`);
    }
    const out = new Float32Array(n * this.dim);
    for (let start = 0; start < n; start += bs) {
      const end = Math.min(n, start + bs);
      const part = sliceBatch(inputs, start, end);
      const features = await this.encoder.encode(part);
      if (part instanceof tf.Tensor) part.dispose();
      const y = this.forwardHead(features);
      if (y !== features) features.dispose();
      out.set(await y.data() as Float32Array, start * this.dim);
      y.dispose();
      options.onProgress?.({ done: end, total: n });
    }
    return { data: out, rows: n, cols: this.dim };
  }

  /** @returns encoder variables (when trainable) then head variables */
  trainableVariables(): tf.Variable[] {
    return [...(this.encoder.trainable ? this.encoder.variables() : []), ...this.head.variables()];
  }

  /** @returns weights named `encoder/<name>` and `head/<name>` */
  getWeights(): NamedTensor[] {
    return [...prefixWeights("encoder/", this.encoder.getWeights()), ...prefixWeights("head/", this.head.getWeights())];
  }

  /**
   * Replace weights by name.
   * @param weights named `encoder/<name>` and `head/<name>`
   * @throws {ValueError} NOT_FOUND / {ShapeError} from the components
   */
  setWeights(weights: readonly NamedTensor[]): void {
    this.encoder.setWeights(unprefixWeights("encoder/", weights));
    this.head.setWeights(unprefixWeights("head/", weights));
  }

  /** @returns `{ encoder, head, normalize }` configs */
  config(): { encoder: ComponentConfig; head: ComponentConfig; normalize: boolean } {
    return { encoder: this.encoder.config(), head: this.head.config(), normalize: this.normalize };
  }

  /**
   * Save as a servable artifact directory (written to a temporary directory, then renamed).
   * @param dir target directory
   * @param options calibration, metadata, overwrite
   * @throws {LikenessError} CONFLICT when `dir` exists and `overwrite` is false
   */
  async save(dir: string, options: SaveOptions = {}): Promise<void> {
    const { saveArtifact } = await import("./artifact_fs.ts");
    await saveArtifact(this, dir, options);
  }

  /**
   * Restore a model saved with {@link SimilarityModel.save}, using only the registry.
   * @param dir artifact directory
   * @returns the model (use {@link SimilarityModel.loadArtifact} for calibration and metadata too)
   * @throws {LikenessError} NOT_FOUND, CORRUPT or UNSUPPORTED; {ValueError} UNKNOWN_NAME for an unregistered type
   */
  static async load(dir: string): Promise<SimilarityModel> {
    return (await SimilarityModel.loadArtifact(dir)).model;
  }

  /**
   * Restore a model with its calibration and metadata.
   * @param dir artifact directory
   * @returns model, calibration, metadata
   */
  static async loadArtifact(dir: string): Promise<LoadedArtifact> {
    const { loadArtifact } = await import("./artifact_fs.ts");
    return await loadArtifact(dir);
  }

  /** Free encoder and head. */
  dispose(): void {
    this.encoder.dispose();
    this.head.dispose();
  }
}
