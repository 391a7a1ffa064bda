/**
 * `fit`: train a {@link SimilarityModel} with a loss on labelled groups or scored pairs.
 *
 * @module
 */
import {
  checkFiniteNumber,
  checkLabelValues,
  checkPositiveInt,
  createRng,
  type Label,
  LikenessError,
  type Matrix,
  ShapeError,
  ValueError,
} from "@likeness/core";
import type { Loss, LossTarget, MinedIndices } from "@likeness/losses";
import { batchLength, type EncoderBatch, type NamedTensor, type SimilarityModel } from "@likeness/models";
import { tf } from "@likeness/tf";
// likeness's kernels inside tfjs-backend-wasm (conv gradients it lacks, faster matmul): registered on import.
import "@likeness/tfwasm";
import { setImmediate } from "node:timers";
import type { BatchInfo, Callback, CallbackContext, EpochLog } from "./callbacks.ts";
import { checkpointFromFiles, type CheckpointStore, checkpointToFiles } from "./checkpoint.ts";
import { clipByGlobalNorm, globalNorm } from "./clip.ts";
import type { Optimizer } from "./optimizers.ts";
import { OPTIMIZER_REGISTRY } from "./registry.ts";
import { type FitProfile, FitProfiler } from "./profiler.ts";
import { constantLr, type LrSchedule } from "./schedule.ts";

/**
 * Longest stretch of training steps, in ms, between two turns of the event loop. A step's awaits
 * settle as microtasks, which never let a timer, an I/O callback or a Worker's message in: without
 * these turns a long training starves a server in the same process, and matmul Workers that stopped
 * while idle (their start messages are events) would not come back until training ended.
 */
const YIELD_EVERY_MS = 50;

/** One turn of the event loop (setImmediate: without setTimeout's 1 ms clamp). */
const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * Training data: items plus either one label per item (group losses; Quaterion's
 * SimilarityGroupSample) or pairs of item indices with scores (pair losses; SimilarityPairSample).
 */
export interface FitData {
  /** The items (array, or a tensor whose first axis is the item). */
  inputs: EncoderBatch;
  /** One label per item (required for group losses and miners). */
  labels?: readonly Label[];
  /** Pairs `[a, b]` of item indices (pair mode: batches are drawn over pairs). */
  pairs?: readonly (readonly [number, number])[];
  /** One score per pair (1 similar, 0 dissimilar, or graded). */
  scores?: readonly number[];
  /** One subgroup id per item (Quaterion's subgroups). */
  subgroups?: readonly number[];
}

/** A sampler of batches: helper-compatible with `@likeness/samplers`' BatchSampler. */
export interface FitSampler {
  /** Batches per epoch. */
  readonly batchesPerEpoch: number;
  /**
   * The batches of epoch `e` (indices of items, or of pairs in pair mode).
   * @param epoch 0-based epoch
   */
  epoch(epoch: number): number[][];
}

/** What `fit` needs from a miner (any `@likeness/miners` Miner fits). */
export interface FitMiner {
  /**
   * Mine index tuples from a batch's embeddings.
   * @param embeddings B×D (not differentiated)
   * @param labels one per row
   */
  mine(embeddings: tf.Tensor2D, labels: readonly Label[]): Promise<MinedIndices>;
  /**
   * Optional: the same miner as a plain call (`Miner.synchronous` of `@likeness/miners`). With
   * one, `fit` mines inside the gradient tape on the step's own forward pass; without one (or
   * when it resolves to undefined, as on WebGPU) it awaits `mine` on a separate inference pass
   * first, so each step runs the forward twice.
   */
  synchronous?(): Promise<FitSyncMiner | undefined>;
}

/** The synchronous form of a {@link FitMiner}. */
export interface FitSyncMiner {
  /** Mine index tuples from a batch's embeddings, on the calling thread. */
  mine(embeddings: tf.Tensor2D, labels: readonly Label[]): MinedIndices;
}

/** What `fit` needs from an embedding cache (`@likeness/cache`'s EmbeddingCache fits). */
export interface FitCache {
  /**
   * Embeddings of `inputs` under a frozen encoder.
   * @param encoder the model's encoder
   * @param inputs the items
   * @param options entry name and progress
   */
  embed(
    encoder: SimilarityModel["encoder"],
    inputs: EncoderBatch,
    options?: { name?: string; batchSize?: number; onProgress?: (p: { done: number; total: number }) => void },
  ): Promise<Matrix>;
}

/** Options of {@link fit}. */
export interface FitOptions {
  /** The loss (a `@likeness/losses` Loss: compute + trainableVariables). Required. */
  loss?: Loss;
  /** Epochs (default 1). */
  epochs?: number;
  /** Items (or pairs) per batch when no sampler is given (default 32). */
  batchSize?: number;
  /** Batch sampler (e.g. `mPerClassSampler(labels, …)`); default: seeded shuffled batches. */
  sampler?: FitSampler;
  /** Drop a last batch smaller than `batchSize` (default false; a last batch of 1 is always dropped). */
  dropLast?: boolean;
  /** A name declared in `OPTIMIZER_REGISTRY` (`adam`, the default, or `sgd`, with default options), or an {@link Optimizer}. */
  optimizer?: "adam" | "sgd" | Optimizer;
  /** A number (constant) or a schedule (default 1e-3). */
  learningRate?: number | LrSchedule;
  /** Clip gradients to this global L2 norm (default: no clipping). */
  clipNorm?: number;
  /** Seed of the batch order (default 0). Same seed, same data, same model: same weights. */
  seed?: number;
  /** Miner whose tuples reach the loss as `target.indices` (mined on the batch's embeddings). */
  miner?: FitMiner;
  /** Validation data: its mean loss is logged as `val_loss` each epoch. */
  validation?: FitData;
  /** Extra per-epoch metrics (e.g. precision@1 from `@likeness/eval`), merged into the epoch log. */
  validate?: (model: SimilarityModel, epoch: number) => Record<string, number> | Promise<Record<string, number>>;
  /** Callbacks (progress reporter, early stopping, JSONL logger, ...). */
  callbacks?: Callback[];
  /** Save the state as checkpoint `last` in this store every `checkpointEvery` epochs. */
  checkpoint?: CheckpointStore;
  /** Epochs between checkpoints (default 1); the final epoch is always saved. */
  checkpointEvery?: number;
  /** Resume from checkpoint `last` in `checkpoint` when it exists (default false). */
  resume?: boolean;
  /** Cache of frozen-encoder features (default: compute them once per `fit` call). */
  cache?: FitCache;
  /** Cache entry name prefix for the training data (`<name>` and `<name>-val`). */
  cacheName?: string;
  /** Items per encoder call when computing frozen features (default 128). */
  encodeBatchSize?: number;
  /** Progress while frozen features are computed. */
  onFeatures?: (p: { done: number; total: number }) => void;
  /** Stop between batches when aborted. */
  signal?: AbortSignal;
  /**
   * Measure where each step's time goes: `true` (phases and tfjs kernels, first step left out) or a
   * {@link FitProfiler}; the report is the result's `profile`. Default: off (no overhead).
   */
  profile?: boolean | FitProfiler;
}

/** What {@link fit} returns. */
export interface FitResult {
  /** One log per completed epoch (including epochs restored from a checkpoint). */
  history: EpochLog[];
  /** Epochs completed. */
  epochs: number;
  /** Optimiser steps completed. */
  steps: number;
  /** Why training ended early, if it did. */
  stopReason?: string;
  /** Epoch the run resumed after (0 for a fresh run). */
  resumedFrom: number;
  /** Time per phase and per kernel, when `profile` was set. */
  profile?: FitProfile;
}

type Mode = "groups" | "pairs";

function epochRng(seed: number, epoch: number) {
  return createRng((seed ^ Math.imul(epoch + 1, 0x9e3779b1)) >>> 0);
}

function checkData(data: FitData, what: string): { n: number; mode: Mode; units: number } {
  if (!data || typeof data !== "object" || data.inputs === undefined) {
    throw new ValueError(
      "INVALID_ARGUMENT",
      `Cannot train: ${what} needs { inputs, labels } or { inputs, pairs, scores }`,
    );
  }
  const n = batchLength(data.inputs);
  if (n === 0) throw new ShapeError(`Cannot train: ${what} has no inputs`, "EMPTY_INPUT");
  const checkLabelList = (labels: readonly Label[]) => {
    if (labels.length !== n) {
      throw new ShapeError(
        `Cannot train: ${what} has ${labels.length} labels for ${n} inputs; pass one label per input`,
        "LABEL_MISMATCH",
      );
    }
    checkLabelValues(labels, "train", { what: `${what} labels` });
  };
  if (data.subgroups && data.subgroups.length !== n) {
    throw new ShapeError(
      `Cannot train: ${what} has ${data.subgroups.length} subgroups for ${n} inputs`,
      "LABEL_MISMATCH",
    );
  }
  if (data.pairs) {
    const pairs = data.pairs;
    if (pairs.length === 0) throw new ShapeError(`Cannot train: ${what} has an empty pairs list`, "EMPTY_INPUT");
    pairs.forEach((p, i) => {
      if (!Array.isArray(p) || p.length !== 2 || !p.every((v) => Number.isInteger(v) && v >= 0 && v < n)) {
        throw new ShapeError(
          `Cannot train: ${what} pair ${i} is ${JSON.stringify(p)}; pairs are [a, b] indices into the ${n} inputs`,
          "OUT_OF_RANGE",
        );
      }
    });
    if (data.scores && data.scores.length !== pairs.length) {
      throw new ShapeError(
        `Cannot train: ${what} has ${data.scores.length} scores for ${pairs.length} pairs; pass one score per pair`,
        "LABEL_MISMATCH",
      );
    }
    if (data.scores?.some((s) => !Number.isFinite(s))) {
      throw new ValueError("NON_FINITE", `Cannot train: ${what} has a non-finite pair score`);
    }
    if (data.labels) checkLabelList(data.labels);
    return { n, mode: "pairs", units: pairs.length };
  }
  if (!data.labels) {
    throw new ShapeError(
      `Cannot train: ${what} has no labels; pass labels (one per input) for group losses, or pairs and scores for pair losses`,
      "LABEL_MISMATCH",
    );
  }
  checkLabelList(data.labels);
  return { n, mode: "groups", units: n };
}

function pick(inputs: EncoderBatch, idx: readonly number[]): { batch: EncoderBatch; owned?: tf.Tensor } {
  if (inputs instanceof tf.Tensor) {
    const t = tf.tidy(() => tf.gather(inputs, tf.tensor1d(idx as number[], "int32")));
    return { batch: t, owned: t };
  }
  return { batch: idx.map((i) => inputs[i]) };
}

function rows(m: Matrix, idx: readonly number[]): tf.Tensor2D {
  const out = new Float32Array(idx.length * m.cols);
  idx.forEach((r, k) => out.set(m.data.subarray(r * m.cols, (r + 1) * m.cols), k * m.cols));
  return tf.tensor2d(out, [idx.length, m.cols]);
}

interface PreparedBatch {
  /** Item indices whose embeddings the loss sees. */
  items: number[];
  target: LossTarget;
}

function prepare(data: FitData, mode: Mode, unitIdx: readonly number[]): PreparedBatch {
  if (mode === "groups") {
    const target: LossTarget = { labels: unitIdx.map((i) => data.labels![i]) };
    if (data.subgroups) target.subgroups = unitIdx.map((i) => data.subgroups![i]);
    return { items: [...unitIdx], target };
  }
  const local = new Map<number, number>();
  const items: number[] = [];
  const at = (i: number) => {
    let k = local.get(i);
    if (k === undefined) {
      k = items.length;
      local.set(i, k);
      items.push(i);
    }
    return k;
  };
  const pairs = unitIdx.map((p) => [at(data.pairs![p][0]), at(data.pairs![p][1])] as [number, number]);
  const target: LossTarget = { pairs, scores: unitIdx.map((p) => data.scores ? data.scores[p] : 1) };
  if (data.labels) target.labels = items.map((i) => data.labels![i]);
  if (data.subgroups) target.subgroups = items.map((i) => data.subgroups![i]);
  return { items, target };
}

function defaultBatches(units: number, batchSize: number, dropLast: boolean, seed: number, epoch: number): number[][] {
  const order = epochRng(seed, epoch).shuffle(Array.from({ length: units }, (_, i) => i));
  const out: number[][] = [];
  for (let s = 0; s < units; s += batchSize) {
    const b = order.slice(s, s + batchSize);
    if (b.length < 2 || (dropLast && b.length < batchSize)) continue;
    out.push(b);
  }
  return out;
}

/** Validated settings of one `fit` call (phase 1). */
interface _Plan {
  loss: Loss;
  epochs: number;
  batchSize: number;
  seed: number;
  mode: Mode;
  units: number;
  val?: { data: FitData; n: number; mode: Mode; units: number };
}

function _isLoss(x: unknown): x is Loss {
  return !!x && typeof (x as Loss).compute === "function" && typeof (x as Loss).trainableVariables === "function";
}

/** Phase 1: check the model, loss, data and scalar options. */
function _plan(model: SimilarityModel, data: FitData, options: FitOptions): _Plan {
  if (!model || typeof model.forwardHead !== "function") {
    throw new ValueError("INVALID_ARGUMENT", "Cannot train: pass a SimilarityModel from @likeness/models");
  }
  const loss = options?.loss;
  if (!_isLoss(loss)) {
    throw new ValueError(
      "INVALID_ARGUMENT",
      "Cannot train: pass options.loss, a Loss (an object with compute() and trainableVariables())",
    );
  }
  const epochs = options.epochs ?? 1;
  checkPositiveInt(epochs, "epochs");
  const batchSize = options.batchSize ?? 32;
  checkFiniteNumber(batchSize, "batchSize", "fit", { min: 2, integer: true });
  if (options.clipNorm !== undefined && !(options.clipNorm > 0)) {
    throw new ValueError("INVALID_ARGUMENT", `Invalid clipNorm: expected a positive number, got ${options.clipNorm}`);
  }
  const { mode, units } = checkData(data, "the training data");
  if (!options.sampler && units < batchSize) {
    const what = mode === "pairs" ? "pairs" : "items";
    throw new ShapeError(
      `Cannot train: the data set has ${units} ${what} but batchSize is ${batchSize}; use batchSize <= ${units} or add data`,
      "OUT_OF_RANGE",
      { details: { units, batchSize } },
    );
  }
  const val = options.validation
    ? { data: options.validation, ...checkData(options.validation, "the validation data") }
    : undefined;
  if (options.miner && !data.labels) {
    throw new ShapeError(
      "Cannot mine without labels: pass labels with the training data, or drop the miner",
      "LABEL_MISMATCH",
    );
  }
  return { loss, epochs, batchSize, seed: options.seed ?? 0, mode, units, val };
}

/** Phase 2 (frozen encoders only): embed every item once, through the cache when given. */
async function _frozenFeatures(
  model: SimilarityModel,
  d: FitData,
  options: FitOptions,
  name?: string,
): Promise<Matrix> {
  const encodeBatchSize = options.encodeBatchSize ?? 128;
  if (options.cache) {
    return await options.cache.embed(model.encoder, d.inputs, {
      name,
      batchSize: encodeBatchSize,
      onProgress: options.onFeatures,
    });
  }
  const total = batchLength(d.inputs);
  let m: Matrix | undefined;
  for (let s = 0; s < total; s += encodeBatchSize) {
    const idx = Array.from({ length: Math.min(total, s + encodeBatchSize) - s }, (_, k) => s + k);
    const { batch, owned } = pick(d.inputs, idx);
    const e = await model.encoder.encode(batch);
    owned?.dispose();
    if (!m) m = { data: new Float32Array(total * e.shape[1]), rows: total, cols: e.shape[1] };
    m.data.set(await e.data() as Float32Array, s * m.cols);
    e.dispose();
    options.onFeatures?.({ done: s + idx.length, total });
  }
  return m!;
}

/** Phase 3: the optimiser (`own`: created here, so disposed at the end); a name is built from `OPTIMIZER_REGISTRY`. */
function _optimizer(options: FitOptions): { optimizer: Optimizer; own: boolean } {
  const o = options.optimizer;
  if (typeof o === "object") return { optimizer: o, own: false };
  return { optimizer: OPTIMIZER_REGISTRY.create(o ?? "adam"), own: true };
}

/** One batch ready for a step: what the loss sees and how to run the model on it. */
interface _Batch {
  target: LossTarget;
  run: () => tf.Tensor2D;
  dispose: () => void;
}

/** The state of one training run; each method is one named phase. */
class _FitRun {
  readonly vars: tf.Variable[];
  readonly lossVars: tf.Variable[];
  readonly schedule: LrSchedule;
  readonly callbacks: Callback[];
  readonly ctx: CallbackContext;
  readonly profiler?: FitProfiler;
  stepsPerEpoch = 0;
  step = 0;
  /** When the training loop last gave the event loop a turn. */
  lastYield = performance.now();
  startEpoch = 0;
  history: EpochLog[] = [];
  lastSaved?: number;
  stopReason?: string;
  trainFeatures?: Matrix;
  valFeatures?: Matrix;

  constructor(
    readonly model: SimilarityModel,
    readonly data: FitData,
    readonly options: FitOptions,
    readonly plan: _Plan,
    readonly optimizer: Optimizer,
  ) {
    this.lossVars = plan.loss.trainableVariables();
    this.vars = [...model.trainableVariables(), ...this.lossVars];
    if (this.vars.length === 0) {
      throw new ValueError(
        "INVALID_ARGUMENT",
        "Cannot train: the model and loss have no trainable variables; add a head with weights (e.g. LinearHead) to a frozen encoder",
      );
    }
    this.schedule = typeof options.learningRate === "function"
      ? options.learningRate
      : constantLr(options.learningRate ?? 1e-3);
    this.callbacks = options.callbacks ?? [];
    this.ctx = {
      model,
      epochs: plan.epochs,
      stop: (reason: string) => {
        this.stopReason ??= reason;
      },
    };
    const p = options.profile;
    if (p) this.profiler = p instanceof FitProfiler ? p : new FitProfiler();
  }

  /** The batches (unit indices) of epoch `e`. */
  batchesOf(e: number): number[][] {
    const { units, batchSize, seed } = this.plan;
    const sampler = this.options.sampler;
    if (!sampler) return defaultBatches(units, batchSize, this.options.dropLast ?? false, seed, e);
    const bs = sampler.epoch(e);
    for (const b of bs) {
      if (b.some((i) => !Number.isInteger(i) || i < 0 || i >= units)) {
        throw new ShapeError(
          `The sampler returned an index outside 0..${units - 1}; build it from the same data passed to fit`,
          "OUT_OF_RANGE",
        );
      }
    }
    return bs;
  }

  /** Resume from checkpoint `last` when asked and present. */
  async restore(): Promise<void> {
    const { checkpoint, resume } = this.options;
    if (!resume || !checkpoint) return;
    const files = await checkpoint.load("last");
    if (!files) return;
    const { state, tensors } = await checkpointFromFiles(files, "last");
    const strip = (p: string) =>
      tensors.filter((t) => t.name.startsWith(p)).map((t) => ({ ...t, name: t.name.slice(p.length) }));
    this.model.setWeights(strip("model/"));
    const lw = new Map(strip("loss/").map((t) => [t.name, t]));
    this.lossVars.forEach((v, i) => {
      const t = lw.get(String(i));
      if (!t) {
        throw new LikenessError("CORRUPT", `Checkpoint "last" lacks loss weight ${i}; was it saved with another loss?`);
      }
      v.assign(tf.tensor(t.values, t.shape, "float32"));
    });
    this.optimizer.setState({ tensors: strip("opt/"), meta: state.optimizerMeta }, this.vars);
    this.startEpoch = state.epoch;
    this.step = state.step;
    this.history = state.history as EpochLog[];
    this.lastSaved = state.epoch;
    state.callbacks.forEach((s, i) => this.callbacks[i]?.setState?.(s));
  }

  /** Save checkpoint `last` after `epochDone` epochs. */
  async save(epochDone: number): Promise<void> {
    const store = this.options.checkpoint;
    if (!store) return;
    const tensors: NamedTensor[] = [
      ...this.model.getWeights().map((t) => ({ ...t, name: `model/${t.name}` })),
      ...this.lossVars.map((v, i) => ({
        name: `loss/${i}`,
        shape: [...v.shape],
        values: new Float32Array(v.dataSync() as Float32Array),
      })),
    ];
    const opt = this.optimizer.getState();
    tensors.push(...opt.tensors.map((t) => ({ ...t, name: `opt/${t.name}` })));
    await store.save(
      "last",
      await checkpointToFiles({
        state: {
          version: 1,
          epoch: epochDone,
          step: this.step,
          seed: this.plan.seed,
          optimizer: this.optimizer.name,
          optimizerMeta: opt.meta,
          history: this.history as Record<string, number | undefined>[],
          callbacks: this.callbacks.map((c) => c.getState?.() ?? null),
        },
        tensors,
      }),
    );
    this.lastSaved = epochDone;
  }

  /** Data phase: the items and target of a batch of units, and how to run the model on them. */
  batch(d: FitData, mode: Mode, unitIdx: readonly number[], feats: Matrix | undefined, training: boolean): _Batch {
    const { items, target } = prepare(d, mode, unitIdx);
    // One dropout seed per step: the mining pass and the gradient pass see the same masks,
    // and a resumed run draws the same masks as an uninterrupted one.
    const seed = this.plan.seed;
    const fw = { training, seed: (Math.imul(seed + 1, 0x85ebca6b) ^ Math.imul(this.step + 1, 0xc2b2ae35)) >>> 0 };
    if (feats) {
      const f = rows(feats, items);
      return { target, run: () => this.model.forwardHead(f, fw), dispose: () => f.dispose() };
    }
    const { batch, owned } = pick(d.inputs, items);
    return { target, run: () => this.model.forward(batch, fw), dispose: () => owned?.dispose() };
  }

  /** The miner's synchronous form, when it has one: it mines inside the tape (see `gradientStep`). */
  syncMiner?: FitSyncMiner;

  /**
   * Mining phase of a miner without a synchronous form: mine tuples on an inference pass of the
   * batch (forward time counted as forward).
   */
  async mine(b: _Batch): Promise<void> {
    const miner = this.options.miner;
    if (!miner || this.syncMiner) return;
    const p = this.profiler;
    const emb = p ? p.time("forward", () => tf.tidy(() => b.run())) : tf.tidy(() => b.run());
    try {
      const mine = () => miner.mine(emb, b.target.labels!);
      b.target.indices = p ? await p.timeAsync("mining", mine) : await mine();
    } finally {
      emb.dispose();
    }
  }

  /** Forward, loss, backward and optimiser phases of one step; returns the loss and gradient norm. */
  gradientStep(b: _Batch, lr: number): { value: number; norm: number } {
    const p = this.profiler;
    const loss = this.plan.loss;
    return tf.tidy(() => {
      const t0 = performance.now();
      let inner = 0;
      const { value, grads } = tf.variableGrads(() => {
        const f0 = performance.now();
        const e = b.run();
        const f1 = performance.now();
        // A synchronous miner mines on this forward pass (outside the tape's gradient: it reads values)
        if (this.syncMiner) b.target.indices = this.syncMiner.mine(e, b.target.labels!);
        const m1 = performance.now();
        const l = loss.compute(e, b.target);
        const f2 = performance.now();
        p?.add("forward", f1 - f0);
        if (this.syncMiner) p?.add("mining", m1 - f1);
        p?.add("loss", f2 - m1);
        inner = f2 - f0;
        return l;
      }, this.vars);
      // What variableGrads spent outside the forward and the loss is the backward pass.
      p?.add("backward", performance.now() - t0 - inner);
      const v = p ? p.time("loss", () => value.dataSync()[0]) : value.dataSync()[0];
      if (!Number.isFinite(v)) return { value: v, norm: NaN };
      const o0 = performance.now();
      let gl = this.vars.map((x) => grads[x.name] as tf.Tensor | undefined);
      let gn: number;
      if (this.options.clipNorm !== undefined) {
        const c = clipByGlobalNorm(gl, this.options.clipNorm);
        gl = c.grads;
        gn = c.norm;
      } else {
        gn = globalNorm(gl);
      }
      if (Number.isFinite(gn)) this.optimizer.apply(this.vars, gl, lr);
      p?.add("optimizer", performance.now() - o0);
      return { value: v, norm: gn };
    });
  }

  /** Stop with NON_FINITE when a step's loss or gradient norm is not finite. */
  checkFinite(value: number, norm: number, epoch: number, bi: number): void {
    if (Number.isFinite(value) && Number.isFinite(norm)) return;
    const where = this.lastSaved === undefined
      ? "no checkpoint was saved yet"
      : `checkpoint "last" holds epoch ${this.lastSaved}`;
    const what = Number.isFinite(value) ? `gradient norm is ${norm}` : `loss is ${value}`;
    throw new ValueError(
      "NON_FINITE",
      `Training stopped at epoch ${epoch + 1}, batch ${bi + 1} (step ${
        this.step + 1
      }): the ${what}; the step was not applied and ${where}. Lower the learning rate, set clipNorm, or check the inputs for NaN`,
      {
        details: { epoch: epoch + 1, batch: bi + 1, step: this.step + 1, lastCheckpointEpoch: this.lastSaved ?? null },
      },
    );
  }

  /** One training step on batch `bi` of `epoch`: data, mining, forward/loss/backward, optimiser. */
  async trainStep(epoch: number, bi: number, unitIdx: readonly number[]): Promise<{ value: number; norm: number }> {
    const p = this.profiler;
    const { mode } = this.plan;
    const b = p
      ? p.time("data", () => this.batch(this.data, mode, unitIdx, this.trainFeatures, true))
      : this.batch(this.data, mode, unitIdx, this.trainFeatures, true);
    try {
      await this.mine(b);
      const lr = this.schedule({
        step: this.step,
        epoch,
        stepsPerEpoch: this.stepsPerEpoch,
        totalSteps: this.stepsPerEpoch * this.plan.epochs,
      });
      const { value, norm } = this.gradientStep(b, lr);
      this.checkFinite(value, norm, epoch, bi);
      this.lr = lr;
      return { value, norm };
    } finally {
      b.dispose();
    }
  }

  lr = 0;

  /** Mean loss over the validation data (undefined without validation data). */
  validationLoss(): number | undefined {
    const val = this.plan.val;
    if (!val) return undefined;
    const { batchSize, loss } = this.plan;
    let sum = 0;
    let count = 0;
    for (let s = 0; s < val.units; s += batchSize) {
      const unitIdx = Array.from({ length: Math.min(val.units, s + batchSize) - s }, (_, k) => s + k);
      if (unitIdx.length < 2) continue;
      const b = this.batch(val.data, val.mode, unitIdx, this.valFeatures, false);
      const v = tf.tidy(() => loss.compute(b.run(), b.target).dataSync()[0]);
      b.dispose();
      sum += v * unitIdx.length;
      count += unitIdx.length;
    }
    return count > 0 ? sum / count : undefined;
  }

  /** One epoch: its steps, then the epoch log, validation, callbacks and checkpoint. */
  async epoch(epoch: number): Promise<void> {
    const batches = this.batchesOf(epoch);
    const { epochs } = this.plan;
    const p = this.profiler;
    let lossSum = 0;
    let normSum = 0;
    for (let bi = 0; bi < batches.length; bi++) {
      if (this.options.signal?.aborted) {
        this.stopReason = "aborted";
        return;
      }
      p?.beginStep();
      const { value, norm } = p
        ? await p.kernelsOf(() => this.trainStep(epoch, bi, batches[bi]))
        : await this.trainStep(epoch, bi, batches[bi]);
      p?.endStep();
      this.step++;
      lossSum += value;
      normSum += norm;
      const info: BatchInfo = {
        epoch: epoch + 1,
        epochs,
        batch: bi + 1,
        batches: batches.length,
        loss: value,
        lr: this.lr,
      };
      for (const c of this.callbacks) c.onBatchEnd?.(info, this.ctx);
      if (performance.now() - this.lastYield >= YIELD_EVERY_MS) {
        await yieldToEventLoop();
        this.lastYield = performance.now();
      }
    }
    const nb = Math.max(1, batches.length);
    const log: EpochLog = {
      epoch: epoch + 1,
      loss: lossSum / nb,
      lr: this.lr,
      steps: this.step,
      grad_norm: normSum / nb,
    };
    const vl = this.validationLoss();
    if (vl !== undefined) log.val_loss = vl;
    if (this.options.validate) {
      const metrics = await this.options.validate(this.model, epoch + 1);
      for (const [k, v] of Object.entries(metrics ?? {})) if (typeof v === "number") log[k] = v;
    }
    this.history.push(log);
    for (const c of this.callbacks) await c.onEpochEnd?.(log, this.ctx);
    const every = this.options.checkpointEvery ?? 1;
    if ((epoch + 1) % every === 0 || epoch + 1 === epochs || this.stopReason !== undefined) await this.save(epoch + 1);
  }

  /** Every epoch from the resumed one, with the train begin and end callbacks. */
  async run(): Promise<FitResult> {
    await this.restore();
    this.syncMiner = await this.options.miner?.synchronous?.();
    const resumedFrom = this.startEpoch;
    this.stepsPerEpoch = this.options.sampler ? this.options.sampler.batchesPerEpoch : this.batchesOf(0).length;
    for (const c of this.callbacks) await c.onTrainBegin?.(this.ctx);
    for (let epoch = this.startEpoch; epoch < this.plan.epochs && this.stopReason === undefined; epoch++) {
      await this.epoch(epoch);
      if (this.stopReason === "aborted") break;
    }
    for (const c of this.callbacks) await c.onTrainEnd?.(this.history, this.ctx);
    const result: FitResult = { history: this.history, epochs: this.history.length, steps: this.step, resumedFrom };
    if (this.stopReason !== undefined) result.stopReason = this.stopReason;
    if (this.profiler) result.profile = this.profiler.report();
    return result;
  }
}

/**
 * Train a model on data with a loss (`options.loss`).
 *
 * Trainable encoders run forward and backward on every batch. Frozen encoders (USE-lite) are
 * embedded once (through `options.cache` when given) and only the head is trained. The loss's
 * own variables (proxies, centers, learned margins) are optimised with the model.
 *
 * Phases: the call is checked (model, loss, data, options), frozen features are computed, the
 * optimiser is made, a checkpoint is restored, then each step runs data → forward → (mining) →
 * loss → backward → optimiser; `profile: true` times each phase and each tfjs kernel. A miner with
 * a synchronous form (every `@likeness/miners` miner off WebGPU) mines on the step's own forward
 * pass inside the tape; any other miner is awaited on a separate inference pass first.
 *
 * Non-finite losses stop training before the bad step is applied, so the model and checkpoint
 * `last` keep the last good state.
 *
 * @param model encoder + head
 * @param data items with labels, or with pairs and scores
 * @param options the loss, then epochs, batching, optimiser, schedule, clipping, validation, callbacks,
 *   checkpoints, profiling
 * @returns history and counts (and the profile when asked for)
 * @throws {ShapeError} EMPTY_INPUT, LABEL_MISMATCH (missing labels), OUT_OF_RANGE (data smaller than one batch)
 * @throws {ValueError} NON_FINITE (loss became NaN/Inf: details name the epoch, step and last checkpoint); INVALID_ARGUMENT
 * @throws {LikenessError} CORRUPT when resuming from a damaged checkpoint
 * @example
 * ```ts
 * import { LinearHead, MlpEncoder, SimilarityModel } from "@likeness/models";
 * import { TripletLoss } from "@likeness/losses";
 * import { fit, progressReporter } from "@likeness/trainer";
 * const model = new SimilarityModel(new MlpEncoder({ inputDim: 2, hidden: [8], outputDim: 4, seed: 1 }));
 * const inputs = [[0, 0], [0, 1], [5, 5], [5, 6]];
 * const result = await fit(model, { inputs, labels: [0, 0, 1, 1] }, {
 *   loss: new TripletLoss({ margin: 0.5 }), epochs: 3, batchSize: 4, learningRate: 1e-2, seed: 1,
 *   callbacks: [progressReporter({ write: (t) => console.log(t.trimEnd()) })],
 * });
 * console.log(result.history.length); // 3
 * ```
 */
export function fit(model: SimilarityModel, data: FitData, options: FitOptions & { loss: Loss }): Promise<FitResult>;
/**
 * The earlier call shape, `fit(model, loss, data, options)`: the same as
 * `fit(model, data, { ...options, loss })`.
 *
 * @deprecated pass the loss in the options: `fit(model, data, { loss, ...options })`
 * @param model encoder + head
 * @param loss the loss
 * @param data items with labels, or with pairs and scores
 * @param options as for the current shape, without `loss`
 * @returns history and counts
 */
export function fit(model: SimilarityModel, loss: Loss, data: FitData, options?: FitOptions): Promise<FitResult>;
export async function fit(
  model: SimilarityModel,
  second: FitData | Loss,
  third?: FitData | FitOptions,
  fourth?: FitOptions,
): Promise<FitResult> {
  const [data, options] = _isLoss(second)
    ? [third as FitData, { ...fourth, loss: second } as FitOptions]
    : [second as FitData, (third ?? {}) as FitOptions];
  const plan = _plan(model, data, options);
  const frozen = !model.encoder.trainable || typeof model.encoder.forward !== "function";
  const trainFeatures = frozen ? await _frozenFeatures(model, data, options, options.cacheName) : undefined;
  const valFeatures = frozen && plan.val
    ? await _frozenFeatures(model, plan.val.data, options, options.cacheName ? `${options.cacheName}-val` : undefined)
    : undefined;
  const { optimizer, own } = _optimizer(options);
  try {
    const run = new _FitRun(model, data, options, plan, optimizer);
    run.trainFeatures = trainFeatures;
    run.valFeatures = valFeatures;
    return await run.run();
  } finally {
    if (own) optimizer.dispose();
  }
}
