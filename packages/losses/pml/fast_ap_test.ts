import { test } from "node:test";
import { assertClose } from "@likeness/core/testing";
import { PmlFastAPLoss } from "./fast_ap.ts";
import {
  assertCode,
  assertOrderInvariant,
  assertZeroWithFiniteGrad,
  lp64,
  standardBatch,
  value,
} from "./_test_util.ts";

const { E, Y } = await standardBatch(12);

function brute(e: number[][], y: number[], bins: number): number {
  const d = lp64(e, 2);
  const delta = 4 / bins;
  const out: number[] = [];
  for (let i = 0; i < y.length; i++) {
    const pos = new Array(bins + 1).fill(0);
    const all = new Array(bins + 1).fill(0);
    let nPos = 0;
    for (let j = 0; j < y.length; j++) {
      if (j === i) continue;
      if (y[j] === y[i]) nPos++;
      for (let k = 0; k <= bins; k++) {
        const w = Math.max(1 - Math.abs(d[i][j] - k * delta) / delta, 0);
        all[k] += w;
        if (y[j] === y[i]) pos[k] += w;
      }
    }
    if (!nPos) continue;
    let cp = 0;
    let ca = 0;
    let ap = 0;
    for (let k = 0; k <= bins; k++) {
      cp += pos[k];
      ca += all[k];
      if (pos[k] * cp > 0 && ca > 0) ap += (pos[k] * cp) / ca;
    }
    out.push(1 - ap / nPos);
  }
  return out.reduce((x, v) => x + v, 0) / out.length;
}

test("FastAPLoss matches a float64 loop", () => {
  for (const b of [10, 4]) {
    assertClose(value(new PmlFastAPLoss({ numBins: b }), E, { labels: Y }), brute(E, Y, b), { rtol: 1e-5 });
  }
});

test("FastAPLoss is invariant to batch order", () => {
  const loss = new PmlFastAPLoss();
  assertOrderInvariant(loss, E, Y, 31);
});

test("FastAPLoss is 0 for perfectly ranked batches and without positives", () => {
  const e = [[1, 0], [1, 0], [-1, 0], [-1, 0]];
  assertClose(value(new PmlFastAPLoss(), e, { labels: [0, 0, 1, 1] }), 0, { atol: 1e-6 });
  assertZeroWithFiniteGrad(new PmlFastAPLoss(), E.slice(0, 3), { labels: [0, 1, 2] });
});

test("FastAPLoss rejects bad input with stable codes", () => {
  assertCode(() => new PmlFastAPLoss({ numBins: 0 }), "INVALID_ARGUMENT");
  assertCode(() => value(new PmlFastAPLoss(), E, { labels: [0] }), "LABEL_MISMATCH");
});
