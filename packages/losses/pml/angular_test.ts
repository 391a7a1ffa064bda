import { test } from "node:test";
import { assertClose } from "@likeness/core/testing";
import { PmlAngularLoss } from "./angular.ts";
import {
  assertCode,
  assertOrderInvariant,
  assertZeroWithFiniteGrad,
  standardBatch,
  unit,
  value,
} from "./_test_util.ts";

const { E, Y } = await standardBatch(27);

function brute(e: number[][], y: number[], alphaDeg: number): number {
  const u = e.map(unit);
  const t2 = Math.tan((alphaDeg * Math.PI) / 180) ** 2;
  const dot = (a: number[], b: number[]) => a.reduce((s, v, k) => s + v * b[k], 0);
  const out: number[] = [];
  for (let a = 0; a < y.length; a++) {
    for (let p = 0; p < y.length; p++) {
      if (p === a || y[p] !== y[a]) continue;
      let s = 1;
      for (let n = 0; n < y.length; n++) {
        if (y[n] === y[a]) continue;
        // pml: anchor and positive normalised, the negative as given
        s += Math.exp(4 * t2 * dot(u[a].map((v, k) => v + u[p][k]), e[n]) - 2 * (1 + t2) * dot(u[a], u[p]));
      }
      out.push(Math.log(s));
    }
  }
  return out.reduce((x, v) => x + v, 0) / out.length;
}

test("AngularLoss matches a float64 loop (pml: negatives not normalised)", () => {
  for (const a of [40, 30]) {
    assertClose(value(new PmlAngularLoss({ alpha: a }), E, { labels: Y }), brute(E, Y, a), { rtol: 1e-5 });
  }
});

test("AngularLoss is invariant to batch order", () => {
  const loss = new PmlAngularLoss();
  assertOrderInvariant(loss, E, Y, 67);
});

test("AngularLoss is 0 without positive or negative pairs, with finite gradients", () => {
  assertZeroWithFiniteGrad(new PmlAngularLoss(), E.slice(0, 3), { labels: [0, 1, 2] });
});

test("AngularLoss rejects bad input with stable codes", () => {
  assertCode(() => value(new PmlAngularLoss(), E, { labels: [0] }), "LABEL_MISMATCH");
});
