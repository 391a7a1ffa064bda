import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "@likeness/tf";
import { assertClose } from "@likeness/core/testing";
import { PmlArcFaceLoss } from "./arc_face.ts";
import { PmlCosFaceLoss } from "./cos_face.ts";
import {
  allFinite,
  assertCode,
  assertOrderInvariant,
  batch,
  cos64,
  lse,
  setup,
  value,
  valueAndGrad,
} from "./_test_util.ts";

await setup();
const E = batch(15, 10, 4);
const Y = [0, 1, 2, 0, 1, 2, 0, 1, 2, 0];
const W = batch(16, 4, 3); // D×C

/** Float64 large-margin softmax: modify(cos) on the target class, scale, cross-entropy, mean. */
function bruteLargeMargin(
  e: number[][],
  y: number[],
  w: number[][],
  scale: number,
  modify: (c: number) => number,
): number {
  const cols = w[0].map((_v, c) => w.map((r) => r[c]));
  const s = cos64(e, cols);
  return s.reduce((acc, row, i) => {
    const logits = row.map((c, k) => scale * (k === y[i] ? modify(c) : c));
    return acc + lse(logits) - logits[y[i]];
  }, 0) / e.length;
}

test("ArcFaceLoss matches a float64 loop", () => {
  for (const [m, s] of [[28.6, 64], [10, 4]]) {
    const loss = new PmlArcFaceLoss({ numClasses: 3, embeddingSize: 4, margin: m, scale: s, W });
    const r = (m * Math.PI) / 180;
    const want = bruteLargeMargin(E, Y, W, s, (c) => {
      const t = Math.acos(c);
      return t <= Math.PI - r ? Math.cos(t + r) : c - r * Math.sin(r);
    });
    assertClose(value(loss, E, { labels: Y }), want, { rtol: 1e-5 });
  }
});

test("ArcFaceLoss continues monotonically past θ = π − m (pml 2.8.1)", () => {
  // a row pointing away from its class weight: θ = 180°
  const loss = new PmlArcFaceLoss({ numClasses: 2, embeddingSize: 2, margin: 28.6, scale: 1, W: [[1, 0], [0, 1]] });
  const r = (28.6 * Math.PI) / 180;
  const logits = [-1 - r * Math.sin(r), 0];
  const want = Math.log(Math.exp(logits[0]) + Math.exp(logits[1])) - logits[0];
  assertClose(value(loss, [[-1, 0]], { labels: [0] }), want, { rtol: 1e-5 });
});

test("CosFaceLoss matches a float64 loop", () => {
  const loss = new PmlCosFaceLoss({ numClasses: 3, embeddingSize: 4, margin: 0.35, scale: 16, W });
  assertClose(value(loss, E, { labels: Y }), bruteLargeMargin(E, Y, W, 16, (c) => c - 0.35), { rtol: 1e-5 });
});

test("ArcFaceLoss is invariant to batch order; W is trainable and gets a gradient", () => {
  const loss = new PmlArcFaceLoss({ numClasses: 3, embeddingSize: 4, W });
  assertOrderInvariant(loss, E, Y, 43);
  const [w] = loss.trainableVariables();
  assert.deepEqual(w.shape, [4, 3]);
  const x = tf.tensor2d(E);
  const { grads } = tf.variableGrads(() => loss.compute(x, { labels: Y }), [w]);
  assert.ok(allFinite(grads[w.name].arraySync() as number[][]));
  assert.ok(Math.abs(tf.sum(tf.abs(grads[w.name])).dataSync()[0]) > 0);
  assert.ok(allFinite(valueAndGrad(loss, E, { labels: Y }).grad));
});

test("ArcFaceLoss default init is seeded", () => {
  const a = new PmlArcFaceLoss({ numClasses: 3, embeddingSize: 4, seed: 5 });
  const b = new PmlArcFaceLoss({ numClasses: 3, embeddingSize: 4, seed: 5 });
  assert.deepEqual(a.W.arraySync(), b.W.arraySync());
});

test("ArcFaceLoss and CosFaceLoss reject bad input with stable codes", () => {
  const loss = new PmlArcFaceLoss({ numClasses: 3, embeddingSize: 4, W });
  assertCode(() => value(loss, E, { labels: Y.map((v) => v + 1) }), "OUT_OF_RANGE");
  assertCode(() => value(loss, E, { labels: ["a", ...Y.slice(1)] }), "OUT_OF_RANGE");
  assertCode(() => value(loss, E, { labels: [0] }), "LABEL_MISMATCH");
  assertCode(() => value(loss, [[1, 2]], { labels: [0] }), "SHAPE_MISMATCH");
  assertCode(() => value(loss, [[1, 2, NaN, 0]], { labels: [0] }), "NON_FINITE");
  assertCode(() => new PmlCosFaceLoss({ numClasses: 0, embeddingSize: 4 }), "INVALID_ARGUMENT");
  assertCode(() => new PmlCosFaceLoss({ numClasses: 3, embeddingSize: 4, W: [[1]] }), "SHAPE_MISMATCH");
});
