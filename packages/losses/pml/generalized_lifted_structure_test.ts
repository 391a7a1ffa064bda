import { test } from "node:test";
import { assertClose } from "@likeness/core/testing";
import { PmlGeneralizedLiftedStructureLoss } from "./generalized_lifted_structure.ts";
import {
  assertCode,
  assertOrderInvariant,
  assertZeroWithFiniteGrad,
  lp64,
  lse,
  standardBatch,
  value,
} from "./_test_util.ts";

const { E, Y } = await standardBatch(8);

function brute(e: number[][], y: number[], negM: number, posM: number): number {
  const d = lp64(e);
  let total = 0;
  for (let a = 0; a < y.length; a++) {
    const p: number[] = [];
    const n: number[] = [];
    for (let j = 0; j < y.length; j++) {
      if (j === a) continue;
      if (y[j] === y[a]) p.push(d[a][j] - posM);
      else n.push(negM - d[a][j]);
    }
    total += Math.max((p.length ? lse(p) : 0) + (n.length ? lse(n) : 0), 0);
  }
  return total / y.length;
}

test("GeneralizedLiftedStructureLoss matches a float64 loop", () => {
  for (const [n, p] of [[1, 0], [0.6, 0.2]]) {
    const loss = new PmlGeneralizedLiftedStructureLoss({ negMargin: n, posMargin: p });
    assertClose(value(loss, E, { labels: Y }), brute(E, Y, n, p), { rtol: 1e-5 });
  }
});

test("GeneralizedLiftedStructureLoss is invariant to batch order", () => {
  const loss = new PmlGeneralizedLiftedStructureLoss();
  assertOrderInvariant(loss, E, Y, 19);
});

test("GeneralizedLiftedStructureLoss is 0 when margins hold, with finite gradients", () => {
  const e = [[1, 0], [1, 0], [-1, 0], [-1, 0]];
  assertZeroWithFiniteGrad(new PmlGeneralizedLiftedStructureLoss({ negMargin: 1, posMargin: 0.5 }), e, {
    labels: [0, 0, 1, 1],
  });
});

test("GeneralizedLiftedStructureLoss rejects bad input with stable codes", () => {
  assertCode(() => value(new PmlGeneralizedLiftedStructureLoss(), [[NaN]], { labels: [0] }), "NON_FINITE");
});
