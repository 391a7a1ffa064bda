/**
 * Quaterion's SwitchEncoder: routes each input to one of several encoders with the same width.
 *
 * @module
 */
import { ShapeError, ValueError } from "@likeness/core";
import { tf } from "@likeness/tf";
import { hashBytes } from "./_hash.ts";
import { prefixWeights, unprefixWeights } from "./_params.ts";
import type { ComponentConfig, Encoder, EncoderBatch, ForwardOptions, NamedTensor } from "./types.ts";

/** One routed input of a {@link SwitchEncoder}. */
export interface RoutedInput {
  /** Name of the encoder that embeds `input`. */
  route: string;
  /** The input itself (a string, a row of numbers, ...). */
  input: unknown;
}

/**
 * Embeds `{ route, input }` items with the encoder named by `route`, keeping the batch order.
 * Every encoder must have the same `dim`; it is trainable when any encoder is.
 *
 * @example
 * ```ts
 * import { MlpEncoder, SwitchEncoder } from "@likeness/models";
 * const sw = new SwitchEncoder({
 *   short: new MlpEncoder({ inputDim: 2, outputDim: 4 }),
 *   long: new MlpEncoder({ inputDim: 6, outputDim: 4 }),
 * });
 * const e = await sw.encode([{ route: "long", input: [1, 2, 3, 4, 5, 6] }, { route: "short", input: [1, 2] }]);
 * console.log(e.shape); // [2, 4]
 * ```
 */
export class SwitchEncoder implements Encoder {
  /** `switch`. */
  readonly type = "switch";
  /** Common width. */
  readonly dim: number;
  /** Whether any routed encoder is trainable. */
  readonly trainable: boolean;
  /** The encoders by route name. */
  readonly encoders: Readonly<Record<string, Encoder>>;

  /**
   * @param encoders encoders by route name (at least one)
   * @throws {ValueError} INVALID_ARGUMENT for none; {ShapeError} when widths differ
   */
  constructor(encoders: Record<string, Encoder>) {
    const names = Object.keys(encoders ?? {});
    if (names.length === 0) {
      throw new ValueError("INVALID_ARGUMENT", "Invalid SwitchEncoder: pass at least one encoder by route name");
    }
    const dim = encoders[names[0]].dim;
    for (const n of names) {
      if (encoders[n].dim !== dim) {
        throw new ShapeError(
          `Invalid SwitchEncoder: encoder "${n}" outputs ${encoders[n].dim} but "${
            names[0]
          }" outputs ${dim}; use heads to match widths`,
        );
      }
    }
    this.encoders = encoders;
    this.dim = dim;
    this.trainable = names.some((n) => encoders[n].trainable);
  }

  #groups(batch: EncoderBatch): Map<string, number[]> {
    if (!Array.isArray(batch)) {
      throw new ValueError(
        "INVALID_ARGUMENT",
        "Cannot encode with SwitchEncoder: pass an array of { route, input } items",
      );
    }
    if (batch.length === 0) throw new ShapeError("Cannot encode with SwitchEncoder: the batch is empty", "EMPTY_INPUT");
    const groups = new Map<string, number[]>();
    batch.forEach((item, i) => {
      const route = (item as RoutedInput)?.route;
      if (typeof route !== "string" || !(route in this.encoders)) {
        throw new ValueError(
          "UNKNOWN_NAME",
          `Cannot encode item ${i} with SwitchEncoder: route ${JSON.stringify(route)} is unknown; use one of ${
            Object.keys(this.encoders).join(", ")
          }`,
        );
      }
      let g = groups.get(route);
      if (!g) groups.set(route, g = []);
      g.push(i);
    });
    return groups;
  }

  /**
   * Embed routed inputs (inference).
   * @param batch `{ route, input }` items
   * @returns `[n, dim]` in the batch's order
   * @throws {ValueError} UNKNOWN_NAME for an unknown route
   */
  async encode(batch: EncoderBatch): Promise<tf.Tensor2D> {
    const groups = this.#groups(batch);
    const items = batch as readonly RoutedInput[];
    const out = new Float32Array(items.length * this.dim);
    for (const [route, idx] of groups) {
      const e = await this.encoders[route].encode(idx.map((i) => items[i].input));
      const data = await e.data();
      e.dispose();
      idx.forEach((row, k) => out.set(data.subarray(k * this.dim, (k + 1) * this.dim), row * this.dim));
    }
    return tf.tensor2d(out, [items.length, this.dim]);
  }

  /**
   * Differentiable forward pass; every routed encoder used by the batch must be trainable.
   * @param batch `{ route, input }` items
   * @param options passed to the encoders
   * @returns `[n, dim]` in the batch's order
   * @throws {ValueError} UNSUPPORTED when a used encoder has no `forward` (use `encode` or cache it)
   */
  forward(batch: EncoderBatch, options?: ForwardOptions): tf.Tensor2D {
    const groups = this.#groups(batch);
    const items = batch as readonly RoutedInput[];
    return tf.tidy(() => {
      const parts: tf.Tensor2D[] = [];
      const order: number[] = [];
      for (const [route, idx] of groups) {
        const enc = this.encoders[route];
        if (!enc.forward) {
          throw new ValueError(
            "UNSUPPORTED",
            `SwitchEncoder route "${route}" (${enc.type}) is frozen and has no forward(); use encode()`,
          );
        }
        parts.push(enc.forward(idx.map((i) => items[i].input), options));
        order.push(...idx);
      }
      const stacked = parts.length === 1 ? parts[0] : tf.concat(parts, 0);
      // Reorder with a permutation matmul: tf.gather's gradient needs UnsortedSegmentSum, which wasm lacks.
      const n = order.length;
      const perm = new Float32Array(n * n);
      order.forEach((row, k) => (perm[row * n + k] = 1));
      return tf.matMul(tf.tensor2d(perm, [n, n]), stacked);
    });
  }

  /** @returns `switch:` plus a hash of the routed encoders' identities */
  identity(): string {
    const ids = Object.keys(this.encoders).sort().map((k) => `${k}=${this.encoders[k].identity()}`).join(";");
    return `switch:${hashBytes(new TextEncoder().encode(ids))}`;
  }
  /** @returns `{ type: "switch", encoders: { route: config } }` */
  config(): ComponentConfig {
    return {
      type: this.type,
      encoders: Object.fromEntries(Object.entries(this.encoders).map(([k, e]) => [k, e.config()])),
    };
  }
  /** @returns the trainable encoders' variables */
  variables(): tf.Variable[] {
    return Object.values(this.encoders).flatMap((e) => (e.trainable ? e.variables() : []));
  }
  /** @returns weights named `<route>/<name>` */
  getWeights(): NamedTensor[] {
    return Object.entries(this.encoders).flatMap(([k, e]) => prefixWeights(`${k}/`, e.getWeights()));
  }
  /** @param weights named `<route>/<name>` */
  setWeights(weights: readonly NamedTensor[]): void {
    for (const [k, e] of Object.entries(this.encoders)) e.setWeights(unprefixWeights(`${k}/`, weights));
  }
  /** Free every encoder. */
  dispose(): void {
    for (const e of Object.values(this.encoders)) e.dispose();
  }
}
