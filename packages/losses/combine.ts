/**
 * Weighted combination of losses.
 *
 * @module
 */
import { tf } from "@likeness/tf";
import { checkFiniteNumber, ValueError } from "@likeness/core";
import type { Loss, LossTarget } from "./types.ts";
import { alreadyReduced, BaseLoss, type LossDict } from "./base_loss.ts";

/** One term of a {@link CombinedLoss}. */
export interface LossTerm {
  /** The loss. */
  loss: Loss;
  /** Its weight (default 1). */
  weight?: number;
}

/**
 * A weighted sum of losses over the same batch and target: Σ_k w_k · loss_k(embeddings, target).
 * Its learned parameters are the union of the terms' (each variable once).
 *
 * @example
 * ```ts
 * import { tf, useTfBackend } from "@likeness/tf";
 * import { CombinedLoss, CoSENTLoss, AnglELoss } from "@likeness/losses";
 * await useTfBackend("wasm");
 * const loss = new CombinedLoss([{ loss: new CoSENTLoss() }, { loss: new AnglELoss(), weight: 0.5 }]);
 * const emb = tf.tensor2d([[1, 0], [0.9, 0.1], [0, 1], [1, 0.2]]);
 * console.log(loss.compute(emb, { pairs: [[0, 1], [2, 3]], scores: [1, 0] }).dataSync()[0]);
 * ```
 */
export class CombinedLoss extends BaseLoss {
  /** Name listing the terms, e.g. "CombinedLoss(CoSENTLoss*1 + AnglELoss*0.5)". */
  readonly name: string;
  /** The terms with resolved weights. */
  readonly terms: readonly Required<LossTerm>[];

  /**
   * @param terms losses and weights
   * @throws {ValueError} INVALID_ARGUMENT for no terms, a term without a loss, or a non-finite weight
   */
  constructor(terms: readonly LossTerm[]) {
    super();
    if (!Array.isArray(terms) || terms.length === 0) {
      throw new ValueError("INVALID_ARGUMENT", "CombinedLoss needs at least one { loss, weight } term");
    }
    this.terms = terms.map((t, i) => {
      if (!t?.loss || typeof t.loss.compute !== "function") {
        throw new ValueError("INVALID_ARGUMENT", `CombinedLoss term ${i} has no loss: pass { loss, weight }`);
      }
      const weight = checkFiniteNumber(t.weight ?? 1, "weight", `CombinedLoss term ${i} (${t.loss.name})`);
      return { loss: t.loss, weight };
    });
    this.name = `CombinedLoss(${this.terms.map((t) => `${t.loss.name}*${t.weight}`).join(" + ")})`;
  }

  /**
   * Weighted sum of the terms.
   *
   * @param embeddings B×D
   * @param target passed to every term
   * @returns the named sub-losses (`compute` reduces them to the scalar loss)
   * @throws whatever a term throws for its target
   */
  computeLoss(embeddings: tf.Tensor2D, target: LossTarget): LossDict {
    return alreadyReduced(tf.tidy(() => {
      let total: tf.Scalar = tf.scalar(0);
      for (const t of this.terms) {
        total = tf.add(total, tf.mul(t.loss.compute(embeddings, target), t.weight)) as tf.Scalar;
      }
      return total;
    }));
  }

  /** @returns every term's learned parameters, each once */
  override trainableVariables(): tf.Variable[] {
    const seen = new Set<tf.Variable>();
    for (const t of this.terms) for (const v of t.loss.trainableVariables()) seen.add(v);
    return [...seen];
  }
}

/**
 * Shorthand for `new CombinedLoss(terms)`.
 *
 * @param terms losses and weights
 * @returns the combined loss
 * @throws {ValueError} INVALID_ARGUMENT as {@link CombinedLoss}
 * @example
 * ```ts
 * import { combineLosses, CoSENTLoss, AnglELoss } from "@likeness/losses";
 * const loss = combineLosses([{ loss: new CoSENTLoss() }, { loss: new AnglELoss(), weight: 0.5 }]);
 * console.log(loss.name);
 * ```
 */
export function combineLosses(terms: readonly LossTerm[]): CombinedLoss {
  return new CombinedLoss(terms);
}
