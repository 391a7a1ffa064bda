/**
 * Gradient helpers for tfjs. tfjs registers no gradient for comparison kernels (`Greater`,
 * `Less`, `Equal`, ...), so any comparison of a value that depends on the embeddings breaks
 * backpropagation with "gradient function not found for Greater". {@link noGrad} evaluates such
 * a function outside the tape and gives it a zero gradient.
 *
 * @module
 */
import { tf } from "@likeness/tf";

/**
 * Evaluate `f(...inputs)` as a constant: the result is float32 and its gradient with respect to
 * every input is zero. Use it for masks and counts computed from embedding-dependent values.
 *
 * @param f function of the inputs (may use comparisons, argmax, casts)
 * @param inputs tensors `f` reads
 * @returns `f`'s result cast to float32, with zero gradient
 * @example
 * ```ts
 * import { tf } from "@likeness/tf";
 * import { noGrad } from "@likeness/losses";
 * const g = tf.grad((x: tf.Tensor) => tf.sum(tf.mul(x, noGrad((v) => tf.greater(v, 1), x))))(tf.tensor([0, 4]));
 * console.log(await g.data()); // Float32Array [0, 1]
 * ```
 */
export function noGrad(f: (...inputs: tf.Tensor[]) => tf.Tensor, ...inputs: tf.Tensor[]): tf.Tensor {
  const op = tf.customGrad((...args: unknown[]) => {
    const xs = args.slice(0, inputs.length) as tf.Tensor[];
    return {
      value: tf.tidy(() => tf.cast(f(...xs), "float32")),
      gradFunc: () => xs.map((x) => tf.zerosLike(x)),
    };
  });
  return (op as (...xs: tf.Tensor[]) => tf.Tensor)(...inputs);
}

/**
 * A 0/1 float mask `x > threshold` with zero gradient.
 *
 * @param x values
 * @param threshold scalar threshold
 * @returns float32 mask of `x`'s shape
 * @example
 * ```ts
 * import { tf } from "@likeness/tf";
 * import { greaterMask } from "@likeness/losses";
 * console.log(await greaterMask(tf.tensor([0, 2]), 1).data()); // Float32Array [0, 1]
 * ```
 */
export function greaterMask<T extends tf.Tensor>(x: T, threshold: number): T {
  return noGrad((v) => tf.greater(v, threshold), x) as T;
}
