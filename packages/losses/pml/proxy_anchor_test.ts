import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "@likeness/tf";
import { assertClose } from "@likeness/core/testing";
import { PmlProxyAnchorLoss } from "./proxy_anchor.ts";
import { allFinite, assertCode, assertOrderInvariant, batch, cos64, setup, value, valueAndGrad } from "./_test_util.ts";

await setup();
const E = batch(19, 10, 4);
const Y = [0, 1, 2, 0, 1, 2, 0, 1, 2, 0]; // class 3 has no rows
const P = batch(20, 4, 4); // C×D

function brute(e: number[][], y: number[], proxies: number[][], margin: number, alpha: number): number {
  const s = cos64(e, proxies);
  const c = proxies.length;
  let pos = 0;
  let neg = 0;
  let withPos = 0;
  for (let k = 0; k < c; k++) {
    let sp = 0;
    let sn = 0;
    let any = false;
    for (let i = 0; i < e.length; i++) {
      if (y[i] === k) {
        sp += Math.exp(-alpha * (s[i][k] - margin));
        any = true;
      } else sn += Math.exp(alpha * (s[i][k] + margin));
    }
    if (any) {
      pos += Math.log1p(sp);
      withPos++;
    }
    neg += Math.log1p(sn);
  }
  return pos / withPos + neg / c;
}

test("ProxyAnchorLoss matches a float64 loop", () => {
  for (const [m, a] of [[0.1, 32], [0.3, 4]]) {
    const loss = new PmlProxyAnchorLoss({ numClasses: 4, embeddingSize: 4, margin: m, alpha: a, proxies: P });
    assertClose(value(loss, E, { labels: Y }), brute(E, Y, P, m, a), { rtol: 1e-5 });
  }
});

test("ProxyAnchorLoss is invariant to batch order; proxies are trainable with a gradient", () => {
  const loss = new PmlProxyAnchorLoss({ numClasses: 4, embeddingSize: 4, proxies: P });
  assertOrderInvariant(loss, E, Y, 53);
  const [v] = loss.trainableVariables();
  assert.deepEqual(v.shape, [4, 4]);
  const x = tf.tensor2d(E);
  const { grads } = tf.variableGrads(() => loss.compute(x, { labels: Y }), [v]);
  assert.ok(tf.sum(tf.abs(grads[v.name])).dataSync()[0] > 0);
  assert.ok(allFinite(valueAndGrad(loss, E, { labels: Y }).grad));
});

test("ProxyAnchorLoss is near 0 when rows sit on their proxies, far from the others", () => {
  const proxies = [[1, 0], [-1, 0]];
  const loss = new PmlProxyAnchorLoss({ numClasses: 2, embeddingSize: 2, proxies, alpha: 32, margin: 0.1 });
  const v = value(loss, [[1, 0], [-1, 0]], { labels: [0, 1] });
  assert.ok(v < 1e-3 && v >= 0, `loss ${v}`);
});

test("ProxyAnchorLoss rejects bad input with stable codes", () => {
  const loss = new PmlProxyAnchorLoss({ numClasses: 4, embeddingSize: 4 });
  assertCode(() => value(loss, E, { labels: Y.map((v) => -v - 1) }), "OUT_OF_RANGE");
  assertCode(() => value(loss, E, { labels: [0] }), "LABEL_MISMATCH");
  assertCode(() => value(loss, [[NaN, 0, 0, 0]], { labels: [0] }), "NON_FINITE");
  assertCode(() => new PmlProxyAnchorLoss({ numClasses: 2, embeddingSize: 4, proxies: P }), "SHAPE_MISMATCH");
});
