/**
 * Private base of ArcFaceLoss and CosFaceLoss (pml's LargeMarginSoftmaxLoss machinery):
 * cosine logits against a learned D×C weight matrix W, the target class's cosine modified,
 * scaled, softmax cross-entropy per row, mean.
 *
 * @module
 */
import { tf } from "@likeness/tf";
import { _matMul } from "../_matmul.ts";
import { checkPositiveInt, ShapeError } from "@likeness/core";
import type { LossTarget } from "../types.ts";
import { BaseLoss, checkEmbeddings, type LossDict } from "../base_loss.ts";
import { meanReducer, type Reducer } from "../reducers.ts";
import { crossEntropy, l2Normalize, makeWeight, minerWeights, requireClassIds } from "./_common.ts";

/** Options shared by the weight-matrix classifier losses. */
export interface PmlClassifierOptions {
  /** Number of classes C (required). */
  numClasses: number;
  /** Embedding size D (required). */
  embeddingSize: number;
  /** Initial W, D×C (pml's layout); default: seeded normal init. */
  W?: readonly (readonly number[])[] | Float32Array;
  /** Seed of the default init (default 0). */
  seed?: number;
  /** Reduction of the per-row losses (default mean, pml's MeanReducer). */
  reducer?: Reducer;
}

/**
 * ArcFace's target logit: cos(θ + m) while θ ≤ π − m, else cos θ − m·sin m (m in radians), with θ
 * the angle of the clamped cosine.
 */
export function arcFaceModify(cosTarget: tf.Tensor1D, m: number): tf.Tensor1D {
  const angles = tf.acos(tf.clipByValue(cosTarget, -1 + 1e-7, 1 - 1e-7));
  const inRange = tf.step(tf.sub(Math.PI - m + 1e-12, angles)); // comparisons have no gradient in tfjs
  const plus = tf.cos(tf.add(angles, m));
  const fallback = tf.sub(tf.cos(angles), m * Math.sin(m));
  return tf.add(tf.mul(inRange, plus), tf.mul(tf.sub(1, inRange), fallback)) as tf.Tensor1D;
}

/** Check numClasses / embeddingSize. */
export function checkClassifierSizes(numClasses: number, embeddingSize: number, loss: string): void {
  checkPositiveInt(numClasses, "numClasses", loss);
  checkPositiveInt(embeddingSize, "embeddingSize", loss);
}

/** Check that embeddings have `embeddingSize` columns. */
export function checkEmbeddingSize(embeddings: tf.Tensor2D, embeddingSize: number, loss: string): void {
  if (embeddings.shape[1] !== embeddingSize) {
    throw new ShapeError(
      `Cannot compute ${loss}: embeddings have ${
        embeddings.shape[1]
      } columns but the loss was built with embeddingSize ${embeddingSize}`,
    );
  }
}

/** A checked batch of a class-id loss: its size, class ids and per-row miner weights. */
export interface ClassBatch {
  /** Batch size. */
  b: number;
  /** Class id of every row, in [0, numClasses). */
  ids: Int32Array;
  /** pml's `convert_to_weights` of the mined tuples (all 1 without). */
  weights: Float32Array;
}

/**
 * The prelude of the classifier and proxy losses: check the embeddings (and their width against
 * `embeddingSize`), the class ids, then the miner weights.
 *
 * @throws {ShapeError} SHAPE_MISMATCH / EMPTY_INPUT / LABEL_MISMATCH
 * @throws {ValueError} NON_FINITE / OUT_OF_RANGE
 */
export function classBatch(
  embeddings: tf.Tensor2D,
  target: LossTarget,
  embeddingSize: number,
  numClasses: number,
  loss: string,
): ClassBatch {
  checkEmbeddings(embeddings, loss);
  checkEmbeddingSize(embeddings, embeddingSize, loss);
  const b = embeddings.shape[0];
  const ids = requireClassIds(target, b, numClasses, loss);
  return { b, ids, weights: minerWeights(target, b) };
}

/** Base of ArcFace / CosFace: subclasses modify the target-class cosine. */
export abstract class LargeMarginSoftmaxBase extends BaseLoss {
  /** pml's class name. */
  abstract override readonly name: string;
  /** Number of classes. */
  readonly numClasses: number;
  /** Embedding size. */
  readonly embeddingSize: number;
  /** Scale of the logits. */
  readonly scale: number;
  /** Class weights W, D×C, trainable. */
  readonly W: tf.Variable;

  /** Reduction of the per-row losses. */
  override readonly reducer: Reducer;
  /** Columns of W per class (1, or SubCenterArcFace's subCenters). */
  readonly centersPerClass: number;

  protected constructor(options: PmlClassifierOptions, scale: number, loss: string, centersPerClass = 1) {
    super();
    checkClassifierSizes(options.numClasses, options.embeddingSize, loss);
    this.numClasses = options.numClasses;
    this.embeddingSize = options.embeddingSize;
    this.scale = scale;
    this.centersPerClass = centersPerClass;
    this.reducer = options.reducer ?? meanReducer();
    const cols = options.numClasses * centersPerClass;
    this.W = makeWeight(options.embeddingSize, cols, options.W, options.seed ?? 0, 1, "W", loss);
  }

  /** B×C cosine to each class: the best of its centres (W's columns are class-major). */
  protected cosine(embeddings: tf.Tensor2D): tf.Tensor2D {
    const all = _matMul(l2Normalize(embeddings), l2Normalize(this.W as unknown as tf.Tensor2D, 0)) as tf.Tensor2D;
    if (this.centersPerClass === 1) return all;
    return tf.max(tf.reshape(all, [-1, this.numClasses, this.centersPerClass]), 2) as tf.Tensor2D;
  }

  /** Modified cosine of the target class. */
  protected abstract modify(cosTarget: tf.Tensor1D): tf.Tensor1D;

  /**
   * Loss of a batch.
   *
   * @param embeddings B×D
   * @param target labels: class ids in [0, numClasses) (optional mined tuples as row weights)
   * @returns the named sub-losses (`compute` reduces them to the scalar loss)
   * @throws {ShapeError} LABEL_MISMATCH, SHAPE_MISMATCH; {ValueError} NON_FINITE, OUT_OF_RANGE
   */
  computeLoss(embeddings: tf.Tensor2D, target: LossTarget): LossDict {
    const { ids, weights } = classBatch(embeddings, target, this.embeddingSize, this.numClasses, this.name);
    return tf.tidy((): LossDict => {
      const cosine = this.cosine(embeddings);
      const mask = tf.oneHot(tf.tensor1d(ids, "int32"), this.numClasses);
      const cosTarget = tf.sum(tf.mul(cosine, mask), 1) as tf.Tensor1D;
      const diff = tf.sub(this.modify(cosTarget), cosTarget);
      const logits = tf.mul(tf.add(cosine, tf.mul(mask, tf.reshape(diff, [-1, 1]))), this.scale) as tf.Tensor2D;
      return { loss: { losses: tf.mul(crossEntropy(logits, ids), tf.tensor1d(weights)), reductionType: "element" } };
    });
  }

  /** @returns `[W]` */
  override trainableVariables(): tf.Variable[] {
    return [this.W];
  }
}
