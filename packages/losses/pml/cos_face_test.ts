import { test } from "node:test";
import assert from "node:assert/strict";
import { assertClose } from "@likeness/core/testing";
import { PmlCosFaceLoss } from "./cos_face.ts";
import { allFinite, batch, setup, value, valueAndGrad } from "./_test_util.ts";

await setup();

test("CosFaceLoss with zero margin is the scaled cosine softmax cross-entropy", () => {
  const e = [[1, 0], [0, 1]];
  const w = [[1, 0], [0, 1]]; // D×C: class c along axis c
  const loss = new PmlCosFaceLoss({ numClasses: 2, embeddingSize: 2, margin: 0, scale: 2, W: w });
  assertClose(value(loss, e, { labels: [0, 1] }), Math.log(1 + Math.exp(-2)), { rtol: 1e-6 });
  // a margin raises the loss of a correctly classified batch
  const withMargin = new PmlCosFaceLoss({ numClasses: 2, embeddingSize: 2, margin: 0.35, scale: 2, W: w });
  assertClose(value(withMargin, e, { labels: [0, 1] }), Math.log(1 + Math.exp(-2 * 0.65)), { rtol: 1e-6 });
});

test("CosFaceLoss has finite gradients and exposes W", () => {
  const loss = new PmlCosFaceLoss({ numClasses: 3, embeddingSize: 4 });
  assert.equal(loss.trainableVariables().length, 1);
  assert.ok(allFinite(valueAndGrad(loss, batch(1, 6, 4), { labels: [0, 1, 2, 0, 1, 2] }).grad));
});
