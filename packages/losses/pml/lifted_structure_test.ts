import { test } from "node:test";
import assert from "node:assert/strict";
import { assertClose } from "@likeness/core/testing";
import { PmlLiftedStructureLoss } from "./lifted_structure.ts";
import {
  assertCode,
  assertOrderInvariant,
  assertZeroWithFiniteGrad,
  lp64,
  lse,
  standardBatch,
  value,
} from "./_test_util.ts";

const { E, Y } = await standardBatch(7);

function brute(e: number[][], y: number[], negM: number, posM: number): number {
  const d = lp64(e);
  const losses: number[] = [];
  for (let a = 0; a < y.length; a++) {
    for (let p = 0; p < y.length; p++) {
      if (p === a || y[p] !== y[a]) continue;
      const negs: number[] = [];
      for (const i of [a, p]) for (let k = 0; k < y.length; k++) if (y[k] !== y[i]) negs.push(negM - d[i][k]);
      losses.push(Math.max(lse(negs) + d[a][p] - posM, 0) ** 2 / 2);
    }
  }
  return losses.reduce((x, v) => x + v, 0) / losses.length;
}

test("LiftedStructureLoss matches a float64 loop", () => {
  for (const [n, p] of [[1, 0], [0.5, 0.1]]) {
    const loss = new PmlLiftedStructureLoss({ negMargin: n, posMargin: p });
    assertClose(value(loss, E, { labels: Y }), brute(E, Y, n, p), { rtol: 1e-5 });
  }
});

test("LiftedStructureLoss is invariant to batch order", () => {
  const loss = new PmlLiftedStructureLoss();
  assertOrderInvariant(loss, E, Y, 17);
});

test("LiftedStructureLoss is 0 when margins hold and without negatives", () => {
  const e = [[1, 0], [1, 0], [-1, 0], [-1, 0]];
  // d(a,p) = 0, d(a,n) = 2: lse over 4 negatives of (negMargin - 2) = log 4 + (negMargin - 2) < 0 for negMargin 0.5
  assert.equal(value(new PmlLiftedStructureLoss({ negMargin: 0.5 }), e, { labels: [0, 0, 1, 1] }), 0);
  assertZeroWithFiniteGrad(new PmlLiftedStructureLoss(), e, { labels: [0, 0, 0, 0] });
});

test("LiftedStructureLoss rejects bad input with stable codes", () => {
  assertCode(() => value(new PmlLiftedStructureLoss(), E, { labels: [0, 1] }), "LABEL_MISMATCH");
});
