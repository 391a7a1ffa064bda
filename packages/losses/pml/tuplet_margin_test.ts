import { test } from "node:test";
import assert from "node:assert/strict";
import { assertClose } from "@likeness/core/testing";
import { PmlTupletMarginLoss } from "./tuplet_margin.ts";
import {
  allFinite,
  assertCode,
  assertOrderInvariant,
  assertZeroWithFiniteGrad,
  cos64,
  standardBatch,
  value,
  valueAndGrad,
} from "./_test_util.ts";

const { E, Y } = await standardBatch(14);

function brute(e: number[][], y: number[], marginDeg: number, scale: number): number {
  const s = cos64(e);
  const m = (marginDeg * Math.PI) / 180;
  const out: number[] = [];
  for (let a = 0; a < y.length; a++) {
    for (let p = 0; p < y.length; p++) {
      if (p === a || y[p] !== y[a]) continue;
      const cp = Math.cos(Math.acos(s[a][p]) - m);
      const xs = [0];
      for (let n = 0; n < y.length; n++) if (y[n] !== y[a]) xs.push(scale * (s[a][n] - cp));
      const mx = Math.max(...xs);
      out.push(mx + Math.log(xs.reduce((acc, x) => acc + Math.exp(x - mx), 0)));
    }
  }
  return out.reduce((x, v) => x + v, 0) / out.length;
}

test("TupletMarginLoss matches a float64 loop", () => {
  for (const [m, s] of [[5.73, 64], [10, 8]]) {
    assertClose(value(new PmlTupletMarginLoss({ margin: m, scale: s }), E, { labels: Y }), brute(E, Y, m, s), {
      rtol: 1e-5,
    });
  }
});

test("TupletMarginLoss is invariant to batch order", () => {
  const loss = new PmlTupletMarginLoss();
  assertOrderInvariant(loss, E, Y, 41);
});

test("TupletMarginLoss is 0 without negatives, with finite gradients even for identical positives", () => {
  assertZeroWithFiniteGrad(new PmlTupletMarginLoss(), [[1, 0], [1, 0]], { labels: [0, 0] });
  const r2 = valueAndGrad(new PmlTupletMarginLoss(), [[1, 0], [1, 0], [0, 1]], { labels: [0, 0, 1] });
  assert.ok(Number.isFinite(r2.value) && allFinite(r2.grad));
});

test("TupletMarginLoss rejects bad input with stable codes", () => {
  assertCode(() => value(new PmlTupletMarginLoss(), E, { labels: [0] }), "LABEL_MISMATCH");
});
