import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "@likeness/tf";
import { assertClose } from "@likeness/core/testing";
import { PmlMarginLoss } from "./margin.ts";
import {
  assertCode,
  assertOrderInvariant,
  assertZeroWithFiniteGrad,
  lp64,
  standardBatch,
  value,
} from "./_test_util.ts";

const { E, Y } = await standardBatch(9);

function brute(e: number[][], y: number[], margin: number, beta: number): number {
  const d = lp64(e);
  let sum = 0;
  let count = 0;
  for (let a = 0; a < y.length; a++) {
    for (let p = 0; p < y.length; p++) {
      if (p === a || y[p] !== y[a]) continue;
      for (let n = 0; n < y.length; n++) {
        if (y[n] === y[a]) continue;
        const pl = Math.max(d[a][p] - beta + margin, 0);
        const nl = Math.max(beta - d[a][n] + margin, 0);
        sum += pl + nl;
        count += (pl > 0 ? 1 : 0) + (nl > 0 ? 1 : 0);
      }
    }
  }
  return count ? sum / count : 0;
}

test("MarginLoss matches a float64 loop", () => {
  for (const [m, b] of [[0.2, 1.2], [0.1, 0.8]]) {
    const loss = new PmlMarginLoss({ margin: m, beta: b });
    assertClose(value(loss, E, { labels: Y }), brute(E, Y, m, b), { rtol: 1e-5 });
  }
});

test("MarginLoss is invariant to batch order", () => {
  const loss = new PmlMarginLoss();
  assertOrderInvariant(loss, E, Y, 23);
});

test("MarginLoss learns beta: a trainable variable with a gradient, plus nu * beta", () => {
  const loss = new PmlMarginLoss({ learnBeta: true, nu: 0.1 });
  const vars = loss.trainableVariables();
  assert.equal(vars.length, 1);
  const x = tf.tensor2d(E);
  const { value: v, grads } = tf.variableGrads(() => loss.compute(x, { labels: Y }), vars);
  assertClose(v.dataSync()[0], brute(E, Y, 0.2, 1.2) + 0.12, { rtol: 1e-5 });
  assert.ok(Math.abs(grads[vars[0].name].dataSync()[0]) > 0);
  assert.equal(new PmlMarginLoss().trainableVariables().length, 0);
  const perClass = new PmlMarginLoss({ learnBeta: true, numClasses: 3 });
  assert.deepEqual(perClass.trainableVariables()[0].shape, [3]);
  assertClose(value(perClass, E, { labels: Y }), brute(E, Y, 0.2, 1.2), { rtol: 1e-5 });
  // per-class β regulariser: ν Σ_triplets β_y divided by the same divisor as the margin terms
  const d = lp64(E);
  let count = 0;
  let triplets = 0;
  for (let a = 0; a < Y.length; a++) {
    for (let p = 0; p < Y.length; p++) {
      if (p === a || Y[p] !== Y[a]) continue;
      for (let n = 0; n < Y.length; n++) {
        if (Y[n] === Y[a]) continue;
        triplets++;
        count += (d[a][p] - 1.2 + 0.2 > 0 ? 1 : 0) + (1.2 - d[a][n] + 0.2 > 0 ? 1 : 0);
      }
    }
  }
  const reg = new PmlMarginLoss({ learnBeta: true, numClasses: 3, nu: 0.1 });
  assertClose(value(reg, E, { labels: Y }), brute(E, Y, 0.2, 1.2) + (0.1 * 1.2 * triplets) / count, { rtol: 1e-5 });
  assertCode(() => value(perClass, E, { labels: Y.map((v) => v + 1) }), "OUT_OF_RANGE");
});

test("MarginLoss is 0 without triplets and when margins hold", () => {
  assertZeroWithFiniteGrad(new PmlMarginLoss(), E.slice(0, 3), { labels: [0, 1, 2] });
  const e = [[1, 0], [1, 0], [-1, 0], [-1, 0]];
  assert.equal(value(new PmlMarginLoss({ beta: 1, margin: 0.2 }), e, { labels: [0, 0, 1, 1] }), 0);
});

test("MarginLoss rejects bad input with stable codes", () => {
  assertCode(() => new PmlMarginLoss({ numClasses: 0 }), "INVALID_ARGUMENT");
  assertCode(() => value(new PmlMarginLoss(), E, { labels: [1] }), "LABEL_MISMATCH");
});
