/**
 * likeness's WebAssembly kernels inside tfjs's `wasm` backend. Importing this module registers them
 * (`registerLikenessWasmKernels({ replace: true })`): the kernels tfjs-backend-wasm 4.22 lacks
 * (`Conv2DBackpropFilter`, so convnets train; `UnsortedSegmentSum`, the gradient of `tf.gather`) and
 * faster ones for `BatchMatMul` / `_FusedMatMul` (multi-threaded), `Conv2DBackpropInput`,
 * `MaxPoolGrad`, `GatherV2`, `Slice` and `SplitV`. `restoreTfjsWasmKernels()` puts tfjs's own back.
 *
 * @example
 * ```ts
 * import { tf, useTfBackend } from "@likeness/tf";
 * import { isLikenessWasmKernel } from "@likeness/tfwasm";
 * await useTfBackend("wasm");
 * const x = tf.ones([1, 4, 4, 1]) as tf.Tensor4D;
 * const dw = tf.grad((w: tf.Tensor) => tf.sum(tf.conv2d(x, w as tf.Tensor4D, 1, "same")))(tf.ones([3, 3, 1, 2]));
 * console.log(dw.shape, isLikenessWasmKernel("BatchMatMul")); // [3, 3, 1, 2] true
 * ```
 *
 * @module
 */
import { registerLikenessWasmKernels } from "./register.ts";

export * from "./register.ts";

await registerLikenessWasmKernels({ replace: true });
