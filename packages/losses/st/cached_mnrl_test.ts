import { test } from "node:test";
import assert from "node:assert/strict";
import { tf, useTfBackend } from "@likeness/tf";
import { createRng, ShapeError } from "@likeness/core";
import { assertClose } from "@likeness/core/testing";
import { CachedMultipleNegativesRankingLoss, inBatchNegativesLoss } from "@likeness/losses";

await useTfBackend("wasm");

function normal(shape: [number, number], seed: number): tf.Tensor2D {
  const rng = createRng(seed);
  return tf.tensor2d(Array.from({ length: shape[0] * shape[1] }, () => rng.normal()), shape);
}

test("inBatchNegativesLoss matches a brute-force loop", () => {
  const a = normal([5, 3], 1);
  const c = normal([7, 3], 2);
  const A = a.arraySync();
  const C = c.arraySync();
  const cos = (u: number[], v: number[]) =>
    u.reduce((s, x, k) => s + x * v[k], 0) / Math.hypot(...u) / Math.hypot(...v);
  let want = 0;
  for (let i = 0; i < 5; i++) {
    const logits = C.map((r) => 10 * cos(A[i], r));
    const lse = Math.log(logits.reduce((s, l) => s + Math.exp(l), 0));
    want += (lse - logits[i]) / 5;
  }
  assertClose(inBatchNegativesLoss(a, c, 10, "cosine").dataSync()[0], want, { rtol: 1e-4 });
});

test("CachedMultipleNegativesRankingLoss: GradCache gradients equal the uncached loss's", async () => {
  const w1 = tf.variable(normal([6, 5], 3), true, "cmnrl_w1");
  const b1 = tf.variable(tf.zeros([5]), true, "cmnrl_b1");
  const w2 = tf.variable(normal([5, 4], 4), true, "cmnrl_w2");
  const embed = (x: tf.Tensor) => tf.matMul(tf.tanh(tf.add(tf.matMul(x as tf.Tensor2D, w1), b1)), w2) as tf.Tensor2D;
  const anchors = normal([10, 6], 5);
  const positives = normal([10, 6], 6);
  const negatives = normal([3, 6], 7);
  const varList = [w1, b1, w2];
  for (const [negs, mb] of [[undefined, 3], [negatives, 4]] as const) {
    const loss = new CachedMultipleNegativesRankingLoss({ scale: 20, miniBatchSize: mb });
    const cached = await loss.lossAndGrads(embed, anchors, positives, { negatives: negs, varList });
    const plain = tf.variableGrads(() => {
      const cands = negs ? tf.concat([embed(positives), embed(negs)], 0) : embed(positives);
      return inBatchNegativesLoss(embed(anchors), cands as tf.Tensor2D, 20, "cosine");
    }, varList);
    assertClose(cached.loss, plain.value.dataSync()[0], { rtol: 1e-5 });
    for (const v of varList) {
      const g = cached.grads[v.name];
      assert.ok(g, `gradient for ${v.name}`);
      assertClose(g.dataSync(), plain.grads[v.name].dataSync(), { rtol: 1e-3, atol: 1e-5, what: v.name });
      assert.ok(Array.from(g.dataSync()).some((x) => Math.abs(x) > 1e-4), `${v.name} gradient is not trivial`);
    }
    tf.dispose(Object.values(cached.grads));
    tf.dispose([plain.value, ...Object.values(plain.grads)]);
  }
  // compute() is the same loss on precomputed embeddings with pairs
  const ea = embed(anchors);
  const ep = embed(positives);
  const both = tf.concat([ea, ep], 0) as tf.Tensor2D;
  const pairs = Array.from({ length: 10 }, (_, i) => [i, 10 + i] as [number, number]);
  const viaCompute = new CachedMultipleNegativesRankingLoss().compute(both, { pairs }).dataSync()[0];
  assertClose(viaCompute, inBatchNegativesLoss(ea, ep, 20, "cosine").dataSync()[0], { rtol: 1e-5 });
  await assert.rejects(
    new CachedMultipleNegativesRankingLoss().lossAndGrads(embed, anchors, negatives),
    (e: unknown) => e instanceof ShapeError,
  );
  tf.dispose([w1, b1, w2, anchors, positives, negatives, ea, ep, both]);
});
