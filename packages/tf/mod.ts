/**
 * The one place likeness loads TensorFlow.js. Every package imports `tf` from here, so one
 * engine (with every gradient registered) is shared, and `useTfBackend` picks `wasm`,
 * `webgpu` or `cpu` for training.
 *
 * `@tensorflow/tfjs-core` alone cannot be used under Deno or Node ESM: its
 * `register_all_gradients` module imports files without extensions. The `@tensorflow/tfjs`
 * bundle registers the same gradients into tfjs-core's global registry, so we load it.
 *
 * @example
 * ```ts
 * import { tf, useTfBackend } from "@likeness/tf";
 * await useTfBackend("wasm");
 * const g = tf.grad((x: tf.Tensor) => tf.sum(tf.square(x)))(tf.tensor([1, 2]));
 * console.log(await g.data()); // Float32Array [2, 4]
 * ```
 *
 * @module
 */
export * from "./tf.ts";
export * from "./gather.ts";
