import { test } from "node:test";
import assert from "node:assert/strict";
import { assertClose } from "@likeness/core/testing";
import { PmlSoftTripleLoss } from "./soft_triple.ts";
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
const E = batch(25, 8, 4);
const Y = [0, 1, 2, 0, 1, 2, 0, 1];
const FC = batch(26, 4, 6); // D × (3 classes · 2 centres)

test("SoftTripleLoss matches a float64 loop", () => {
  const [la, gamma, margin] = [20, 0.1, 0.01];
  const cols = FC[0].map((_v, c) => FC.map((r) => r[c]));
  const s = cos64(E, cols);
  const want = s.reduce((acc, row, i) => {
    const cls = [0, 1, 2].map((c) => {
      const x = row.slice(c * 2, c * 2 + 2);
      const z = lse(x.map((v) => v / gamma));
      return x.reduce((t, v) => t + Math.exp(v / gamma - z) * v, 0);
    });
    const logits = cls.map((v, k) => la * (v - (k === Y[i] ? margin : 0)));
    return acc + lse(logits) - logits[Y[i]];
  }, 0) / E.length;
  const loss = new PmlSoftTripleLoss({ numClasses: 3, embeddingSize: 4, centersPerClass: 2, fc: FC });
  assertClose(value(loss, E, { labels: Y }), want, { rtol: 1e-5 });
});

test("SoftTripleLoss is invariant to batch order, exposes its centres, finite gradients", () => {
  const loss = new PmlSoftTripleLoss({ numClasses: 3, embeddingSize: 4, centersPerClass: 2, fc: FC });
  assertOrderInvariant(loss, E, Y, 61);
  assert.deepEqual(loss.trainableVariables()[0].shape, [4, 6]);
  assert.ok(allFinite(valueAndGrad(loss, E, { labels: Y }).grad));
});

test("SoftTripleLoss rejects bad input with stable codes", () => {
  assertCode(() => new PmlSoftTripleLoss({ numClasses: 3, embeddingSize: 4, centersPerClass: 0 }), "INVALID_ARGUMENT");
  const loss = new PmlSoftTripleLoss({ numClasses: 3, embeddingSize: 4 });
  assertCode(() => value(loss, E, { labels: Y.map(() => 3) }), "OUT_OF_RANGE");
  assertCode(() => value(loss, E, { labels: [0] }), "LABEL_MISMATCH");
});
