import { test } from "node:test";
import assert from "node:assert/strict";
import { tf, useTfBackend } from "@likeness/tf";
import { ValueError } from "@likeness/core";
import { assertClose } from "@likeness/core/testing";
import { AnglELoss, CombinedLoss, combineLosses, CoSENTLoss, type Loss } from "@likeness/losses";

await useTfBackend("wasm");

test("CombinedLoss is the weighted sum of its terms, in value and gradient", () => {
  const x = tf.tensor2d([[1, 0.2, 0.3, 0], [0.9, 0.1, 0, 0.2], [0, 1, 0.5, 0.1], [1, 0.2, -0.3, 0.4]]);
  const target = { pairs: [[0, 1], [2, 3], [0, 3]] as [number, number][], scores: [1, 0, 0.5] };
  const a = new CoSENTLoss({ scale: 5 });
  const b = new AnglELoss({ scale: 3 });
  const loss = combineLosses([{ loss: a, weight: 2 }, { loss: b, weight: -0.5 }]);
  const want = 2 * a.compute(x, target).dataSync()[0] - 0.5 * b.compute(x, target).dataSync()[0];
  assertClose(loss.compute(x, target).dataSync()[0], want, { rtol: 1e-5 });
  const g = tf.grad((e: tf.Tensor) => loss.compute(e as tf.Tensor2D, target))(x).dataSync();
  const ga = tf.grad((e: tf.Tensor) => a.compute(e as tf.Tensor2D, target))(x).dataSync();
  const gb = tf.grad((e: tf.Tensor) => b.compute(e as tf.Tensor2D, target))(x).dataSync();
  assertClose(g, Array.from(ga, (v, i) => 2 * v - 0.5 * gb[i]), { rtol: 1e-4, atol: 1e-6 });
  assert.equal(loss.name, "CombinedLoss(CoSENTLoss*2 + AnglELoss*-0.5)");
});

test("CombinedLoss collects learned parameters once and rejects bad terms", () => {
  const v = tf.variable(tf.zeros([2]), true, "combine_test_v");
  const owner: Loss = {
    name: "Owner",
    compute: (e) => tf.sum(tf.mul(e, 0)) as tf.Scalar,
    trainableVariables: () => [v],
  };
  const loss = new CombinedLoss([{ loss: owner }, { loss: owner, weight: 3 }]);
  assert.deepEqual(loss.trainableVariables(), [v]);
  const invalid = (e: unknown) => e instanceof ValueError && e.code === "INVALID_ARGUMENT";
  assert.throws(() => new CombinedLoss([]), invalid);
  assert.throws(() => new CombinedLoss([{ loss: owner, weight: NaN }]), invalid);
  assert.throws(() => new CombinedLoss([{ weight: 1 } as never]), invalid);
  v.dispose();
});
