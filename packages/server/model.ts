/**
 * What the server needs from a model: a name, a dimension, a batched `encode`, and optionally a
 * calibrated similarity threshold for open-set classification.
 *
 * @module
 */
import { ValueError } from "@likeness/core";

/** A model the server can serve. */
export interface ServedModel {
  /** Name reported by /v1/embed and /v1/health. */
  readonly name: string;
  /** Embedding dimension. */
  readonly dim: number;
  /** Encode raw inputs (strings for text models, flat number arrays for image models). */
  encode(inputs: unknown[]): Promise<Float32Array[]>;
  /** Check one raw input; throw a typed error naming the fix when it is not acceptable. */
  checkInput?(input: unknown): void;
  /** Minimum cosine similarity of the nearest reference for `classify` to return a label. */
  readonly threshold?: number;
}

/**
 * A model with no encoder: clients always send `vector`. Useful for vector-only deployments.
 *
 * @param dim vector dimension
 * @param options name and threshold
 * @returns a ServedModel whose encode() rejects raw inputs
 * @example
 * ```ts
 * import { vectorOnlyModel } from "@likeness/server";
 * const model = vectorOnlyModel(384, { name: "external-embeddings" });
 * ```
 */
export function vectorOnlyModel(dim: number, options: { name?: string; threshold?: number } = {}): ServedModel {
  return {
    name: options.name ?? `vectors-${dim}`,
    dim,
    threshold: options.threshold,
    encode(): Promise<Float32Array[]> {
      return Promise.reject(
        new ValueError("UNSUPPORTED", "This server has no encoder: send `vector` instead of `input`"),
      );
    },
    checkInput(): void {
      throw new ValueError("UNSUPPORTED", "This server has no encoder: send `vector` instead of `input`");
    },
  };
}
