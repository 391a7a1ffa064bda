import { test } from "node:test";
import assert from "node:assert/strict";
import { assertClose } from "@likeness/core/testing";
import { distance } from "../distances.ts";
import { PmlContrastiveLoss } from "./contrastive.ts";
import {
  assertCode,
  assertOrderInvariant,
  assertZeroWithFiniteGrad,
  cos64,
  lp64,
  standardBatch,
  value,
} from "./_test_util.ts";

const { E, Y } = await standardBatch(2);
const avgNz = (xs: number[]) => {
  const nz = xs.filter((v) => v > 0);
  return nz.length ? nz.reduce((s, v) => s + v, 0) / nz.length : 0;
};

function brute(d: number[][], y: number[], pos: (v: number) => number, neg: (v: number) => number): number {
  const p: number[] = [];
  const n: number[] = [];
  for (let i = 0; i < y.length; i++) {
    for (let j = 0; j < y.length; j++) {
      if (i === j) continue;
      if (y[i] === y[j]) p.push(pos(d[i][j]));
      else n.push(neg(d[i][j]));
    }
  }
  return avgNz(p) + avgNz(n);
}

test("ContrastiveLoss matches a float64 loop (L2 and cosine similarity)", () => {
  const l2 = new PmlContrastiveLoss({ posMargin: 0.3, negMargin: 1.2 });
  const want = brute(lp64(E), Y, (v) => Math.max(v - 0.3, 0), (v) => Math.max(1.2 - v, 0));
  assertClose(value(l2, E, { labels: Y }), want, { rtol: 1e-5, atol: 1e-6 });
  const cos = new PmlContrastiveLoss({
    posMargin: 1,
    negMargin: 0,
    distance: distance("cosine", { kind: "similarity" }),
  });
  const want2 = brute(cos64(E), Y, (v) => Math.max(1 - v, 0), (v) => Math.max(v, 0));
  assertClose(value(cos, E, { labels: Y }), want2, { rtol: 1e-5, atol: 1e-6 });
});

test("ContrastiveLoss is invariant to batch order", () => {
  const loss = new PmlContrastiveLoss();
  assertOrderInvariant(loss, E, Y, 5);
});

test("ContrastiveLoss is 0 when margins hold and without pairs, with finite gradients", () => {
  const e = [[1, 0], [1, 0], [-1, 0], [-1, 0]];
  const loss = new PmlContrastiveLoss({ posMargin: 0, negMargin: 1 });
  assertZeroWithFiniteGrad(loss, e, { labels: [0, 0, 1, 1] });
  assert.equal(value(loss, [[1, 0]], { labels: [0] }), 0);
});

test("ContrastiveLoss supports a multi-label matcher", () => {
  const loss = new PmlContrastiveLoss();
  const labels = [[0, 1], [1], [2], [2, 0]];
  const e = E.slice(0, 4);
  const match = (a: unknown, b: unknown) => (a as number[]).some((x) => (b as number[]).includes(x));
  const d = lp64(e);
  const p: number[] = [];
  const n: number[] = [];
  for (let i = 0; i < 4; i++) {
    for (let j = 0; j < 4; j++) {
      if (i === j) continue;
      if (match(labels[i], labels[j])) p.push(d[i][j]);
      else n.push(Math.max(1 - d[i][j], 0));
    }
  }
  assertClose(value(loss, e, { labels, match }), avgNz(p) + avgNz(n), { rtol: 1e-5, atol: 1e-6 });
});

test("ContrastiveLoss rejects bad input with stable codes", () => {
  const loss = new PmlContrastiveLoss();
  assertCode(() => value(loss, E, { labels: [0] }), "LABEL_MISMATCH");
  assertCode(() => value(loss, [[Infinity, 1], [0, 1]], { labels: [0, 0] }), "NON_FINITE");
  assertCode(() => value(loss, E, {}), "INVALID_ARGUMENT"); // missing labels: one code in every family
});
