import { test } from "node:test";
import assert from "node:assert/strict";
import { useTfBackend } from "@likeness/tf";
import { assertClose } from "@likeness/core/testing";
import { distance, OnlineContrastiveLoss } from "@likeness/losses";
import { cyclicLabels, hasCode, lossAndGrad, lossValue, orderInvariance, randomEmbeddings, ref } from "./_test_util.ts";

await useTfBackend("wasm");

const E = randomEmbeddings(10, 4, 21);
const L = [0, 1, 2, 0, 1, 2, 0, 1, 2, 3];
const close = (a: unknown, b: unknown, what: string) => assertClose(a, b, { rtol: 1e-4, atol: 1e-6, what });

function brute(emb: number[][], labels: number[], mining: "all" | "hard", margin: number, d: typeof ref.cos): number {
  const n = emb.length;
  const D = emb.map((a) => emb.map((b) => d(a, b)));
  let ps = 0, pc = 0, ns = 0, nc = 0;
  for (let i = 0; i < n; i++) {
    const pos = [...Array(n).keys()].filter((j) => j !== i && labels[j] === labels[i]).map((j) => D[i][j]);
    const neg = [...Array(n).keys()].filter((j) => labels[j] !== labels[i]).map((j) => D[i][j]);
    if (mining === "all") {
      pos.forEach((v) => (ps += v, pc++));
      neg.forEach((v) => (ns += Math.max(0, margin - v), nc++));
    } else {
      if (pos.length) (ps += Math.max(...pos), pc++);
      if (neg.length) (ns += Math.max(0, margin - Math.min(...neg)), nc++);
    }
  }
  return 0.5 * ((pc ? ps / pc : 0) + (nc ? ns / nc : 0));
}

test("OnlineContrastiveLoss matches a float64 brute force (all, hard; cosine half, euclidean)", () => {
  for (const mining of ["all", "hard"] as const) {
    const v = lossValue(new OnlineContrastiveLoss({ mining }), E, { labels: L });
    close(v, brute(E, L, mining, 0.5, ref.cosHalf), `${mining} cosine`);
    const e = lossValue(new OnlineContrastiveLoss({ mining, margin: 3, distance: distance("euclidean") }), E, {
      labels: L,
    });
    close(e, brute(E, L, mining, 3, ref.euclidean), `${mining} euclidean`);
  }
});

test("OnlineContrastiveLoss never uses the anchor as its own negative (Quaterion's defect)", () => {
  // one class only: no negatives at all, so the negative half is 0 (Quaterion would add margin/2)
  const v = lossValue(new OnlineContrastiveLoss({ mining: "hard", distance: "euclidean" }), [[0, 0], [0, 0]], {
    labels: [0, 0],
  });
  assert.equal(v, 0);
});

test("OnlineContrastiveLoss: batch order, zero when margins hold, chunked equals unchunked", () => {
  for (const mining of ["all", "hard"] as const) {
    orderInvariance(new OnlineContrastiveLoss({ mining }), E, L, close);
    const tight = [[1, 0], [1, 0], [-1, 0], [-1, 0]];
    assert.equal(lossValue(new OnlineContrastiveLoss({ mining }), tight, { labels: [0, 0, 1, 1] }), 0);
    const emb = randomEmbeddings(9, 3, 4);
    const labels = cyclicLabels(9, 3);
    const a = lossAndGrad(new OnlineContrastiveLoss({ mining }), emb, { labels });
    const b = lossAndGrad(new OnlineContrastiveLoss({ mining, chunkRows: 2 }), emb, { labels });
    close(b.value, a.value, `${mining} chunked value`);
    close(b.grad, a.grad, `${mining} chunked grad`);
  }
});

test("OnlineContrastiveLoss: typed errors, finite gradients without pairs", () => {
  const r = lossAndGrad(new OnlineContrastiveLoss(), [[1, 0]], { labels: [0] });
  assert.equal(r.value, 0);
  assert.ok(r.grad.every(Number.isFinite));
  assert.throws(() => lossValue(new OnlineContrastiveLoss(), E, { labels: [1] }), hasCode("LABEL_MISMATCH"));
  assert.throws(() => lossValue(new OnlineContrastiveLoss(), [[Infinity, 0]], { labels: [0] }), hasCode("NON_FINITE"));
  assert.throws(() => new OnlineContrastiveLoss({ mining: "semi_hard" as "all" }), hasCode("UNKNOWN_NAME"));
});
