/**
 * MobileNetV2 (ImageNet features, as shipped in npm `nsfwjs`) cut at its pooled 1,280-d feature
 * (or at an earlier block, average-pooled or flattened: `featureBlock`, `pooling`), as a likeness
 * {@link Encoder}: frozen, or fine-tuned from the last N blocks with batch norm frozen.
 *
 * The network is run layer by layer from the tfjs layers model, so any input size works (the
 * package's 7×7 average pool becomes a global average pool, identical at 224 px), a run can start
 * or stop at a block boundary ({@link MobileNetV2Encoder.split}: cache the frozen part once, train
 * the rest), and the trainable depthwise convolutions are computed from shifted slices while
 * training, because tfjs-backend-wasm 4.22 has no depthwise-convolution gradient kernels.
 *
 * Training the 1×1 convolutions on `wasm` needs `Conv2DBackpropFilter`, which tfjs-backend-wasm
 * lacks: import `@likeness/tfwasm` (which registers likeness's kernels) first. Importing this module
 * registers nothing; `@likeness/trainer` imports `@likeness/tfwasm`, so `fit` needs nothing more.
 *
 * @module
 */
import { checkFinite, LikenessError, ShapeError, ValueError } from "@likeness/core";
import { tf } from "@likeness/tf";
import { hashBytes, hashWeights } from "./_hash.ts";
import type { ComponentConfig, Encoder, EncoderBatch, ForwardOptions, NamedTensor } from "./types.ts";
import { decodePngImage, resizeImage } from "@likeness/data";

/** The files of the MobileNetV2 layers model, already read into memory. */
export interface MobileNetV2Artifacts {
  /** Parsed model JSON (`modelTopology` and `weightsManifest`). */
  modelJson: { modelTopology: unknown; weightsManifest: { paths: string[]; weights: unknown[] }[] };
  /** The weight shards concatenated in manifest order. */
  weightData: Uint8Array;
  /** Where the files came from (recorded in the config), default `nsfwjs`. */
  source?: string;
}

/** Which blocks train: `none` (frozen), `all`, or the last N of {@link MOBILENET_V2_BLOCKS}. */
export type TrainableBlocks = "none" | "all" | number;

/** Batch norm while fine-tuning: `frozen` (statistics and scale/shift fixed) or `affine` (scale/shift train). */
export type BatchNormMode = "frozen" | "affine";

/**
 * How the feature block's activation `[h, w, c]` becomes the embedding: `avg` (global average
 * pool, `c` values) or `flatten` (the whole grid, `h·w·c` values: keeps where things are, which
 * matters for aligned images such as Fashion-MNIST's).
 */
export type FeaturePooling = "avg" | "flatten";

/** Options of {@link MobileNetV2Encoder}. */
export interface MobileNetV2EncoderOptions {
  /** Square input size in pixels, 32..512 (default 224, the size it was trained at). */
  inputSize?: number;
  /** Blocks whose weights train (default `none`). The stem only trains with `all`. */
  trainableBlocks?: TrainableBlocks;
  /** Batch-norm behaviour of the trainable blocks (default `frozen`: running statistics always used). */
  batchNorm?: BatchNormMode;
  /**
   * The block whose output is the feature, one of {@link MOBILENET_V2_BLOCKS} after the stem
   * (default `top`, the 1,280-d layer before nsfwjs's head). Earlier blocks are less specific to
   * ImageNet/nsfwjs's classes; later blocks are not run. `trainableBlocks: N` counts back from it.
   */
  featureBlock?: string;
  /** How the feature block's grid is pooled (default `avg`). */
  pooling?: FeaturePooling;
}

/**
 * The blocks of MobileNetV2 in order: the stem, the 17 inverted-residual blocks and the final
 * 1×1 convolution to 1,280 channels (`top`). `trainableBlocks: N` trains the last N (at most 18).
 */
export const MOBILENET_V2_BLOCKS: readonly string[] = [
  "stem",
  "expanded_conv",
  ...Array.from({ length: 16 }, (_, i) => `block_${i + 1}`),
  "top",
];

/** The five classes of nsfwjs's head, in output order. */
export const NSFWJS_CLASSES: readonly string[] = ["Drawing", "Hentai", "Neutral", "Porn", "Sexy"];

const FEATURE_END = "out_relu";
const HEAD_LAYERS = ["dense_1", "dropout_2", "dense_2", "dropout_3", "dense_3"];

interface Step {
  layer: tf.layers.Layer;
  inputs: string[];
  unit: number;
}

interface WeightRef {
  read(): tf.Variable;
  write(v: tf.Tensor): void;
  readonly name: string;
  readonly originalName: string;
  readonly shape: number[];
}

function unitOf(name: string): number {
  if (/^(Conv1|bn_Conv1|Conv1_pad|Conv1_relu)$/.test(name)) return 0;
  if (name.startsWith("expanded_conv_")) return 1;
  const m = /^block_(\d+)_/.exec(name);
  if (m) return 1 + Number(m[1]);
  if (/^(Conv_1|Conv_1_bn|out_relu)$/.test(name)) return MOBILENET_V2_BLOCKS.length - 1;
  return -1;
}

function checkOptions(o: MobileNetV2EncoderOptions): Required<MobileNetV2EncoderOptions> {
  const featureBlock = o.featureBlock ?? "top";
  const last = MOBILENET_V2_BLOCKS.indexOf(featureBlock);
  if (last < 1) {
    throw new ValueError(
      "UNKNOWN_NAME",
      `Unknown featureBlock ${JSON.stringify(featureBlock)}: use one of ${MOBILENET_V2_BLOCKS.slice(1).join(", ")}`,
    );
  }
  const pooling = o.pooling ?? "avg";
  if (pooling !== "avg" && pooling !== "flatten") {
    throw new ValueError("UNKNOWN_NAME", `Unknown pooling ${JSON.stringify(pooling)}: use one of avg, flatten`);
  }
  const inputSize = o.inputSize ?? 224;
  if (!Number.isInteger(inputSize) || inputSize < 32 || inputSize > 512) {
    throw new ValueError(
      "INVALID_ARGUMENT",
      `Invalid inputSize: expected an integer in [32, 512] (e.g. 96, 128, 160, 224), got ${inputSize}`,
    );
  }
  const t = o.trainableBlocks ?? "none";
  const max = last;
  if (t !== "none" && t !== "all" && !(Number.isInteger(t) && (t as number) >= 0 && (t as number) <= max)) {
    throw new ValueError(
      "INVALID_ARGUMENT",
      `Invalid trainableBlocks: expected "none", "all" or an integer in [0, ${max}] (blocks up to ${featureBlock}), got ${
        JSON.stringify(t)
      }`,
    );
  }
  const bn = o.batchNorm ?? "frozen";
  if (bn !== "frozen" && bn !== "affine") {
    throw new ValueError("UNKNOWN_NAME", `Unknown batchNorm ${JSON.stringify(bn)}: use one of frozen, affine`);
  }
  return { inputSize, trainableBlocks: t === 0 ? "none" : t, batchNorm: bn, featureBlock, pooling };
}

/** PNG bytes from an item: a Uint8Array with the PNG signature, or a `data:image/png;base64,` URL. */
function pngBytes(item: unknown): Uint8Array | undefined {
  if (item instanceof Uint8Array && item.length >= 8 && item[0] === 0x89 && item[1] === 0x50) return item;
  if (typeof item === "string") {
    const m = /^data:image\/png;base64,(.*)$/s.exec(item);
    if (!m) {
      throw new ValueError(
        "INVALID_ARGUMENT",
        "Cannot encode with MobileNetV2: a string input must be a data:image/png;base64,... URL",
      );
    }
    try {
      return Uint8Array.from(atob(m[1]), (c) => c.charCodeAt(0));
    } catch (cause) {
      throw new LikenessError("CORRUPT", "Cannot encode with MobileNetV2: the data URL is not valid base64", { cause });
    }
  }
  if (item instanceof Uint8Array) {
    throw new LikenessError("CORRUPT", "Cannot decode image: the bytes are not a PNG (no PNG signature)");
  }
  return undefined;
}

/** Depthwise convolution (depth multiplier 1) from shifted slices: differentiable with any backend's kernels. */
export function depthwiseFromSlices(
  x: tf.Tensor4D,
  kernel: tf.Tensor4D,
  strides: number,
  padding: "same" | "valid",
): tf.Tensor4D {
  const [n, h, w, c] = x.shape;
  const [kh, kw] = kernel.shape;
  const s = strides;
  let oh: number, ow: number, top = 0, left = 0;
  if (padding === "same") {
    oh = Math.ceil(h / s);
    ow = Math.ceil(w / s);
    const ph = Math.max((oh - 1) * s + kh - h, 0);
    const pw = Math.max((ow - 1) * s + kw - w, 0);
    top = Math.floor(ph / 2);
    left = Math.floor(pw / 2);
  } else {
    oh = Math.floor((h - kh) / s) + 1;
    ow = Math.floor((w - kw) / s) + 1;
  }
  // Pad so that every window (and the stride reshape) stays inside.
  const needH = (kh - 1) + s * oh;
  const needW = (kw - 1) + s * ow;
  const xp = tf.pad(x, [[0, 0], [top, Math.max(needH - h - top, 0)], [left, Math.max(needW - w - left, 0)], [0, 0]]);
  let acc: tf.Tensor4D | undefined;
  for (let i = 0; i < kh; i++) {
    for (let j = 0; j < kw; j++) {
      let win = tf.slice(xp, [0, i, j, 0], [n, s * oh, s * ow, c]) as tf.Tensor4D;
      if (s > 1) {
        win = tf.reshape(
          tf.slice(tf.reshape(win, [n, oh, s, ow, s, c]), [0, 0, 0, 0, 0, 0], [n, oh, 1, ow, 1, c]),
          [n, oh, ow, c],
        );
      }
      const k = tf.reshape(tf.slice(kernel, [i, j, 0, 0], [1, 1, c, 1]), [c]);
      const term = tf.mul(win, k) as tf.Tensor4D;
      acc = acc ? tf.add(acc, term) as tf.Tensor4D : term;
    }
  }
  return acc!;
}

/**
 * MobileNetV2 encoder: `[n, s, s, 3]` images with values in [0, 1] (nsfwjs's own scaling: bytes / 255)
 * in, 1,280-d pooled features out. Array batches may also hold PNG files (bytes, or
 * `data:image/png;base64,` URLs, the form a JSON client sends to the server): they are decoded,
 * composited onto white and resized to the input size.
 *
 * @example
 * ```ts
 * import { loadMobileNetV2 } from "@likeness/models";
 * import { tf } from "@likeness/tf";
 * const enc = await loadMobileNetV2({ inputSize: 96, trainableBlocks: 2 });
 * const e = await enc.encode(tf.zeros([1, 96, 96, 3]));
 * console.log(e.shape, enc.trainable, enc.variables().length); // [1, 1280] true ...
 * ```
 */
export class MobileNetV2Encoder implements Encoder {
  /** `mobilenet-v2`. */
  readonly type = "mobilenet-v2";
  /** Embedding width: 1,280 by default; the feature block's channels (`avg`) or `h·w·c` (`flatten`). */
  readonly dim: number;
  /** The block whose output is the feature. */
  readonly featureBlock: string;
  /** How its grid is pooled. */
  readonly pooling: FeaturePooling;
  /** Square input size in pixels. */
  readonly inputSize: number;
  /** Blocks that train. */
  readonly trainableBlocks: TrainableBlocks;
  /** Batch-norm mode of the trainable blocks. */
  readonly batchNorm: BatchNormMode;
  readonly #model: tf.LayersModel;
  readonly #steps: Step[];
  readonly #fingerprint: string;
  readonly #source: string;
  readonly #firstTrainable: number;
  /** Index of the feature block in {@link MOBILENET_V2_BLOCKS}. */
  readonly #last: number;
  #disposed = false;

  private constructor(
    model: tf.LayersModel,
    fingerprint: string,
    source: string,
    options: Required<MobileNetV2EncoderOptions>,
  ) {
    this.#model = model;
    this.#fingerprint = fingerprint;
    this.#source = source;
    this.inputSize = options.inputSize;
    this.trainableBlocks = options.trainableBlocks;
    this.batchNorm = options.batchNorm;
    this.featureBlock = options.featureBlock;
    this.pooling = options.pooling;
    const units = MOBILENET_V2_BLOCKS.length;
    this.#last = MOBILENET_V2_BLOCKS.indexOf(options.featureBlock);
    const t = options.trainableBlocks;
    this.#firstTrainable = t === "none" ? units : t === "all" ? 0 : this.#last + 1 - t;
    this.#steps = [];
    for (const layer of model.layers) {
      if (layer.getClassName() === "InputLayer") {
        layer.trainable = false;
        continue;
      }
      const unit = HEAD_LAYERS.includes(layer.name) ? units : unitOf(layer.name);
      if (unit < 0 && layer.name !== "average_pooling2d_1" && layer.name !== "flatten_1") {
        throw new LikenessError(
          "CORRUPT",
          `Cannot load MobileNetV2: unexpected layer ${layer.name}; reinstall nsfwjs@4.3.0`,
        );
      }
      const node = (layer as unknown as { inboundNodes: { inboundLayers: { name: string }[] }[] }).inboundNodes[0];
      this.#steps.push({ layer, inputs: node.inboundLayers.map((l) => l.name), unit });
      const isBn = layer.getClassName() === "BatchNormalization";
      layer.trainable = unit >= this.#firstTrainable && unit <= this.#last && (!isBn || this.batchNorm === "affine");
    }
    // The feature's width: the block's channels (from its last layer's declared shape), times its
    // grid at this input size when flattened (one probe through the blocks it runs: padding and
    // strides decide the grid).
    const outShape = this.#steps.findLast((st) => st.unit === this.#last)!.layer.outputShape as number[];
    const channels = outShape[outShape.length - 1];
    if (this.pooling === "avg") this.dim = channels;
    else {
      const probe = tf.tidy(() => this.#run(tf.zeros([1, this.inputSize, this.inputSize, 3]), 0, this.#last, false));
      this.dim = probe.shape[1]! * probe.shape[2]! * channels;
      probe.dispose();
    }
  }

  /**
   * Build from the files already in memory (no file system needed).
   * @param artifacts model JSON and concatenated weights
   * @param options input size, trainable blocks, batch norm
   * @returns the encoder
   * @throws {ValueError} INVALID_ARGUMENT for bad options; {LikenessError} CORRUPT when the files do not build the model
   */
  static async fromArtifacts(
    artifacts: MobileNetV2Artifacts,
    options: MobileNetV2EncoderOptions = {},
  ): Promise<MobileNetV2Encoder> {
    const opts = checkOptions(options);
    const { modelJson, weightData } = artifacts;
    if (!modelJson?.modelTopology || !Array.isArray(modelJson.weightsManifest) || !(weightData instanceof Uint8Array)) {
      throw new LikenessError(
        "CORRUPT",
        "Cannot load MobileNetV2: the model JSON has no modelTopology/weightsManifest or the weights are not bytes; reinstall nsfwjs@4.3.0",
      );
    }
    const buffer = weightData.buffer.slice(
      weightData.byteOffset,
      weightData.byteOffset + weightData.byteLength,
    ) as ArrayBuffer;
    let model: tf.LayersModel;
    try {
      // Start tfjs's default backend if nobody has yet (else building the layers fails with a backend error).
      await tf.ready();
      model = await tf.loadLayersModel(tf.io.fromMemory({
        modelTopology: modelJson.modelTopology as tf.io.ModelJSON["modelTopology"],
        weightSpecs: modelJson.weightsManifest.flatMap((g) => g.weights) as tf.io.WeightsManifestEntry[],
        weightData: buffer,
      }));
    } catch (cause) {
      throw new LikenessError(
        "CORRUPT",
        `Cannot load MobileNetV2: ${(cause as Error).message}; reinstall nsfwjs@4.3.0`,
        { cause },
      );
    }
    if (!model.layers.some((l) => l.name === FEATURE_END)) {
      model.dispose();
      throw new LikenessError("CORRUPT", `Cannot load MobileNetV2: the model has no ${FEATURE_END} layer`);
    }
    const step = Math.max(1, Math.floor(weightData.length / 65536));
    const sample = new Uint8Array(Math.ceil(weightData.length / step));
    for (let i = 0, j = 0; i < weightData.length; i += step, j++) sample[j] = weightData[i];
    const fingerprint = hashBytes(new TextEncoder().encode(`${weightData.length}`)) + hashBytes(sample);
    return new MobileNetV2Encoder(model, fingerprint, artifacts.source ?? "nsfwjs", opts);
  }

  /** Whether any weights train. */
  get trainable(): boolean {
    return this.#firstTrainable <= this.#last;
  }

  /** The feature block's activation `[n, h, w, c]` as the embedding `[n, dim]`. */
  #pool(y: tf.Tensor): tf.Tensor2D {
    return (this.pooling === "avg" ? tf.mean(y, [1, 2]) : tf.reshape(y, [y.shape[0], this.dim])) as tf.Tensor2D;
  }

  /** The underlying tfjs layers model (shared, not a copy; the 5-class head included). */
  get layersModel(): tf.LayersModel {
    return this.#model;
  }

  #check(batch: EncoderBatch, what: string): tf.Tensor4D {
    const s = this.inputSize;
    const width = s * s * 3;
    if (batch instanceof tf.Tensor) {
      const sh = batch.shape;
      if (sh.length === 4 ? sh[1] !== s || sh[2] !== s || sh[3] !== 3 : sh.length !== 2 || sh[1] !== width) {
        throw new ShapeError(
          `Cannot ${what} with MobileNetV2: input has shape [${sh}] but it takes [batch, ${s}, ${s}, 3] (resize images to ${s}×${s} first)`,
        );
      }
      if (sh[0] === 0) throw new ShapeError(`Cannot ${what} with MobileNetV2: the batch is empty`, "EMPTY_INPUT");
      return tf.tidy(() => tf.reshape(tf.cast(batch, "float32"), [sh[0], s, s, 3]));
    }
    if (!Array.isArray(batch)) {
      throw new ValueError(
        "INVALID_ARGUMENT",
        `Cannot ${what} with MobileNetV2: pass a tf.Tensor or an array of images`,
      );
    }
    if (batch.length === 0) throw new ShapeError(`Cannot ${what} with MobileNetV2: the batch is empty`, "EMPTY_INPUT");
    const data = new Float32Array(batch.length * width);
    batch.forEach((row, i) => {
      const png = pngBytes(row);
      if (png) {
        resizeImage(decodePngImage(png), s, { out: data, offset: i * width });
        return;
      }
      const r = row as ArrayLike<number>;
      if (r === null || typeof r !== "object" || typeof r.length !== "number") {
        throw new ValueError(
          "INVALID_ARGUMENT",
          `Cannot ${what} with MobileNetV2: item ${i} is ${typeof row}; pass ${width} numbers in [0, 1] (${s}×${s}×3), PNG bytes or a data:image/png;base64 URL`,
        );
      }
      if (r.length !== width) {
        throw new ShapeError(
          `Cannot ${what} with MobileNetV2: image ${i} has ${r.length} values but the encoder takes ${width} (${s}×${s}×3); resize it first`,
        );
      }
      data.set(r, i * width);
    });
    checkFinite(data, "MobileNetV2 input");
    return tf.tensor4d(data, [batch.length, s, s, 3]);
  }

  /** Run steps whose unit is in [fromUnit, toUnit], starting from `x` (the input, or the boundary before fromUnit). */
  #run(x: tf.Tensor, fromUnit: number, toUnit: number, training: boolean): tf.Tensor {
    if (this.#disposed) throw new ValueError("UNSUPPORTED", "This MobileNetV2Encoder has been disposed");
    const values = new Map<string, tf.Tensor>();
    let prevName = "input_1";
    let last = x;
    values.set(prevName, x);
    for (const st of this.#steps) {
      if (st.unit >= MOBILENET_V2_BLOCKS.length) break;
      if (st.unit < fromUnit) {
        prevName = st.layer.name;
        continue;
      }
      if (st.unit > toUnit) break;
      // The first layer of `fromUnit` reads the previous unit's output: that is `x`.
      const ins = st.inputs.map((n) => values.get(n) ?? (n === prevName || st.unit === fromUnit ? x : undefined));
      if (ins.some((t) => t === undefined)) {
        throw new LikenessError("CORRUPT", `Cannot run MobileNetV2: layer ${st.layer.name} lacks an input`);
      }
      const cls = st.layer.getClassName();
      let y: tf.Tensor;
      if (training && cls === "DepthwiseConv2D" && st.unit >= this.#firstTrainable) {
        const cfg = st.layer.getConfig() as { strides: number[]; padding: "same" | "valid"; useBias?: boolean };
        const ws = st.layer.weights as unknown as WeightRef[];
        y = depthwiseFromSlices(ins[0] as tf.Tensor4D, ws[0].read() as tf.Tensor4D, cfg.strides[0], cfg.padding);
        if (cfg.useBias) y = tf.add(y, ws[1].read());
      } else {
        y = st.layer.apply(ins.length === 1 ? ins[0]! : ins as tf.Tensor[], { training: false }) as tf.Tensor;
      }
      values.set(st.layer.name, y);
      last = y;
      if (st.layer.name === FEATURE_END) break;
    }
    return last;
  }

  /**
   * Differentiable forward pass (call inside `tf.variableGrads`); batch norm uses its running statistics.
   * @param batch `[n, s, s, 3]` tensor (or `[n, s*s*3]`), or n rows of `s*s*3` numbers, values in [0, 1]
   * @param options `training` switches the trainable depthwise convolutions to their differentiable form
   * @returns `[n, dim]` (1,280 by default)
   * @throws {ShapeError} SHAPE_MISMATCH for another image size; EMPTY_INPUT for no images
   */
  forward(batch: EncoderBatch, options?: ForwardOptions): tf.Tensor2D {
    return tf.tidy(() => {
      const x = this.#check(batch, "encode");
      return this.#pool(this.#run(x, 0, this.#last, options?.training === true));
    });
  }

  /**
   * Embed images (inference).
   * @param batch as {@link MobileNetV2Encoder.forward}
   * @returns `[n, dim]` pooled features
   * @throws {ShapeError} SHAPE_MISMATCH for another image size
   */
  encode(batch: EncoderBatch): Promise<tf.Tensor2D> {
    try {
      return Promise.resolve(this.forward(batch));
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /**
   * The package's own 5-class output (pooled feature → nsfwjs's dense head, softmax), for checking the weights.
   * @param batch as {@link MobileNetV2Encoder.forward}
   * @returns `[n, 5]` probabilities in {@link NSFWJS_CLASSES} order
   */
  classify(batch: EncoderBatch): tf.Tensor2D {
    return tf.tidy(() => {
      const x = this.#check(batch, "classify");
      let y: tf.Tensor = tf.mean(this.#run(x, 0, MOBILENET_V2_BLOCKS.length - 1, false), [1, 2]);
      for (const name of HEAD_LAYERS) y = this.#model.getLayer(name).apply(y, { training: false }) as tf.Tensor;
      return y as tf.Tensor2D;
    });
  }

  /**
   * Split at the first trainable block: a frozen prefix whose output (the activation at the boundary,
   * flattened) can be cached once, and a trainable suffix that maps it to the feature. Both
   * share this encoder's weights, so training the suffix trains this encoder.
   * @returns `{ prefix, suffix, boundaryShape }`
   * @throws {ValueError} UNSUPPORTED when nothing is trainable (use the encoder itself, frozen)
   */
  split(): { prefix: Encoder; suffix: Encoder; boundaryShape: [number, number, number] } {
    if (!this.trainable) {
      throw new ValueError(
        "UNSUPPORTED",
        "Cannot split a frozen MobileNetV2Encoder: pass trainableBlocks (a number or all) to train part of it",
      );
    }
    const from = this.#firstTrainable;
    const probe = tf.tidy(() =>
      from === 0 ? tf.zeros([1, this.inputSize, this.inputSize, 3]) : this.#run(
        tf.zeros([1, this.inputSize, this.inputSize, 3]),
        0,
        from - 1,
        false,
      )
    );
    const boundaryShape = probe.shape.slice(1) as [number, number, number];
    probe.dispose();
    const width = boundaryShape[0] * boundaryShape[1] * boundaryShape[2];
    const tag = `${MOBILENET_V2_BLOCKS[from]}`;
    const prefixId = `mobilenet-v2-prefix:${this.#fingerprint}:${this.inputSize}:to-${tag}`;
    const prefix: Encoder = {
      type: "mobilenet-v2-prefix",
      dim: width,
      trainable: false,
      encode: (batch) => {
        try {
          return Promise.resolve(tf.tidy(() => {
            const x = this.#check(batch, "encode");
            const y = from === 0 ? x : this.#run(x, 0, from - 1, false);
            return tf.reshape(y, [y.shape[0], width]) as tf.Tensor2D;
          }));
        } catch (e) {
          return Promise.reject(e);
        }
      },
      identity: () => prefixId,
      config: () => ({ type: "mobilenet-v2-prefix", inputSize: this.inputSize, to: tag, source: this.#source }),
      variables: () => [],
      getWeights: () => [],
      setWeights: () => {},
      dispose: () => {},
    };
    const suffixForward = (batch: EncoderBatch, options?: ForwardOptions): tf.Tensor2D =>
      tf.tidy(() => {
        let x: tf.Tensor;
        if (batch instanceof tf.Tensor) x = tf.reshape(batch, [batch.shape[0], ...boundaryShape]);
        else {
          const rows = batch as ArrayLike<number>[];
          const data = new Float32Array(rows.length * width);
          rows.forEach((r, i) => {
            if (r.length !== width) {
              throw new ShapeError(
                `Cannot run the MobileNetV2 suffix: row ${i} has ${r.length} values, expected ${width}`,
              );
            }
            data.set(r, i * width);
          });
          x = tf.tensor4d(data, [rows.length, ...boundaryShape]);
        }
        if (x.shape[0] === 0) {
          throw new ShapeError("Cannot run the MobileNetV2 suffix: the batch is empty", "EMPTY_INPUT");
        }
        return this.#pool(this.#run(x, from, this.#last, options?.training === true));
      });
    const suffix: Encoder = {
      type: "mobilenet-v2-suffix",
      dim: this.dim,
      trainable: true,
      forward: suffixForward,
      encode: (batch) => {
        try {
          return Promise.resolve(suffixForward(batch));
        } catch (e) {
          return Promise.reject(e);
        }
      },
      identity: () => `mobilenet-v2-suffix:${this.identity()}`,
      config: () => ({ type: "mobilenet-v2-suffix", from: tag }),
      variables: () => this.variables(),
      getWeights: () => this.getWeights(),
      setWeights: (w) => this.setWeights(w),
      dispose: () => {},
    };
    return { prefix, suffix, boundaryShape };
  }

  #refs(all: boolean): WeightRef[] {
    const out: WeightRef[] = [];
    for (const st of this.#steps) {
      if (st.unit >= MOBILENET_V2_BLOCKS.length) continue;
      if (!all && st.unit < this.#firstTrainable) continue;
      for (const w of st.layer.weights) out.push(w as unknown as WeightRef);
    }
    return out;
  }

  /** @returns `mobilenet-v2:` + the package weights' fingerprint + options, + a hash of the trainable weights */
  identity(): string {
    const feature = this.featureBlock === "top" && this.pooling === "avg"
      ? ""
      : `:${this.featureBlock}:${this.pooling}`;
    const base = `mobilenet-v2:${this.#fingerprint}:${this.inputSize}${feature}`;
    if (!this.trainable) return base;
    return `${base}:${hashWeights(this.config(), this.getWeights())}`;
  }

  /** @returns `{ type, inputSize, trainableBlocks, batchNorm, source }` (the package weights are not saved) */
  config(): ComponentConfig {
    return {
      type: this.type,
      inputSize: this.inputSize,
      trainableBlocks: this.trainableBlocks,
      batchNorm: this.batchNorm,
      featureBlock: this.featureBlock,
      pooling: this.pooling,
      source: this.#source,
    };
  }

  /** @returns the variables of the trainable blocks (batch-norm scale/shift only in `affine` mode) */
  variables(): tf.Variable[] {
    const out: tf.Variable[] = [];
    for (const st of this.#steps) {
      if (st.unit >= MOBILENET_V2_BLOCKS.length || !st.layer.trainable) continue;
      for (const w of st.layer.trainableWeights) out.push(w.read() as tf.Variable);
    }
    return out;
  }

  /** @returns a copy of every weight of the trainable blocks (running statistics included; `[]` when frozen) */
  getWeights(): NamedTensor[] {
    if (!this.trainable) return [];
    return this.#refs(false).map((w) => ({
      name: w.originalName,
      shape: [...w.shape],
      values: new Float32Array(w.read().dataSync() as Float32Array),
    }));
  }

  /**
   * Replace weights by name (any weight of the network, e.g. `block_16_project/kernel`).
   * @param weights as returned by `getWeights`
   * @throws {ValueError} NOT_FOUND for an unknown name; {ShapeError} SHAPE_MISMATCH for a wrong shape
   */
  setWeights(weights: readonly NamedTensor[]): void {
    const byName = new Map(this.#refs(true).map((w) => [w.originalName, w]));
    for (const w of weights) {
      const ref = byName.get(w.name);
      if (!ref) throw new ValueError("NOT_FOUND", `Cannot set MobileNetV2 weight ${w.name}: no such weight`);
      if (ref.shape.join("x") !== w.shape.join("x") || w.values.length !== ref.shape.reduce((a, b) => a * b, 1)) {
        throw new ShapeError(`Cannot set MobileNetV2 weight ${w.name}: shape [${w.shape}] but it is [${ref.shape}]`);
      }
    }
    for (const w of weights) {
      const ref = byName.get(w.name)!;
      tf.tidy(() => ref.write(tf.tensor(w.values, ref.shape, "float32")));
    }
  }

  /** Free the model's tensors. */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    this.#model.dispose();
  }
}
