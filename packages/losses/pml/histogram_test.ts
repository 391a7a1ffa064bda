import { test } from "node:test";
import { assertClose } from "@likeness/core/testing";
import { PmlHistogramLoss } from "./histogram.ts";
import {
  assertCode,
  assertOrderInvariant,
  assertZeroWithFiniteGrad,
  cos64,
  standardBatch,
  value,
} from "./_test_util.ts";

const { E, Y } = await standardBatch(28);

function density(xs: number[], nBins: number): number[] {
  const delta = 2 / nBins;
  const h = new Array(nBins + 1).fill(0);
  for (const x of xs) {
    const r = Math.min(Math.floor((x + 1) / delta), nBins - 1);
    h[r] += ((r + 1) * delta - 1 - x) / delta;
    h[r + 1] += (x + 1 - r * delta) / delta;
  }
  return h.map((v) => v / xs.length);
}

function brute(e: number[][], y: number[], nBins: number): number {
  const s = cos64(e);
  const ap: number[] = [];
  const an: number[] = [];
  // each distinct unordered pair once (every positive pair and every negative pair occurs in a triplet here)
  for (let i = 0; i < y.length; i++) {
    for (let j = i + 1; j < y.length; j++) (y[i] === y[j] ? ap : an).push(s[i][j]);
  }
  const hp = density(ap, nBins);
  const hn = density(an, nBins);
  let cdf = 0;
  let loss = 0;
  for (let r = 0; r <= nBins; r++) {
    cdf += hp[r];
    loss += hn[r] * cdf;
  }
  return loss;
}

test("HistogramLoss matches a float64 loop", () => {
  for (const b of [100, 7]) {
    assertClose(value(new PmlHistogramLoss({ nBins: b }), E, { labels: Y }), brute(E, Y, b), { rtol: 1e-5 });
  }
  assertClose(value(new PmlHistogramLoss({ delta: 0.5 }), E, { labels: Y }), brute(E, Y, 4), { rtol: 1e-5 });
});

test("HistogramLoss is invariant to batch order", () => {
  const loss = new PmlHistogramLoss();
  assertOrderInvariant(loss, E, Y, 71);
});

test("HistogramLoss is 0 when every positive is more similar than every negative, and without triplets", () => {
  const e = [[1, 0], [1, 0.01], [-1, 0], [-1, 0.01]];
  assertClose(value(new PmlHistogramLoss(), e, { labels: [0, 0, 1, 1] }), 0, { atol: 1e-7 });
  assertZeroWithFiniteGrad(new PmlHistogramLoss(), E.slice(0, 3), { labels: [0, 1, 2] });
});

test("HistogramLoss rejects bad input with stable codes", () => {
  assertCode(() => new PmlHistogramLoss({ nBins: 10, delta: 0.2 }), "INVALID_ARGUMENT");
  assertCode(() => new PmlHistogramLoss({ nBins: 0 }), "INVALID_ARGUMENT");
  assertCode(() => value(new PmlHistogramLoss(), E, { labels: [0] }), "LABEL_MISMATCH");
});
