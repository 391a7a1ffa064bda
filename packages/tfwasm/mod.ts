/**
 * tfjs kernels for the `wasm` backend that tfjs-backend-wasm 4.22 lacks, served by likeness's
 * own WebAssembly SIMD kernels: `Conv2DBackpropFilter` (so convnets train on wasm) and
 * `UnsortedSegmentSum` (the gradient of `tf.gather`).
 *
 * @example
 * ```ts
 * import { tf, useTfBackend } from "@likeness/tf";
 * import { registerLikenessWasmKernels } from "@likeness/tfwasm";
 * await registerLikenessWasmKernels();
 * await useTfBackend("wasm");
 * const x = tf.ones([1, 4, 4, 1]) as tf.Tensor4D;
 * const dw = tf.grad((w: tf.Tensor) => tf.sum(tf.conv2d(x, w as tf.Tensor4D, 1, "same")))(tf.ones([3, 3, 1, 2]));
 * console.log(dw.shape); // [3, 3, 1, 2]
 * ```
 *
 * @module
 */
export * from "./register.ts";
