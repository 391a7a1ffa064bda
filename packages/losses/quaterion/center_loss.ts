/**
 * Quaterion's CenterLoss: squared distance of L2-normalised embeddings to learned class centres.
 *
 * @module
 */
import { gatherRows, tf } from "@likeness/tf";
import { checkFiniteNumber, checkPositiveInt, createRng } from "@likeness/core";
import type { LossTarget } from "../types.ts";
import { alreadyReduced, BaseLoss, type LossDict } from "../base_loss.ts";
import { l2Normalize } from "../distances.ts";
import { _weightInit } from "../_common.ts";
import { _classBatch } from "./_class_weights.ts";

/** Options of {@link CenterLoss}. */
export interface CenterLossOptions {
  /** Embedding dimension D (required). */
  embeddingSize: number;
  /** Number of groups C; labels must be integer ids in [0, C) (required). */
  numGroups: number;
  /** Weight of the loss (default 0.5). */
  lambdaC?: number;
  /** Initial centres, C×D (default: Xavier-uniform from `seed`, as Quaterion). */
  centers?: readonly (readonly number[])[];
  /** Seed of the default initialisation (default 0). */
  seed?: number;
}

/**
 * Center loss (Wen et al. 2016): `lambdaC * mean over rows and dimensions of (normalize(e_i) - c_{y_i})²`
 * with learned centres `c` (C×D), exposed through {@link CenterLoss.trainableVariables}.
 *
 * @example
 * ```ts
 * import { tf } from "@likeness/tf";
 * import { CenterLoss } from "@likeness/losses";
 * const loss = new CenterLoss({ embeddingSize: 2, numGroups: 2, centers: [[1, 0], [0, 1]] });
 * console.log(loss.compute(tf.tensor2d([[2, 0], [0, 3]]), { labels: [0, 1] }).arraySync()); // 0
 * ```
 */
export class CenterLoss extends BaseLoss {
  /** Loss name. */
  readonly name = "CenterLoss";
  /** Loss weight. */
  readonly lambdaC: number;
  /** Learned centres, C×D. */
  readonly centers: tf.Variable;
  private readonly d: number;
  private readonly c: number;

  /**
   * @param options embeddingSize, numGroups, lambdaC, centers, seed
   * @throws {ValueError} INVALID_ARGUMENT for bad sizes or lambdaC
   * @throws {ShapeError} when `centers` is not C×D
   */
  constructor(options: CenterLossOptions) {
    super();
    this.lambdaC = checkFiniteNumber(options.lambdaC ?? 0.5, "lambdaC", this.name);
    this.d = checkPositiveInt(options.embeddingSize, `${this.name} embeddingSize`);
    this.c = checkPositiveInt(options.numGroups, `${this.name} numGroups`);
    const rng = createRng(options.seed ?? 0);
    const bound = Math.sqrt(6 / (this.c + this.d));
    const init = _weightInit(
      options.centers,
      this.c,
      this.d,
      `${this.name} centers`,
      () => (2 * rng.next() - 1) * bound,
    );
    this.centers = tf.variable(init, true);
    init.dispose();
  }

  /**
   * Scalar loss.
   *
   * @param embeddings B×D
   * @param target `labels`: integer class ids in [0, numGroups)
   * @returns the named sub-losses (`compute` reduces them to the scalar loss)
   * @throws {ValueError} OUT_OF_RANGE for class ids outside [0, numGroups); NON_FINITE
   * @throws {ShapeError} LABEL_MISMATCH; SHAPE_MISMATCH when D differs from embeddingSize
   */
  computeLoss(embeddings: tf.Tensor2D, target: LossTarget): LossDict {
    const ids = _classBatch(embeddings, target, this.d, this.c, this.name);
    return alreadyReduced(tf.tidy(() => {
      const c = gatherRows(this.centers as tf.Tensor2D, ids);
      return tf.mul(this.lambdaC, tf.mean(tf.square(tf.sub(l2Normalize(embeddings), c)))) as tf.Scalar;
    }));
  }

  /** The centres. */
  override trainableVariables(): tf.Variable[] {
    return [this.centers];
  }
}
