import { test } from "node:test";
import assert from "node:assert/strict";
import { assertClose } from "@likeness/core/testing";
import { PmlProxyNCALoss } from "./proxy_nca.ts";
import {
  allFinite,
  assertCode,
  assertOrderInvariant,
  batch,
  lse,
  setup,
  unit,
  value,
  valueAndGrad,
} from "./_test_util.ts";

await setup();
const E = batch(21, 10, 4);
const Y = [0, 1, 2, 0, 1, 2, 0, 1, 2, 0];
const P = batch(22, 3, 4);

function brute(e: number[][], y: number[], proxies: number[][], scale: number): number {
  const u = e.map(unit);
  const q = proxies.map(unit);
  return u.reduce((acc, x, i) => {
    const logits = q.map((p) => -scale * p.reduce((s, v, k) => s + (v - x[k]) ** 2, 0));
    return acc + lse(logits) - logits[y[i]];
  }, 0) / e.length;
}

test("ProxyNCALoss matches a float64 loop", () => {
  for (const s of [1, 8]) {
    const loss = new PmlProxyNCALoss({ numClasses: 3, embeddingSize: 4, softmaxScale: s, proxies: P });
    assertClose(value(loss, E, { labels: Y }), brute(E, Y, P, s), { rtol: 1e-5 });
  }
});

test("ProxyNCALoss is invariant to batch order, exposes proxies, finite gradients", () => {
  const loss = new PmlProxyNCALoss({ numClasses: 3, embeddingSize: 4, proxies: P });
  assertOrderInvariant(loss, E, Y, 59);
  assert.deepEqual(loss.trainableVariables()[0].shape, [3, 4]);
  assert.ok(allFinite(valueAndGrad(loss, E, { labels: Y }).grad));
});

test("ProxyNCALoss rejects bad input with stable codes", () => {
  const loss = new PmlProxyNCALoss({ numClasses: 3, embeddingSize: 4 });
  assertCode(() => value(loss, E, { labels: Y.map(() => 1.5) }), "OUT_OF_RANGE");
  assertCode(() => value(loss, E, { labels: Y.slice(1) }), "LABEL_MISMATCH");
});
