/**
 * Cross-batch memory (XBM): a wrapper that evaluates any loss accepting a reference set
 * (`acceptsReference`: TripletMarginLoss, ContrastiveLoss, MultiSimilarityLoss, or your own) on
 * the current batch against a FIFO memory of past embeddings, as pytorch-metric-learning's
 * `CrossBatchMemory(loss, ...)` wraps any loss.
 *
 * @module
 */
import { tf } from "@likeness/tf";
import {
  checkFiniteNumber,
  checkOneOf,
  equalLabels,
  type Label,
  type MinedIndices,
  requireLabels,
  ShapeError,
  ValueError,
} from "@likeness/core";
import type { LossTarget } from "./types.ts";
import { BaseLoss, type LossDict } from "./base_loss.ts";
import type { Distance } from "./distances.ts";
import { PmlTripletMarginLoss } from "./pml/triplet_margin.ts";
import { PmlContrastiveLoss } from "./pml/contrastive.ts";
import { PmlMultiSimilarityLoss } from "./pml/multi_similarity.ts";

/** Shorthand names of the losses {@link CrossBatchMemory} builds itself (pml's defaults). */
export type XbmLossKind = "triplet" | "contrastive" | "multi_similarity";

/** All XBM loss kinds. */
export const XBM_LOSS_KINDS: readonly XbmLossKind[] = ["triplet", "contrastive", "multi_similarity"];

/** Options of {@link CrossBatchMemory} (loss parameters use pytorch-metric-learning's defaults). */
export interface CrossBatchMemoryOptions {
  /**
   * The wrapped loss: any {@link BaseLoss} with `acceptsReference`, or a shorthand that builds one
   * from the options below: `triplet` (TripletMarginLoss), `contrastive` (ContrastiveLoss) or
   * `multi_similarity` (MultiSimilarityLoss).
   */
  loss: XbmLossKind | BaseLoss;
  /** Rows of memory (default 1024); must be at least the batch size. */
  memorySize?: number;
  /** Shorthand only: distance (default: L2 of normalised rows; cosine similarity for `multi_similarity`). */
  distance?: Distance;
  /** Triplet margin (default 0.05). */
  margin?: number;
  /** Triplet: softplus instead of relu (default false). */
  smooth?: boolean;
  /** Contrastive positive margin (default 0). */
  posMargin?: number;
  /** Contrastive negative margin (default 1). */
  negMargin?: number;
  /** Multi-similarity α (default 2). */
  alpha?: number;
  /** Multi-similarity β (default 50). */
  beta?: number;
  /** Multi-similarity base (default 0.5). */
  base?: number;
  /**
   * Accepted (a positive integer) so older configs still load, but unused: the wrapped
   * TripletMarginLoss evaluates only the (anchor, positive, negative) triplets that exist, not a
   * blocked anchors × memory × memory cube.
   */
  tripletBlockElements?: number;
}

/**
 * CrossBatchMemory (XBM, Wang et al. 2020; pytorch-metric-learning 2.8.1 semantics without a
 * miner). Every `compute` first enqueues a detached copy of the batch (embeddings and labels) into
 * a FIFO memory of `memorySize` rows, then evaluates the wrapped loss on the batch against the
 * memory (`target.ref`) with every (batch row, memory row) pair: positive pairs share a label,
 * excluding each row's own copy in memory; negative pairs do not share one. Gradients flow into
 * the current batch only; memory rows are constants. On the first call the memory holds just the
 * batch, so the value equals the plain loss of the batch. `compute` mutates the memory: call it
 * once per training step.
 *
 * @example
 * ```ts
 * import { tf, useTfBackend } from "@likeness/tf";
 * import { CrossBatchMemory, PmlContrastiveLoss } from "@likeness/losses";
 * import assert from "node:assert/strict";
 * await useTfBackend("wasm");
 * const xbm = new CrossBatchMemory({ loss: new PmlContrastiveLoss(), memorySize: 8 });
 * const x = tf.tensor2d([[1, 0], [0.9, 0.1], [0, 1], [0.1, 0.9]]);
 * const plain = new PmlContrastiveLoss().compute(x, { labels: [0, 0, 1, 1] }).dataSync()[0];
 * const loss = xbm.compute(x, { labels: [0, 0, 1, 1] }).dataSync()[0];
 * assert.ok(Math.abs(loss - plain) < 1e-6); // an empty memory: the plain loss
 * assert.equal(xbm.size, 4); // the memory now holds the batch
 * ```
 */
export class CrossBatchMemory extends BaseLoss {
  /** Class name. */
  readonly name = "CrossBatchMemory";
  /** The wrapped loss. */
  readonly loss: BaseLoss;
  /** Shorthand kind the loss was built from, if any. */
  readonly kind: XbmLossKind | undefined;
  /** Memory rows. */
  readonly memorySize: number;
  #emb: Float32Array | undefined;
  #labels: Label[];
  #width = 0;
  #next = 0;
  #filled = false;

  /**
   * @param options the wrapped loss (or a shorthand and its parameters), memory size
   * @throws {ValueError} UNKNOWN_NAME for a shorthand; UNSUPPORTED for a loss without a reference
   *   set; INVALID_ARGUMENT for a bad size or parameter
   */
  constructor(options: CrossBatchMemoryOptions) {
    super();
    const given = options?.loss;
    if (given instanceof BaseLoss) {
      if (!given.acceptsReference) {
        throw new ValueError(
          "UNSUPPORTED",
          `Cannot wrap ${given.name} in CrossBatchMemory: it does not accept a reference set (acceptsReference)`,
        );
      }
      this.loss = given;
    } else {
      this.kind = checkOneOf(given, XBM_LOSS_KINDS, "XBM loss");
      this.loss = shorthandLoss(this.kind, options);
    }
    this.memorySize = checkFiniteNumber(options.memorySize ?? 1024, "memorySize", this.name, { min: 1, integer: true });
    checkFiniteNumber(options.tripletBlockElements ?? 1, "tripletBlockElements", this.name, { min: 1, integer: true });
    this.#labels = new Array(this.memorySize);
  }

  /** Rows currently in memory. */
  get size(): number {
    return this.#filled ? this.memorySize : this.#next;
  }

  /** Empty the memory (e.g. between training runs). */
  reset(): void {
    this.#emb = undefined;
    this.#labels = new Array(this.memorySize);
    this.#width = 0;
    this.#next = 0;
    this.#filled = false;
  }

  /** @returns the wrapped loss's learned parameters */
  override trainableVariables(): tf.Variable[] {
    return this.loss.trainableVariables();
  }

  /**
   * Enqueue the batch, then the wrapped loss's sub-losses of the batch against the memory.
   *
   * @param embeddings B×D (B ≤ memorySize), checked by `compute`
   * @param target `labels` (one per row) and optional `match`
   * @returns the wrapped loss's named sub-losses
   * @throws {ShapeError} LABEL_MISMATCH; SHAPE_MISMATCH when B > memorySize or D changes
   * @throws {ValueError} INVALID_ARGUMENT without labels
   */
  computeLoss(embeddings: tf.Tensor2D, target: LossTarget): LossDict {
    const [b, d] = embeddings.shape;
    const labels = requireLabels(target?.labels, b, this.name);
    if (b > this.memorySize) {
      throw new ShapeError(
        `Cannot compute CrossBatchMemory: batch of ${b} rows exceeds memorySize ${this.memorySize}; raise memorySize`,
      );
    }
    if (this.#emb && d !== this.#width) {
      throw new ShapeError(
        `Cannot compute CrossBatchMemory: embeddings have ${d} columns but the memory holds ${this.#width}`,
      );
    }
    const slots = this.#enqueue(embeddings.dataSync() as Float32Array, labels, d);
    const m = this.size;
    const memLabels = this.#labels.slice(0, m);
    const memory = tf.tensor2d(this.#emb!.subarray(0, m * d), [m, d]);
    const reducer = this.loss.reducer;
    return tf.tidy((): LossDict => {
      const inner = this.loss.computeLoss(embeddings, {
        labels,
        match: target.match,
        ref: { embeddings: memory, labels: memLabels },
        indices: memoryPairs(labels, memLabels, slots, target.match ?? equalLabels),
      });
      // reduce with the wrapped loss's own reducer, so XBM's value is that loss's value
      const out: LossDict = {};
      for (const [name, sub] of Object.entries(inner)) {
        out[name] = sub.reductionType === "already_reduced" || sub.losses.size === 0
          ? sub
          : { losses: reducer.reduce(sub.losses), reductionType: "already_reduced" };
      }
      return out;
    });
  }

  /** Copy the batch into the FIFO; returns each row's slot. */
  #enqueue(data: Float32Array, labels: readonly Label[], d: number): Int32Array {
    if (!this.#emb) {
      this.#emb = new Float32Array(this.memorySize * d);
      this.#width = d;
    }
    const slots = new Int32Array(labels.length);
    for (let i = 0; i < labels.length; i++) {
      const slot = this.#next;
      slots[i] = slot;
      this.#emb.set(data.subarray(i * d, (i + 1) * d), slot * d);
      this.#labels[slot] = labels[i];
      this.#next = (this.#next + 1) % this.memorySize;
      if (this.#next === 0) this.#filled = true;
    }
    return slots;
  }
}

/** pml's XBM pairs: every (batch row, memory row), positives sharing a label minus each row's own slot. */
function memoryPairs(
  labels: readonly Label[],
  memLabels: readonly Label[],
  slots: Int32Array,
  match: (a: Label, b: Label) => boolean,
): MinedIndices {
  const positivePairs: [number, number][] = [];
  const negativePairs: [number, number][] = [];
  for (let i = 0; i < labels.length; i++) {
    for (let j = 0; j < memLabels.length; j++) {
      if (match(labels[i], memLabels[j])) {
        if (j !== slots[i]) positivePairs.push([i, j]);
      } else negativePairs.push([i, j]);
    }
  }
  return { positivePairs, negativePairs };
}

/** The loss a shorthand names, with pml's defaults and the given parameters. */
function shorthandLoss(kind: XbmLossKind, o: CrossBatchMemoryOptions): BaseLoss {
  if (kind === "triplet") {
    return new PmlTripletMarginLoss({ margin: o.margin, smoothLoss: o.smooth, distance: o.distance });
  }
  if (kind === "contrastive") {
    return new PmlContrastiveLoss({ posMargin: o.posMargin, negMargin: o.negMargin, distance: o.distance });
  }
  return new PmlMultiSimilarityLoss({ alpha: o.alpha, beta: o.beta, base: o.base, distance: o.distance });
}
