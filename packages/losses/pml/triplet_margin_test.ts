import { test } from "node:test";
import assert from "node:assert/strict";
import { assertClose } from "@likeness/core/testing";
import { sumReducer } from "../reducers.ts";
import { PmlTripletMarginLoss } from "./triplet_margin.ts";
import {
  allFinite,
  assertCode,
  assertZeroWithFiniteGrad,
  lp64,
  perm,
  permute,
  standardBatch,
  value,
  valueAndGrad,
} from "./_test_util.ts";

const { E, Y } = await standardBatch(1);

function brute(e: number[][], y: number[], margin: number, smooth: boolean, swap: boolean): number {
  const d = lp64(e);
  const losses: number[] = [];
  for (let a = 0; a < e.length; a++) {
    for (let p = 0; p < e.length; p++) {
      if (p === a || y[p] !== y[a]) continue;
      for (let n = 0; n < e.length; n++) {
        if (y[n] === y[a]) continue;
        const an = swap ? Math.min(d[a][n], d[p][n]) : d[a][n];
        const v = d[a][p] - an + margin;
        losses.push(smooth ? Math.log1p(Math.exp(v)) : Math.max(v, 0));
      }
    }
  }
  const nz = losses.filter((v) => v > 0);
  return nz.length ? nz.reduce((s, v) => s + v, 0) / nz.length : 0;
}

test("TripletMarginLoss matches a float64 loop (plain, smooth, swap)", () => {
  for (const [smooth, swap] of [[false, false], [true, false], [false, true]]) {
    const loss = new PmlTripletMarginLoss({ margin: 0.2, smoothLoss: smooth, swap });
    assertClose(value(loss, E, { labels: Y }), brute(E, Y, 0.2, smooth, swap), { rtol: 1e-5, atol: 1e-6 });
  }
});

test("TripletMarginLoss is invariant to batch order and has finite gradients", () => {
  const loss = new PmlTripletMarginLoss({ margin: 0.1 });
  const p = permute(E, Y, perm(3, E.length));
  const a = valueAndGrad(loss, E, { labels: Y });
  assertClose(value(loss, p.e, { labels: p.labels }), a.value, { rtol: 1e-5 });
  assert.ok(allFinite(a.grad));
});

test("TripletMarginLoss is 0 when every margin holds, and 0 without triplets", () => {
  const e = [[1, 0], [1, 0.01], [-1, 0], [-1, 0.01]];
  const loss = new PmlTripletMarginLoss({ margin: 0.05 });
  assert.equal(value(loss, e, { labels: [0, 0, 1, 1] }), 0);
  assertZeroWithFiniteGrad(loss, e, { labels: [0, 1, 2, 3] });
});

test("TripletMarginLoss uses mined triplets only", () => {
  const loss = new PmlTripletMarginLoss({ margin: 0.2 });
  const d = lp64(E);
  const t: [number, number, number][] = [[0, 3, 1], [4, 8, 2]];
  const want = t.map(([a, p, n]) => Math.max(d[a][p] - d[a][n] + 0.2, 0)).filter((v) => v > 0);
  const got = value(loss, E, { labels: Y, indices: { triplets: t } });
  assertClose(got, want.length ? want.reduce((s, v) => s + v) / want.length : 0, { rtol: 1e-5, atol: 1e-6 });
});

test("TripletMarginLoss rejects bad input with stable codes", () => {
  const loss = new PmlTripletMarginLoss();
  assertCode(() => value(loss, E, { labels: [0, 1] }), "LABEL_MISMATCH");
  assertCode(() => value(loss, [[NaN, 1], [0, 1]], { labels: [0, 0] }), "NON_FINITE");
  assertCode(() => value(loss, E, { labels: Y, indices: { triplets: [[0, 1, 99]] } }), "OUT_OF_RANGE");
  assertCode(() => new PmlTripletMarginLoss({ margin: NaN }), "INVALID_ARGUMENT");
});

test("TripletMarginLoss takes another reducer (sum, as pml's reducer argument)", () => {
  const d = lp64(E);
  let sum = 0;
  for (let a = 0; a < Y.length; a++) {
    for (let p = 0; p < Y.length; p++) {
      if (p === a || Y[p] !== Y[a]) continue;
      for (let n = 0; n < Y.length; n++) if (Y[n] !== Y[a]) sum += Math.max(d[a][p] - d[a][n] + 0.2, 0);
    }
  }
  const loss = new PmlTripletMarginLoss({ margin: 0.2, reducer: sumReducer() });
  assertClose(value(loss, E, { labels: Y }), sum, { rtol: 1e-5 });
});
