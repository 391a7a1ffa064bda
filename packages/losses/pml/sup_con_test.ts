import { test } from "node:test";
import { assertClose } from "@likeness/core/testing";
import { PmlSupConLoss } from "./sup_con.ts";
import {
  assertCode,
  assertOrderInvariant,
  assertZeroWithFiniteGrad,
  batch,
  cos64,
  groups,
  lse,
  setup,
  value,
} from "./_test_util.ts";

await setup();
const E = batch(5, 12, 4);
const Y = [...groups(3, 4).slice(0, 11), 7]; // row 11 has no positive

function brute(e: number[][], y: number[], t: number): number {
  const s = cos64(e);
  const losses: number[] = [];
  for (let a = 0; a < y.length; a++) {
    const others = y.map((_v, j) => j).filter((j) => j !== a);
    const denom = lse(others.map((j) => s[a][j] / t));
    const pos = others.filter((j) => y[j] === y[a]);
    if (pos.length === 0) continue;
    losses.push(-pos.reduce((acc, p) => acc + s[a][p] / t - denom, 0) / pos.length);
  }
  const nz = losses.filter((v) => v > 0);
  return nz.reduce((x, v) => x + v, 0) / nz.length;
}

test("SupConLoss matches a float64 loop", () => {
  for (const t of [0.1, 0.7]) {
    const loss = new PmlSupConLoss({ temperature: t });
    assertClose(value(loss, E, { labels: Y }), brute(E, Y, t), { rtol: 1e-5 });
  }
});

test("SupConLoss is invariant to batch order", () => {
  const loss = new PmlSupConLoss();
  assertOrderInvariant(loss, E, Y, 11);
});

test("SupConLoss is 0 without positives, with finite gradients", () => {
  assertZeroWithFiniteGrad(new PmlSupConLoss(), E.slice(0, 4), { labels: [0, 1, 2, 3] });
});

test("SupConLoss rejects bad input with stable codes", () => {
  assertCode(() => new PmlSupConLoss({ temperature: -1 }), "INVALID_ARGUMENT");
  assertCode(() => value(new PmlSupConLoss(), [[0, NaN]], { labels: [0] }), "NON_FINITE");
});
