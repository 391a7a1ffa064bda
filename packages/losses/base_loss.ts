/**
 * The one loss contract of likeness, shared by all four families (pytorch-metric-learning,
 * Quaterion, sentence-transformers and likeness's own): a {@link BaseLoss} whose `compute`
 * validates the input once, calls the loss's `computeLoss`, which returns named sub-losses each
 * with its {@link ReductionType}, and hands that {@link LossDict} to the loss's {@link Reducer}
 * (pytorch-metric-learning's `compute_loss` → reducer dictionary).
 *
 * A new loss is one file: extend `BaseLoss`, set `name`, write `computeLoss`; the embeddings
 * check, the reference-set check, the reduction and the empty-batch zero come from here.
 *
 * @module
 */
import { tf } from "@likeness/tf";
import { checkEmbeddingShape, checkEmbeddingValues, checkLabels, ShapeError, ValueError } from "@likeness/core";
import type { Loss, LossTarget } from "./types.ts";
import { meanReducer, type Reducer } from "./reducers.ts";

/**
 * How a sub-loss's values are indexed, so a reducer knows what it averages (pml's reduction types):
 * one value per row (`element`), per positive pair (`pos_pair`), per negative pair (`neg_pair`),
 * per triplet (`triplet`), or a scalar the loss reduced itself (`already_reduced`, passed through).
 */
export type ReductionType = "element" | "pos_pair" | "neg_pair" | "triplet" | "already_reduced";

/** All reduction types. */
export const REDUCTION_TYPES: readonly ReductionType[] = [
  "element",
  "pos_pair",
  "neg_pair",
  "triplet",
  "already_reduced",
];

/** One named part of a loss: its per-element values and how they are indexed. */
export type SubLoss = {
  /** Per-element losses (any shape; a scalar for `already_reduced`). */
  losses: tf.Tensor;
  /** What one value stands for. */
  reductionType: ReductionType;
};

/** The named sub-losses of one batch (e.g. `{ pos_loss, neg_loss }`); empty when nothing contributes. */
export type LossDict = { [name: string]: SubLoss };

/**
 * A sub-loss the loss reduced itself (a log-sum-exp over the batch, a chunked sum).
 *
 * @param value scalar
 * @returns `{ loss: { losses: value, reductionType: "already_reduced" } }`
 * @example
 * ```ts
 * import { tf, useTfBackend } from "@likeness/tf";
 * import { alreadyReduced } from "@likeness/losses";
 * import assert from "node:assert/strict";
 * await useTfBackend("wasm");
 * assert.equal(alreadyReduced(tf.scalar(2)).loss.reductionType, "already_reduced");
 * ```
 */
export function alreadyReduced(value: tf.Tensor): LossDict {
  return { loss: { losses: value, reductionType: "already_reduced" } };
}

/**
 * Reduce a loss dictionary: the sum over sub-losses of `reducer.reduce(losses)` (an
 * `already_reduced` sub-loss passes through). An empty dictionary, or only empty sub-losses, gives
 * 0 still connected to `anchor`, so its gradient is zeros, not missing.
 *
 * @param dict named sub-losses
 * @param reducer reduces each non-reduced sub-loss
 * @param anchor tensor the zero stays connected to (the embeddings)
 * @returns the scalar loss
 * @example
 * ```ts
 * import { tf, useTfBackend } from "@likeness/tf";
 * import { meanReducer, reduceLosses } from "@likeness/losses";
 * import assert from "node:assert/strict";
 * await useTfBackend("wasm");
 * const x = tf.tensor2d([[1, 2]]);
 * const dict = {
 *   pos_loss: { losses: tf.tensor1d([1, 3]), reductionType: "pos_pair" as const },
 *   neg_loss: { losses: tf.scalar(0.5), reductionType: "already_reduced" as const },
 * };
 * assert.equal(reduceLosses(dict, meanReducer(), x).arraySync(), 2.5);
 * assert.equal(reduceLosses({}, meanReducer(), x).arraySync(), 0);
 * ```
 */
export function reduceLosses(dict: LossDict, reducer: Reducer, anchor: tf.Tensor): tf.Scalar {
  let total: tf.Tensor | undefined;
  for (const sub of Object.values(dict)) {
    let v: tf.Tensor;
    if (sub.reductionType === "already_reduced") v = tf.reshape(sub.losses, []);
    else if (sub.losses.size === 0) continue;
    else v = reducer.reduce(sub.losses);
    total = total === undefined ? v : tf.add(total, v);
  }
  return (total ?? tf.add(tf.mul(tf.sum(anchor), 0), 0)) as tf.Scalar;
}

/**
 * Check an embeddings batch: a 2-D tensor with rows and columns, every value finite (one
 * device-side test; the offending row and column are named only on failure).
 *
 * @param embeddings the batch
 * @param owner the loss, for the message
 * @returns the batch as 2-D
 * @throws {ShapeError} SHAPE_MISMATCH / EMPTY_INPUT
 * @throws {ValueError} NON_FINITE with `details: { row, col }`
 * @example
 * ```ts
 * import { tf, useTfBackend } from "@likeness/tf";
 * import { checkEmbeddings } from "@likeness/losses";
 * import assert from "node:assert/strict";
 * await useTfBackend("wasm");
 * assert.throws(() => checkEmbeddings(tf.tensor2d([[NaN, 0]]), "TripletLoss"), /embedding \[0, 0\] is NaN/);
 * ```
 */
export function checkEmbeddings(embeddings: tf.Tensor, owner: string): tf.Tensor2D {
  checkEmbeddingShape(embeddings instanceof tf.Tensor ? embeddings.shape : undefined, owner);
  const bad = tf.tidy(() => tf.any(tf.logicalNot(tf.isFinite(embeddings))).dataSync()[0]);
  if (bad) checkEmbeddingValues(embeddings.dataSync(), embeddings.shape[1] as number, owner);
  return embeddings as tf.Tensor2D;
}

/**
 * The base of every likeness loss. Subclasses set `name`, implement {@link BaseLoss.computeLoss}
 * and, to take learned parameters or a reducer, override `trainableVariables` or `reducer`. Set
 * `acceptsReference` when `computeLoss` can compare the batch against `target.ref` (then
 * {@link CrossBatchMemory} can wrap it).
 *
 * @example
 * ```ts
 * import { tf, useTfBackend } from "@likeness/tf";
 * import { BaseLoss, type LossDict, type LossTarget } from "@likeness/losses";
 * import assert from "node:assert/strict";
 * await useTfBackend("wasm");
 * class SquaredNorm extends BaseLoss {
 *   readonly name = "SquaredNorm";
 *   computeLoss(e: tf.Tensor2D, _t: LossTarget): LossDict {
 *     return { norm: { losses: tf.sum(tf.square(e), 1), reductionType: "element" } };
 *   }
 * }
 * const v = new SquaredNorm().compute(tf.tensor2d([[1, 0], [0, 3]]), {});
 * assert.equal(v.arraySync(), 5); // mean of 1 and 9
 * ```
 */
export abstract class BaseLoss implements Loss {
  /** Loss name, e.g. "TripletMarginLoss". */
  abstract readonly name: string;
  /** Reduces the non-reduced sub-losses (default mean). */
  readonly reducer: Reducer = meanReducer();
  /** Whether `computeLoss` accepts `target.ref` (a reference set, as cross-batch memory passes). */
  readonly acceptsReference: boolean = false;

  /**
   * The named sub-losses of a batch, before reduction. Called by {@link BaseLoss.compute} after
   * the embeddings (and reference set) are checked.
   *
   * @param embeddings B×D, checked
   * @param target labels / pairs / mined indices / reference set
   * @returns named sub-losses with their reduction types
   */
  abstract computeLoss(embeddings: tf.Tensor2D, target: LossTarget): LossDict;

  /**
   * Scalar loss of a batch: check, `computeLoss`, reduce.
   *
   * @param embeddings B×D
   * @param target what the loss needs (labels, pairs and scores, mined indices, reference set)
   * @returns scalar loss (0, connected to the embeddings, when nothing contributes)
   * @throws {ShapeError} SHAPE_MISMATCH / EMPTY_INPUT / LABEL_MISMATCH
   * @throws {ValueError} NON_FINITE; UNSUPPORTED for a reference set this loss cannot use
   */
  compute(embeddings: tf.Tensor2D, target: LossTarget): tf.Scalar {
    checkEmbeddings(embeddings, this.name);
    const t = target ?? {};
    if (t.ref !== undefined) this.#checkReference(embeddings, t);
    return tf.tidy(() => reduceLosses(this.computeLoss(embeddings, t), this.reducer, embeddings));
  }

  /** @returns learned parameters to optimise with the model (none by default) */
  trainableVariables(): tf.Variable[] {
    return [];
  }

  #checkReference(embeddings: tf.Tensor2D, target: LossTarget): void {
    if (!this.acceptsReference) {
      throw new ValueError(
        "UNSUPPORTED",
        `Cannot compute ${this.name} against a reference set: it compares rows of one batch only; ` +
          "use a pair- or triplet-based loss (TripletMarginLoss, ContrastiveLoss, MultiSimilarityLoss)",
      );
    }
    const ref = target.ref!;
    checkEmbeddings(ref.embeddings, `${this.name} (reference set)`);
    if (ref.embeddings.shape[1] !== embeddings.shape[1]) {
      throw new ShapeError(
        `Cannot compute ${this.name}: embeddings have ${embeddings.shape[1]} columns but the reference set has ${
          ref.embeddings.shape[1]
        }`,
      );
    }
    checkLabels(ref.labels, ref.embeddings.shape[0], "the reference set");
  }
}
