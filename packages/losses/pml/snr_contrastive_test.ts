import { test } from "node:test";
import { assertClose } from "@likeness/core/testing";
import { PmlSignalToNoiseRatioContrastiveLoss } from "./snr_contrastive.ts";
import {
  assertCode,
  assertOrderInvariant,
  assertZeroWithFiniteGrad,
  batch,
  groups,
  setup,
  unit,
  value,
} from "./_test_util.ts";

await setup();
const E = batch(13, 12, 5);
const Y = groups(3, 4);

function variance(x: number[]): number {
  const m = x.reduce((s, v) => s + v, 0) / x.length;
  return x.reduce((s, v) => s + (v - m) ** 2, 0);
}

function brute(e: number[][], y: number[], posM: number, negM: number): number {
  const u = e.map(unit);
  const p: number[] = [];
  const n: number[] = [];
  for (let i = 0; i < y.length; i++) {
    for (let j = 0; j < y.length; j++) {
      if (i === j) continue;
      const d = variance(u[i].map((v, k) => v - u[j][k])) / variance(u[i]);
      if (y[i] === y[j]) p.push(Math.max(d - posM, 0));
      else n.push(Math.max(negM - d, 0));
    }
  }
  const avg = (xs: number[]) => {
    const nz = xs.filter((v) => v > 0);
    return nz.length ? nz.reduce((s, v) => s + v, 0) / nz.length : 0;
  };
  return avg(p) + avg(n);
}

test("SignalToNoiseRatioContrastiveLoss matches a float64 loop", () => {
  for (const [p, n] of [[0, 1], [0.2, 1.5]]) {
    const loss = new PmlSignalToNoiseRatioContrastiveLoss({ posMargin: p, negMargin: n });
    assertClose(value(loss, E, { labels: Y }), brute(E, Y, p, n), { rtol: 1e-5 });
  }
});

test("SignalToNoiseRatioContrastiveLoss is invariant to batch order", () => {
  const loss = new PmlSignalToNoiseRatioContrastiveLoss();
  assertOrderInvariant(loss, E, Y, 37);
});

test("SignalToNoiseRatioContrastiveLoss is 0 without pairs, with finite gradients", () => {
  assertZeroWithFiniteGrad(new PmlSignalToNoiseRatioContrastiveLoss(), E.slice(0, 1), { labels: [0] });
});

test("SignalToNoiseRatioContrastiveLoss rejects bad input with stable codes", () => {
  assertCode(() => value(new PmlSignalToNoiseRatioContrastiveLoss(), E, { labels: [0, 1, 2] }), "LABEL_MISMATCH");
});
