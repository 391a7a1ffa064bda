/**
 * MatryoshkaLoss (sentence-transformers): a loss evaluated on several prefix dimensions.
 *
 * @module
 */
import { tf } from "@likeness/tf";
import { checkPositiveInt, type Rng, ShapeError, ValueError } from "@likeness/core";
import type { Loss, LossTarget } from "../types.ts";
import { alreadyReduced, BaseLoss, type LossDict } from "../base_loss.ts";

/** Options of {@link MatryoshkaLoss}. */
export interface MatryoshkaLossOptions {
  /** Prefix widths, e.g. [256, 128, 64, 32] (distinct positive integers). */
  dims: readonly number[];
  /** One weight per width (default 1 each). */
  weights?: readonly number[];
  /**
   * Evaluate only this many randomly chosen widths per call (default all), as
   * sentence-transformers' `n_dims_per_step`; needs `rng`.
   */
  dimsPerStep?: number;
  /** Seeded generator for `dimsPerStep`. */
  rng?: Rng;
}

/**
 * MatryoshkaLoss (sentence-transformers; Kusupati et al. 2022): Σ_k w_k · inner(E[:, :d_k], target),
 * so that every prefix of the embedding is a usable embedding on its own. The prefixes are plain
 * column slices (no re-normalisation; cosine-based inner losses normalise themselves). The inner
 * loss must not own parameters tied to the full width (proxies, class weights).
 *
 * @example
 * ```ts
 * import { tf, useTfBackend } from "@likeness/tf";
 * import { CoSENTLoss, MatryoshkaLoss } from "@likeness/losses";
 * await useTfBackend("wasm");
 * const loss = new MatryoshkaLoss(new CoSENTLoss(), { dims: [4, 2], weights: [1, 0.5] });
 * const emb = tf.randomNormal([4, 4]) as tf.Tensor2D;
 * console.log(loss.compute(emb, { pairs: [[0, 1], [2, 3]], scores: [1, 0] }).dataSync()[0]);
 * ```
 */
export class MatryoshkaLoss extends BaseLoss {
  /** Class name. */
  readonly name = "MatryoshkaLoss";
  /** The wrapped loss. */
  readonly inner: Loss;
  /** Prefix widths. */
  readonly dims: readonly number[];
  /** Weights per width. */
  readonly weights: readonly number[];
  /** Widths per call (all when undefined). */
  readonly dimsPerStep?: number;
  #rng?: Rng;

  /**
   * @param inner the loss to evaluate on each prefix
   * @param options dims, weights, dimsPerStep, rng
   * @throws {ValueError} INVALID_ARGUMENT for empty or invalid dims, mismatched weights, or
   *   dimsPerStep without rng
   */
  constructor(inner: Loss, options: MatryoshkaLossOptions) {
    super();
    if (!inner || typeof inner.compute !== "function") {
      throw new ValueError("INVALID_ARGUMENT", "MatryoshkaLoss needs an inner loss (an object with compute())");
    }
    const dims = options?.dims;
    if (!Array.isArray(dims) || dims.length === 0 || dims.some((d) => !Number.isInteger(d) || d < 1)) {
      throw new ValueError(
        "INVALID_ARGUMENT",
        "Invalid MatryoshkaLoss dims: pass positive integer widths such as [256, 128, 64]",
      );
    }
    if (new Set(dims).size !== dims.length) {
      throw new ValueError(
        "INVALID_ARGUMENT",
        `Invalid MatryoshkaLoss dims [${dims.join(", ")}]: widths must be distinct`,
      );
    }
    const weights = options.weights ?? dims.map(() => 1);
    if (weights.length !== dims.length || weights.some((w) => typeof w !== "number" || !Number.isFinite(w))) {
      throw new ValueError(
        "INVALID_ARGUMENT",
        `Invalid MatryoshkaLoss weights: pass ${dims.length} finite numbers, one per width`,
      );
    }
    if (options.dimsPerStep !== undefined) {
      checkPositiveInt(options.dimsPerStep, "dimsPerStep", "MatryoshkaLoss");
      if (!options.rng) {
        throw new ValueError("INVALID_ARGUMENT", "MatryoshkaLoss dimsPerStep needs a seeded rng (createRng(seed))");
      }
    }
    this.inner = inner;
    this.dims = [...dims];
    this.weights = [...weights];
    this.dimsPerStep = options.dimsPerStep;
    this.#rng = options.rng;
  }

  /**
   * Weighted sum of the inner loss over the prefixes.
   *
   * @param embeddings B×D with D ≥ every width
   * @param target passed unchanged to the inner loss
   * @returns the named sub-losses (`compute` reduces them to the scalar loss)
   * @throws {ShapeError} SHAPE_MISMATCH when a width exceeds D; whatever the inner loss throws
   */
  computeLoss(embeddings: tf.Tensor2D, target: LossTarget): LossDict {
    if (!(embeddings instanceof tf.Tensor) || embeddings.rank !== 2) {
      throw new ShapeError("Cannot compute MatryoshkaLoss: embeddings must be a 2-D tensor (B×D)");
    }
    const width = embeddings.shape[1];
    const tooWide = this.dims.filter((d) => d > width);
    if (tooWide.length > 0) {
      throw new ShapeError(
        `Cannot compute MatryoshkaLoss: widths [${
          tooWide.join(", ")
        }] exceed the embedding width ${width}; use dims ≤ ${width}`,
      );
    }
    let chosen = this.dims.map((_, i) => i);
    if (this.dimsPerStep !== undefined && this.dimsPerStep < chosen.length) {
      chosen = this.#rng!.shuffle(chosen).slice(0, this.dimsPerStep).sort((a, b) => a - b);
    }
    return alreadyReduced(tf.tidy(() => {
      let total: tf.Scalar = tf.scalar(0);
      for (const i of chosen) {
        const d = this.dims[i];
        const prefix = d === width ? embeddings : (tf.slice(embeddings, [0, 0], [-1, d]) as tf.Tensor2D);
        total = tf.add(total, tf.mul(this.inner.compute(prefix, target), this.weights[i])) as tf.Scalar;
      }
      return total;
    }));
  }

  /** @returns the inner loss's learned parameters */
  override trainableVariables(): tf.Variable[] {
    return this.inner.trainableVariables();
  }
}
