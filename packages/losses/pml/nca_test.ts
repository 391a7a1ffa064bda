import { test } from "node:test";
import assert from "node:assert/strict";
import { assertClose } from "@likeness/core/testing";
import { PmlNCALoss } from "./nca.ts";
import {
  assertCode,
  assertOrderInvariant,
  assertZeroWithFiniteGrad,
  batch,
  groups,
  lp64,
  lse,
  setup,
  value,
} from "./_test_util.ts";

await setup();
const E = batch(11, 12, 4);
const Y = [...groups(3, 4).slice(0, 11), 9]; // row 11 has no same-label row: left out

function brute(e: number[][], y: number[], scale: number): number {
  const d = lp64(e, 2);
  const losses: number[] = [];
  for (let i = 0; i < y.length; i++) {
    const others = y.map((_v, j) => j).filter((j) => j !== i);
    const same = others.filter((j) => y[j] === y[i]);
    if (!same.length) continue;
    losses.push(lse(others.map((j) => -scale * d[i][j])) - lse(same.map((j) => -scale * d[i][j])));
  }
  return losses.reduce((x, v) => x + v, 0) / losses.length;
}

test("NCALoss matches a float64 loop (squared L2 between normalised rows)", () => {
  for (const s of [1, 4]) {
    assertClose(value(new PmlNCALoss({ softmaxScale: s }), E, { labels: Y }), brute(E, Y, s), { rtol: 1e-5 });
  }
});

test("NCALoss is invariant to batch order", () => {
  const loss = new PmlNCALoss();
  assertOrderInvariant(loss, E, Y, 29);
});

test("NCALoss is 0 without same-label rows, with finite gradients", () => {
  assertZeroWithFiniteGrad(new PmlNCALoss(), E.slice(0, 3), { labels: [0, 1, 2] });
  assert.equal(value(new PmlNCALoss(), E.slice(0, 1), { labels: [0] }), 0);
});

test("NCALoss rejects bad input with stable codes", () => {
  assertCode(() => value(new PmlNCALoss(), E, { labels: [] }), "LABEL_MISMATCH");
});
