import { test } from "node:test";
import assert from "node:assert/strict";
import { assertClose } from "@likeness/core/testing";
import { PmlNTXentLoss } from "./ntxent.ts";
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

const { E, Y } = await standardBatch(4);

function brute(e: number[][], y: number[], t: number): number {
  const s = cos64(e);
  const losses: number[] = [];
  for (let a = 0; a < y.length; a++) {
    for (let p = 0; p < y.length; p++) {
      if (p === a || y[p] !== y[a]) continue;
      let denom = Math.exp(s[a][p] / t);
      for (let n = 0; n < y.length; n++) if (y[n] !== y[a]) denom += Math.exp(s[a][n] / t);
      losses.push(-Math.log(Math.exp(s[a][p] / t) / denom));
    }
  }
  return losses.reduce((x, v) => x + v, 0) / losses.length;
}

test("NTXentLoss matches a float64 loop", () => {
  for (const t of [0.07, 0.5]) {
    const loss = new PmlNTXentLoss({ temperature: t });
    assertClose(value(loss, E, { labels: Y }), brute(E, Y, t), { rtol: 1e-5 });
  }
});

test("NTXentLoss is invariant to batch order", () => {
  const loss = new PmlNTXentLoss();
  assertOrderInvariant(loss, E, Y, 9);
});

test("NTXentLoss is 0 without positive or negative pairs, with finite gradients", () => {
  const loss = new PmlNTXentLoss();
  for (const labels of [[0, 1, 2], [0, 0, 0]]) {
    assertZeroWithFiniteGrad(loss, E.slice(0, 3), { labels });
  }
});

test("NTXentLoss stays finite at a tiny temperature", () => {
  const r = valueAndGrad(new PmlNTXentLoss({ temperature: 0.005 }), E, { labels: Y });
  assert.ok(Number.isFinite(r.value) && allFinite(r.grad));
  assertClose(r.value, brute(E, Y, 0.005), { rtol: 1e-4 });
});

test("NTXentLoss rejects bad input with stable codes", () => {
  assertCode(() => new PmlNTXentLoss({ temperature: 0 }), "INVALID_ARGUMENT");
  assertCode(() => value(new PmlNTXentLoss(), E, { labels: [1, 2] }), "LABEL_MISMATCH");
});
