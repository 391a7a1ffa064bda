import { test } from "node:test";
import assert from "node:assert/strict";
import { useTfBackend } from "@likeness/tf";
import { assertClose } from "@likeness/core/testing";
import { distance, TripletLoss } from "@likeness/losses";
import { cyclicLabels, hasCode, lossAndGrad, lossValue, permutation, randomEmbeddings, ref } from "./_test_util.ts";

await useTfBackend("wasm");

const E = randomEmbeddings(10, 4, 3);
const L = [0, 1, 2, 0, 1, 2, 0, 1, 2, 3]; // label 3 has no positive

/** Brute-force triplet loss in float64 (likeness definitions). */
function bruteTriplet(
  emb: number[][],
  labels: number[],
  mining: "all" | "hard" | "semi_hard",
  margin: number,
  soft: boolean,
  d: (a: number[], b: number[]) => number,
): number {
  const n = emb.length;
  const D = emb.map((a) => emb.map((b) => d(a, b)));
  const isPos = (i: number, j: number) => i !== j && labels[i] === labels[j];
  const isNeg = (i: number, j: number) => labels[i] !== labels[j];
  if (mining === "all") {
    let sum = 0;
    let count = 0;
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        for (let k = 0; k < n; k++) {
          if (!isPos(i, j) || !isNeg(i, k)) continue;
          const l = Math.max(0, D[i][j] - D[i][k] + margin);
          sum += l;
          if (l > 1e-16) count++;
        }
      }
    }
    return sum / (count + 1e-16);
  }
  if (mining === "hard") {
    const rows: { hp: number; hn: number }[] = [];
    for (let i = 0; i < n; i++) {
      let hp = -Infinity;
      let hn = Infinity;
      for (let j = 0; j < n; j++) {
        if (isPos(i, j)) hp = Math.max(hp, D[i][j]);
        if (isNeg(i, j)) hn = Math.min(hn, D[i][j]);
      }
      if (hp > -Infinity && hn < Infinity) rows.push({ hp, hn });
    }
    if (rows.length === 0) return 0;
    const meanHn = rows.reduce((s, r) => s + r.hn, 0) / rows.length;
    const ls = rows.map((r) => soft ? Math.log1p(Math.exp(r.hp - r.hn)) : Math.max(0, (r.hp - r.hn) / meanHn + margin));
    return ls.reduce((a, b) => a + b, 0) / ls.length;
  }
  let sum = 0;
  let count = 0;
  for (let i = 0; i < n; i++) {
    const negs = [...Array(n).keys()].filter((k) => isNeg(i, k)).map((k) => D[i][k]);
    if (negs.length === 0) continue;
    for (let j = 0; j < n; j++) {
      if (!isPos(i, j)) continue;
      const farther = negs.filter((v) => v > D[i][j]);
      const chosen = farther.length ? Math.min(...farther) : Math.max(...negs);
      sum += Math.max(0, D[i][j] - chosen + margin);
      count++;
    }
  }
  return count ? sum / count : 0;
}

const CASES = [
  { mining: "all", soft: false },
  { mining: "hard", soft: false },
  { mining: "hard", soft: true },
  { mining: "semi_hard", soft: false },
] as const;

test("TripletLoss matches a float64 brute force for every mining (cosine half and euclidean)", () => {
  for (const { mining, soft } of CASES) {
    for (const [dist, fn, margin] of [["cosine", ref.cosHalf, 0.5], ["euclidean", ref.euclidean, 1]] as const) {
      const d = dist === "cosine" ? distance("cosine", { scale: "half" }) : distance("euclidean");
      const v = lossValue(new TripletLoss({ mining, soft, margin, distance: d }), E, { labels: L });
      const want = bruteTriplet(E, L, mining, margin, soft, fn);
      assertClose(v, want, { rtol: 1e-4, atol: 1e-5, what: `${mining}${soft ? "/soft" : ""}/${dist}` });
    }
  }
});

test("TripletLoss is invariant to batch order (value and permuted gradient)", () => {
  const p = permutation(E.length);
  for (const { mining, soft } of CASES) {
    const loss = new TripletLoss({ mining, soft });
    const a = lossAndGrad(loss, E, { labels: L });
    const b = lossAndGrad(loss, p.map((i) => E[i]), { labels: p.map((i) => L[i]) });
    assertClose(b.value, a.value, { rtol: 1e-5, atol: 1e-6, what: mining });
    const d = E[0].length;
    const back = new Array(a.grad.length);
    p.forEach((src, dst) => {
      for (let k = 0; k < d; k++) back[src * d + k] = b.grad[dst * d + k];
    });
    assertClose(back, a.grad, { rtol: 1e-4, atol: 1e-6, what: `${mining} grad` });
  }
});

test("TripletLoss is 0 when every margin holds", () => {
  // two tight, far-apart clusters
  const emb = [[1, 0.01], [1, -0.01], [-1, 0.01], [-1, -0.01]];
  for (const mining of ["all", "semi_hard"] as const) {
    assert.equal(lossValue(new TripletLoss({ mining, margin: 0.2 }), emb, { labels: [0, 0, 1, 1] }), 0);
  }
  // hard mining normalises by the mean negative distance; margins hold by a wide gap
  assert.equal(lossValue(new TripletLoss({ mining: "hard", margin: 0.2 }), emb, { labels: [0, 0, 1, 1] }), 0);
});

test("TripletLoss chunked equals unchunked (value and gradient)", () => {
  const emb = randomEmbeddings(11, 5, 9);
  const labels = cyclicLabels(11, 3);
  for (const { mining, soft } of CASES) {
    const a = lossAndGrad(new TripletLoss({ mining, soft }), emb, { labels });
    const b = lossAndGrad(new TripletLoss({ mining, soft, chunkRows: 4 }), emb, { labels });
    assertClose(b.value, a.value, { rtol: 1e-5, atol: 1e-6, what: `${mining} value` });
    assertClose(b.grad, a.grad, { rtol: 1e-4, atol: 1e-6, what: `${mining} grad` });
  }
});

test("TripletLoss: no valid triplet gives 0, not NaN; gradients stay finite", () => {
  for (const { mining, soft } of CASES) {
    const single = lossAndGrad(new TripletLoss({ mining, soft }), [[1, 0], [0, 1]], { labels: [0, 1] });
    assert.equal(single.value, 0, `${mining}: no positives`);
    assert.ok(single.grad.every(Number.isFinite));
    const same = lossAndGrad(new TripletLoss({ mining, soft }), [[1, 0], [1, 0]], { labels: [0, 0] });
    assert.equal(same.value, 0, `${mining}: no negatives`);
    assert.ok(same.grad.every(Number.isFinite));
  }
});

test("TripletLoss rejects bad input with typed errors", () => {
  const loss = new TripletLoss();
  assert.throws(() => lossValue(loss, E, { labels: [0, 1] }), hasCode("LABEL_MISMATCH"));
  assert.throws(() => lossValue(loss, [[1, NaN], [0, 1]], { labels: [0, 1] }), hasCode("NON_FINITE"));
  assert.throws(() => lossValue(loss, E, {}), hasCode("INVALID_ARGUMENT"));
  assert.throws(() => new TripletLoss({ mining: "semi-hard" as "hard" }), hasCode("UNKNOWN_NAME"));
  // pml's spelling is a documented alias of Quaterion's semi_hard
  assert.equal(new TripletLoss({ mining: "semihard" as "semi_hard" }).mining, "semi_hard");
  assert.throws(() => new TripletLoss({ chunkRows: 0 }).compute(undefined as never, { labels: [] }));
  assert.throws(() => lossValue(new TripletLoss({ chunkRows: 0 }), E, { labels: L }), hasCode("INVALID_ARGUMENT"));
});
