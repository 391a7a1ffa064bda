// Private: a named set of tf.Variables with seeded initialisers, shared by encoders and heads.
import { checkOneOf, checkPositiveInt, type Rng, ShapeError, ValueError } from "@likeness/core";
import { tf } from "@likeness/tf";
import type { NamedTensor } from "./types.ts";

/** Activation names every component accepts. */
export const ACTIVATIONS = ["relu", "tanh", "sigmoid", "elu", "gelu", "linear"] as const;
/** One of {@link ACTIVATIONS}. */
export type Activation = typeof ACTIVATIONS[number];

/** Validate an activation name. */
export function checkActivation(name: unknown): Activation {
  return checkOneOf(name, ACTIVATIONS, "activation");
}

/** Apply an activation (functional ops only). */
export function activate(x: tf.Tensor2D, name: Activation): tf.Tensor2D;
export function activate(x: tf.Tensor, name: Activation): tf.Tensor;
export function activate(x: tf.Tensor, name: Activation): tf.Tensor {
  switch (name) {
    case "relu":
      return tf.relu(x);
    case "tanh":
      return tf.tanh(x);
    case "sigmoid":
      return tf.sigmoid(x);
    case "elu":
      return tf.elu(x);
    case "gelu":
      // tanh approximation of GELU
      return tf.tidy(() =>
        tf.mul(
          tf.mul(x, 0.5),
          tf.add(1, tf.tanh(tf.mul(Math.sqrt(2 / Math.PI), tf.add(x, tf.mul(0.044715, tf.pow(x, 3)))))),
        )
      );
    default:
      return x;
  }
}

/** Glorot-uniform values from a seeded generator. */
export function glorotUniform(rng: Rng, shape: number[], fanIn: number, fanOut: number): Float32Array {
  const n = shape.reduce((a, b) => a * b, 1);
  const limit = Math.sqrt(6 / (fanIn + fanOut));
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = (rng.next() * 2 - 1) * limit;
  return out;
}

/** Check a positive integer dimension (core's `checkPositiveInt`). */
export const checkDim: (value: unknown, name: string) => number = checkPositiveInt;

/** A named set of variables with copy-out / copy-in by name. */
export class ParamSet {
  #vars = new Map<string, tf.Variable>();
  #owner: string;

  constructor(owner: string) {
    this.#owner = owner;
  }

  /** Add a variable from values. */
  add(name: string, shape: number[], values: Float32Array, trainable = true): tf.Variable {
    const v = tf.variable(tf.tensor(values, shape, "float32"), trainable);
    this.#vars.set(name, v);
    return v;
  }

  /** Get a variable by name. */
  get(name: string): tf.Variable {
    const v = this.#vars.get(name);
    if (!v) throw new ValueError("NOT_FOUND", `${this.#owner} has no weight "${name}"`);
    return v;
  }

  /** All variables in insertion order. */
  variables(): tf.Variable[] {
    return [...this.#vars.values()];
  }

  /** Copy all weights out. */
  getWeights(): NamedTensor[] {
    return [...this.#vars.entries()].map(([name, v]) => ({
      name,
      shape: [...v.shape],
      values: new Float32Array(v.dataSync() as Float32Array),
    }));
  }

  /** Assign weights by name, checking every name and shape first. */
  setWeights(weights: readonly NamedTensor[]): void {
    const byName = new Map(weights.map((w) => [w.name, w]));
    for (const [name, v] of this.#vars) {
      const w = byName.get(name);
      if (!w) {
        throw new ValueError(
          "NOT_FOUND",
          `Cannot set weights of ${this.#owner}: weight "${name}" is missing; pass every weight that getWeights() returns`,
        );
      }
      const n = w.shape.reduce((a, b) => a * b, 1);
      if (w.shape.length !== v.shape.length || w.shape.some((d, i) => d !== v.shape[i]) || w.values.length !== n) {
        throw new ShapeError(
          `Cannot set weight "${name}" of ${this.#owner}: expected shape [${v.shape}] but got [${w.shape}] with ${w.values.length} values`,
        );
      }
    }
    for (const [name, v] of this.#vars) {
      const w = byName.get(name)!;
      v.assign(tf.tensor(w.values, w.shape, "float32"));
    }
  }

  /** Dispose every variable. */
  dispose(): void {
    for (const v of this.#vars.values()) v.dispose();
    this.#vars.clear();
  }
}

/** Prefix names (used to nest components). */
export function prefixWeights(prefix: string, weights: readonly NamedTensor[]): NamedTensor[] {
  return weights.map((w) => ({ ...w, name: `${prefix}${w.name}` }));
}

/** Select and strip a prefix. */
export function unprefixWeights(prefix: string, weights: readonly NamedTensor[]): NamedTensor[] {
  return weights.filter((w) => w.name.startsWith(prefix)).map((w) => ({ ...w, name: w.name.slice(prefix.length) }));
}

/** Validate a dropout rate in [0, 1). */
export function checkDropout(value: unknown, name = "dropout"): number {
  if (typeof value !== "number" || !(value >= 0 && value < 1)) {
    throw new ValueError("INVALID_ARGUMENT", `Invalid ${name}: expected a rate in [0, 1), got ${String(value)}`);
  }
  return value;
}

/**
 * Inverted dropout when training, identity otherwise. The mask is seeded from
 * `options.seed + salt` (the trainer passes one seed per step, so runs are reproducible).
 */
export function dropout<T extends tf.Tensor>(
  x: T,
  rate: number,
  options: { training?: boolean; seed?: number } | undefined,
  salt: number,
): T {
  if (!options?.training || rate === 0) return x;
  return tf.dropout(x, rate, undefined, options.seed === undefined ? undefined : options.seed + salt) as T;
}
