import { test } from "node:test";
import assert from "node:assert/strict";
import { tf, useTfBackend } from "@likeness/tf";
import { assertClose } from "@likeness/core/testing";
import { _matMul } from "./_matmul.ts";
import { randomEmbeddings } from "./quaterion/_test_util.ts";

await useTfBackend("wasm");

/** Float64 reference of op(a)·op(b) for nested arrays. */
function refMatMul(a: number[][], b: number[][], ta: boolean, tb: boolean): number[][] {
  const t = (m: number[][]) => m[0].map((_, j) => m.map((r) => r[j]));
  const x = ta ? t(a) : a;
  const y = tb ? t(b) : b;
  return x.map((r) => y[0].map((_, j) => r.reduce((s, v, k) => s + v * y[k][j], 0)));
}

test("_matMul matches a float64 product and tf.matMul's gradients for every transpose flag", () => {
  for (const ta of [false, true]) {
    for (const tb of [false, true]) {
      // op(a) is 4×3 and op(b) is 3×5 whatever the flags
      const a = randomEmbeddings(ta ? 3 : 4, ta ? 4 : 3, 1);
      const b = randomEmbeddings(tb ? 5 : 3, tb ? 3 : 5, 2);
      const what = `transposeA=${ta} transposeB=${tb}`;
      const [x, y] = [tf.tensor2d(a), tf.tensor2d(b)];
      assertClose(_matMul(x, y, ta, tb).arraySync(), refMatMul(a, b, ta, tb), { rtol: 1e-5, atol: 1e-6, what });
      // a non-uniform upstream gradient, so that a transposed gradient would show
      const w = tf.tensor2d(randomEmbeddings(4, 5, 3));
      const loss = (mm: (p: tf.Tensor, q: tf.Tensor) => tf.Tensor) => (p: tf.Tensor, q: tf.Tensor) =>
        tf.sum(tf.mul(mm(p, q), w));
      const got = tf.grads(loss((p, q) => _matMul(p, q, ta, tb)))([x, y]);
      const want = tf.grads(loss((p, q) => tf.matMul(p as tf.Tensor2D, q as tf.Tensor2D, ta, tb)))([x, y]);
      assert.deepEqual(got[0].shape, x.shape);
      assert.deepEqual(got[1].shape, y.shape);
      assertClose(got[0].arraySync(), want[0].arraySync(), { rtol: 1e-5, atol: 1e-6, what: `${what} da` });
      assertClose(got[1].arraySync(), want[1].arraySync(), { rtol: 1e-5, atol: 1e-6, what: `${what} db` });
    }
  }
});

test("_matMul sums both gradients when one tensor is both operands, and reaches variables", () => {
  const a = randomEmbeddings(6, 4, 5);
  const x = tf.tensor2d(a);
  // d/dx Σ (x xᵀ)² = 4 (x xᵀ) x
  const g = tf.grad((p: tf.Tensor) => tf.sum(tf.square(_matMul(p, p, false, true))))(x);
  const gram = refMatMul(a, a, false, true);
  assertClose(g.arraySync(), refMatMul(gram, a, false, false).map((r) => r.map((v) => 4 * v)), {
    rtol: 1e-4,
    atol: 1e-5,
  });
  const v = tf.variable(tf.tensor2d(randomEmbeddings(4, 3, 6)));
  const { grads } = tf.variableGrads(() => tf.sum(_matMul(x, v)) as tf.Scalar, [v]);
  // d/dv Σ x·v = column sums of x, repeated over v's columns
  const colSums = a[0].map((_, k) => a.reduce((s, r) => s + r[k], 0));
  assertClose(grads[v.name].arraySync(), colSums.map((c) => [c, c, c]), { rtol: 1e-5, atol: 1e-5 });
  v.dispose();
});
