/**
 * Matrix product whose forward and backward passes use only untransposed `matMul` calls.
 *
 * tfjs-wasm runs `matMul(a, b)` through its fast (XNNPACK) path only when neither operand is
 * transposed: at 1024×256 by 256×1024, `matMul(x, x, false, true)` takes about 10× longer than
 * `matMul(x, transpose(x))`, and the backward products of any `matMul` (which transpose one
 * operand) are 10-20× slower than an explicit `transpose` followed by a plain product. Values
 * are the same products, up to float32 summation order.
 *
 * Private to @likeness/losses; not re-exported.
 *
 * @module
 */
import { tf } from "@likeness/tf";

function op(x: tf.Tensor, t: boolean): tf.Tensor2D {
  return (t ? tf.transpose(x) : x) as tf.Tensor2D;
}

/**
 * `op(a) · op(b)` for 2-D tensors, where `op` transposes when asked, with every product of the
 * forward and backward passes computed on explicitly transposed, contiguous operands.
 *
 * @param a M×K (K×M when `transposeA`)
 * @param b K×N (N×K when `transposeB`)
 * @param transposeA transpose `a` first (default false)
 * @param transposeB transpose `b` first (default false)
 * @returns M×N, differentiable in both operands (the same tensor may be passed twice)
 */
export function _matMul(a: tf.Tensor, b: tf.Tensor, transposeA = false, transposeB = false): tf.Tensor2D {
  const body = (x: tf.Tensor, y: tf.Tensor, save: (t: tf.Tensor[]) => void) => {
    save([x, y]);
    return {
      value: tf.tidy(() => tf.matMul(op(x, transposeA), op(y, transposeB))),
      gradFunc: (dy: tf.Tensor2D, saved: tf.Tensor[]) => {
        const [sx, sy] = saved;
        const bigA = op(sx, transposeA);
        const bigB = op(sy, transposeB);
        // c = A·B: dA = dy·Bᵀ, dB = Aᵀ·dy; transposed operands get the transposed gradient
        const da = transposeA ? tf.matMul(bigB, tf.transpose(dy)) : tf.matMul(dy, tf.transpose(bigB));
        const db = transposeB ? tf.matMul(tf.transpose(dy), bigA) : tf.matMul(tf.transpose(bigA), dy);
        return [da, db];
      },
    };
  };
  // deno-lint-ignore no-explicit-any
  const f = tf.customGrad(body as any) as unknown as (x: tf.Tensor, y: tf.Tensor) => tf.Tensor2D;
  return f(a, b);
}
