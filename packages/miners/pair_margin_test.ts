import { test } from "node:test";
import assert from "node:assert/strict";
import { equalLabels, type Label, type LabelMatcher, sharesAnyLabel } from "@likeness/core";
import { PairMarginMiner } from "@likeness/miners";
import { tf, useTfBackend } from "@likeness/tf";
import { distance } from "@likeness/losses";
import { bruteDist, keys, positives, randomMatrix } from "./_testing.ts";

function brute(d: number[][], labels: Label[], posMargin: number, negMargin: number, match: LabelMatcher, sim = false) {
  const pos = positives(labels, match);
  const p: number[][] = [];
  const n: number[][] = [];
  for (let a = 0; a < d.length; a++) {
    for (let j = 0; j < d.length; j++) {
      if (j === a) continue;
      if (pos(a, j)) {
        if (sim ? d[a][j] < posMargin : d[a][j] > posMargin) p.push([a, j]);
      } else if (sim ? d[a][j] > negMargin : d[a][j] < negMargin) n.push([a, j]);
    }
  }
  return { p, n };
}

test("PairMarginMiner matches a brute-force loop", async () => {
  const emb = randomMatrix(16, 4, 5);
  const labels = Array.from({ length: 16 }, (_, i) => i % 4);
  const got = await new PairMarginMiner({ posMargin: 1.1, negMargin: 1.2 }).mine(emb, labels);
  const want = brute(bruteDist(emb, "lp"), labels, 1.1, 1.2, equalLabels);
  assert.ok(want.p.length > 0 && want.n.length > 0);
  assert.deepEqual(keys(got.positivePairs), keys(want.p));
  assert.deepEqual(keys(got.negativePairs), keys(want.n));
});

test("PairMarginMiner on cosine similarity flips the comparisons, multi-label", async () => {
  const emb = randomMatrix(12, 3, 9);
  const labels: Label[] = [[0], [0, 1], [1], [2], [2, 0], [1], [3], [3, 2], [0], [1], [2], [3]];
  const miner = new PairMarginMiner({
    posMargin: 0.3,
    negMargin: 0.1,
    distance: { metric: "cosine", normalize: true },
  });
  const got = await miner.mine(emb, labels, { match: sharesAnyLabel });
  const want = brute(bruteDist(emb, "cos"), labels, 0.3, 0.1, sharesAnyLabel, true);
  assert.ok(want.p.length > 0 && want.n.length > 0);
  assert.deepEqual(keys(got.positivePairs), keys(want.p));
  assert.deepEqual(keys(got.negativePairs), keys(want.n));
});

test("PairMarginMiner with a Distance object from @likeness/losses and a tensor input", async () => {
  await useTfBackend("wasm");
  const emb = randomMatrix(10, 4, 2);
  const labels = [0, 1, 2, 0, 1, 2, 0, 1, 2, 0];
  const t = tf.tensor2d(emb.data, [10, 4]);
  const miner = new PairMarginMiner({
    posMargin: 1.1,
    negMargin: 1.2,
    distance: distance("euclidean", { normalize: true }),
  });
  const got = await miner.mine(t, labels);
  t.dispose();
  const want = brute(bruteDist(emb, "lp"), labels, 1.1, 1.2, equalLabels);
  assert.deepEqual(keys(got.positivePairs), keys(want.p));
  assert.deepEqual(keys(got.negativePairs), keys(want.n));
});
