import { test } from "node:test";
import { assertClose } from "@likeness/core/testing";
import { PmlCircleLoss } from "./circle.ts";
import {
  assertCode,
  assertOrderInvariant,
  assertZeroWithFiniteGrad,
  cos64,
  lse,
  standardBatch,
  value,
} from "./_test_util.ts";

const { E, Y } = await standardBatch(6);

function brute(e: number[][], y: number[], m: number, g: number): number {
  const s = cos64(e);
  const losses: number[] = [];
  for (let a = 0; a < y.length; a++) {
    const p: number[] = [];
    const n: number[] = [];
    for (let j = 0; j < y.length; j++) {
      if (j === a) continue;
      if (y[j] === y[a]) p.push(-g * Math.max(1 + m - s[a][j], 0) * (s[a][j] - (1 - m)));
      else n.push(g * Math.max(s[a][j] + m, 0) * (s[a][j] - m));
    }
    if (p.length && n.length) {
      const x = lse(p) + lse(n);
      losses.push(x > 30 ? x : Math.log1p(Math.exp(x)));
    }
  }
  const nz = losses.filter((v) => v > 0);
  return nz.reduce((x, v) => x + v, 0) / nz.length;
}

test("CircleLoss matches a float64 loop", () => {
  for (const [m, g] of [[0.4, 80], [0.25, 10]]) {
    const loss = new PmlCircleLoss({ m, gamma: g });
    assertClose(value(loss, E, { labels: Y }), brute(E, Y, m, g), { rtol: 1e-5 });
  }
});

test("CircleLoss is invariant to batch order", () => {
  const loss = new PmlCircleLoss();
  assertOrderInvariant(loss, E, Y, 13);
});

test("CircleLoss is 0 without positives, with finite gradients", () => {
  assertZeroWithFiniteGrad(new PmlCircleLoss(), E.slice(0, 3), { labels: [0, 1, 2] });
});

test("CircleLoss rejects bad input with stable codes", () => {
  assertCode(() => new PmlCircleLoss({ gamma: Infinity }), "INVALID_ARGUMENT");
  assertCode(() => value(new PmlCircleLoss(), E, { labels: [0] }), "LABEL_MISMATCH");
});
