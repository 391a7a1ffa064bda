import { test } from "node:test";
import { assertClose } from "@likeness/core/testing";
import { PmlNPairsLoss } from "./n_pairs.ts";
import { assertCode, assertZeroWithFiniteGrad, batch, cos64, lse, setup, value } from "./_test_util.ts";

await setup();
const E = batch(10, 9, 4);
const Y = [2, 0, 1, 2, 0, 1, 2, 0, 1];

test("NPairsLoss matches a float64 loop (first anchor and first positive per label)", () => {
  // anchors: first row of each label that has a positive, paired with its first positive
  const pairs: [number, number][] = [];
  const seen = new Set<number>();
  for (let a = 0; a < Y.length; a++) {
    if (seen.has(Y[a])) continue;
    const p = Y.findIndex((v, j) => j !== a && v === Y[a]);
    if (p < 0) continue;
    seen.add(Y[a]);
    pairs.push([a, p]);
  }
  const s = cos64(pairs.map(([a]) => E[a]), pairs.map(([, p]) => E[p]));
  const want = s.reduce((acc, row, i) => acc + lse(row) - row[i], 0) / pairs.length;
  assertClose(value(new PmlNPairsLoss(), E, { labels: Y }), want, { rtol: 1e-5 });
});

test("NPairsLoss does not depend on the order of the labels' first occurrences", () => {
  const e2 = [E[1], E[2], E[0], E[4], E[5], E[3], E[7], E[8], E[6]];
  const y2 = [0, 1, 2, 0, 1, 2, 0, 1, 2];
  assertClose(value(new PmlNPairsLoss(), e2, { labels: y2 }), value(new PmlNPairsLoss(), E, { labels: Y }), {
    rtol: 1e-5,
  });
});

test("NPairsLoss is 0 without positive pairs, with finite gradients", () => {
  assertZeroWithFiniteGrad(new PmlNPairsLoss(), E.slice(0, 3), { labels: [0, 1, 2] });
});

test("NPairsLoss rejects bad input with stable codes", () => {
  assertCode(() => value(new PmlNPairsLoss(), E, { labels: [0, 1] }), "LABEL_MISMATCH");
});
