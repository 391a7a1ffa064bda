import { test } from "node:test";
import assert from "node:assert/strict";
import { assertClose } from "@likeness/core/testing";
import { PmlNormalizedSoftmaxLoss } from "./normalized_softmax.ts";
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
const E = batch(17, 10, 4);
const Y = [0, 1, 2, 0, 1, 2, 0, 1, 2, 0];
const W = batch(18, 4, 3);

test("NormalizedSoftmaxLoss matches a float64 loop", () => {
  const cols = W[0].map((_v, c) => W.map((r) => r[c]));
  for (const t of [0.05, 0.5]) {
    const s = cos64(E, cols);
    const want = s.reduce((acc, row, i) => acc + lse(row.map((v) => v / t)) - row[Y[i]] / t, 0) / E.length;
    const loss = new PmlNormalizedSoftmaxLoss({ numClasses: 3, embeddingSize: 4, temperature: t, W });
    assertClose(value(loss, E, { labels: Y }), want, { rtol: 1e-5 });
  }
});

test("NormalizedSoftmaxLoss is invariant to batch order, exposes W, finite gradients", () => {
  const loss = new PmlNormalizedSoftmaxLoss({ numClasses: 3, embeddingSize: 4, W });
  assertOrderInvariant(loss, E, Y, 47);
  assert.deepEqual(loss.trainableVariables()[0].shape, [4, 3]);
  assert.ok(allFinite(valueAndGrad(loss, E, { labels: Y }).grad));
});

test("NormalizedSoftmaxLoss rejects bad input with stable codes", () => {
  const loss = new PmlNormalizedSoftmaxLoss({ numClasses: 3, embeddingSize: 4 });
  assertCode(() => value(loss, E, { labels: Y.map(() => 3) }), "OUT_OF_RANGE");
  assertCode(() => value(loss, E, { labels: Y.slice(2) }), "LABEL_MISMATCH");
  assertCode(
    () => new PmlNormalizedSoftmaxLoss({ numClasses: 3, embeddingSize: 4, temperature: 0 }),
    "INVALID_ARGUMENT",
  );
});
