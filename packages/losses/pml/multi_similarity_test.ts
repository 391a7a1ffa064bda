import { test } from "node:test";
import assert from "node:assert/strict";
import { assertClose } from "@likeness/core/testing";
import { sumReducer } from "../reducers.ts";
import { PmlMultiSimilarityLoss } from "./multi_similarity.ts";
import {
  allFinite,
  assertCode,
  assertOrderInvariant,
  cos64,
  standardBatch,
  value,
  valueAndGrad,
} from "./_test_util.ts";

const { E, Y } = await standardBatch(3);

function brute(e: number[][], y: number[], alpha: number, beta: number, base: number): number {
  const s = cos64(e);
  let total = 0;
  for (let i = 0; i < y.length; i++) {
    let sp = 0;
    let sn = 0;
    let hp = false;
    let hn = false;
    for (let j = 0; j < y.length; j++) {
      if (i === j) continue;
      if (y[i] === y[j]) {
        sp += Math.exp(-alpha * (s[i][j] - base));
        hp = true;
      } else {
        sn += Math.exp(beta * (s[i][j] - base));
        hn = true;
      }
    }
    total += (hp ? Math.log1p(sp) / alpha : 0) + (hn ? Math.log1p(sn) / beta : 0);
  }
  return total / y.length;
}

test("MultiSimilarityLoss matches a float64 loop", () => {
  for (const [a, b, base] of [[2, 50, 0.5], [1, 10, 0.2]]) {
    const loss = new PmlMultiSimilarityLoss({ alpha: a, beta: b, base });
    assertClose(value(loss, E, { labels: Y }), brute(E, Y, a, b, base), { rtol: 1e-5, atol: 1e-6 });
  }
});

test("MultiSimilarityLoss is invariant to batch order", () => {
  const loss = new PmlMultiSimilarityLoss();
  assertOrderInvariant(loss, E, Y, 7);
});

test("MultiSimilarityLoss without positives or negatives is 0 with finite gradients", () => {
  const loss = new PmlMultiSimilarityLoss();
  const r = valueAndGrad(loss, [[1, 0], [0, 1]], { labels: [0, 0] });
  // only positives: the negative term is empty (0) but the positive term is not
  assertClose(r.value, Math.log1p(Math.exp(-2 * (0 - 0.5))) / 2, { rtol: 1e-5 });
  const single = valueAndGrad(loss, [[1, 0]], { labels: [0] });
  assert.equal(single.value, 0);
  assert.ok(allFinite(single.grad) && allFinite(r.grad));
});

test("MultiSimilarityLoss restricts sums to mined pairs", () => {
  const loss = new PmlMultiSimilarityLoss();
  const s = cos64(E);
  const want = (Math.log1p(Math.exp(-2 * (s[0][3] - 0.5))) / 2 + Math.log1p(Math.exp(50 * (s[0][1] - 0.5))) / 50) / 12;
  const got = value(loss, E, { labels: Y, indices: { positivePairs: [[0, 3]], negativePairs: [[0, 1]] } });
  assertClose(got, want, { rtol: 1e-5, atol: 1e-7 });
});

test("MultiSimilarityLoss rejects bad input with stable codes", () => {
  const loss = new PmlMultiSimilarityLoss();
  assertCode(() => value(loss, E, { labels: Y.slice(1) }), "LABEL_MISMATCH");
  assertCode(() => value(loss, [[NaN, 0]], { labels: [0] }), "NON_FINITE");
});

test("MultiSimilarityLoss takes another reducer", () => {
  const mean = value(new PmlMultiSimilarityLoss(), E, { labels: Y });
  assertClose(value(new PmlMultiSimilarityLoss({ reducer: sumReducer() }), E, { labels: Y }), mean * E.length, {
    rtol: 1e-5,
  });
});
