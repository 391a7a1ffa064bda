/**
 * Gradient clipping by global norm.
 *
 * @module
 */
import { tf } from "@likeness/tf";

/**
 * The L2 norm of all gradients together (one device read). Call inside `tf.tidy`.
 *
 * @param grads gradients (`undefined` entries are skipped)
 * @returns the global norm (0 for no gradients)
 * @example
 * ```ts
 * import { globalNorm } from "@likeness/trainer";
 * import { tf } from "@likeness/tf";
 * console.log(globalNorm([tf.tensor([3]), tf.tensor([4])])); // 5
 * ```
 */
export function globalNorm(grads: readonly (tf.Tensor | undefined)[]): number {
  const parts = grads.filter((g): g is tf.Tensor => g !== undefined).map((g) => tf.sum(tf.square(g)));
  if (parts.length === 0) return 0;
  return Math.sqrt((parts.length === 1 ? parts[0] : tf.addN(parts)).dataSync()[0]);
}

/**
 * Scale all gradients by `maxNorm / max(norm, maxNorm)`, where `norm` is the L2 norm of all
 * gradients together (as torch.nn.utils.clip_grad_norm_). Call inside `tf.tidy`.
 *
 * @param grads gradients (`undefined` entries are skipped)
 * @param maxNorm the largest allowed global norm
 * @returns clipped gradients and the norm before clipping
 * @example
 * ```ts
 * import { clipByGlobalNorm } from "@likeness/trainer";
 * import { tf } from "@likeness/tf";
 * const { norm } = clipByGlobalNorm([tf.tensor([3]), tf.tensor([4])], 1);
 * console.log(norm); // 5
 * ```
 */
export function clipByGlobalNorm(
  grads: readonly (tf.Tensor | undefined)[],
  maxNorm: number,
): { grads: (tf.Tensor | undefined)[]; norm: number } {
  const norm = globalNorm(grads);
  if (!(norm > maxNorm) || !Number.isFinite(norm)) return { grads: [...grads], norm };
  const scale = maxNorm / norm;
  return { grads: grads.map((g) => (g ? tf.mul(g, scale) : undefined)), norm };
}
