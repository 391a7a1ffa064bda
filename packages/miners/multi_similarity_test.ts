import { test } from "node:test";
import assert from "node:assert/strict";
import { equalLabels, type Label, type LabelMatcher, sharesAnyLabel } from "@likeness/core";
import { MultiSimilarityMiner } from "@likeness/miners";
import { bruteDist, keys, positives, randomMatrix } from "./_testing.ts";

function brute(s: number[][], labels: Label[], eps: number, match: LabelMatcher) {
  const pos = positives(labels, match);
  const p: number[][] = [];
  const n: number[][] = [];
  for (let a = 0; a < s.length; a++) {
    const ps = s[a].filter((_, j) => pos(a, j));
    const ns = s[a].filter((_, j) => j !== a && !pos(a, j));
    for (let j = 0; j < s.length; j++) {
      if (j === a) continue;
      if (pos(a, j)) {
        if (ns.length && s[a][j] - eps < Math.max(...ns)) p.push([a, j]);
      } else if (ps.length && s[a][j] + eps > Math.min(...ps)) n.push([a, j]);
    }
  }
  return { p, n };
}

test("MultiSimilarityMiner (cosine similarity default) matches a brute-force loop", async () => {
  const emb = randomMatrix(16, 4, 11);
  const labels = Array.from({ length: 16 }, (_, i) => i % 5);
  const got = await new MultiSimilarityMiner({ epsilon: 0.1 }).mine(emb, labels);
  const want = brute(bruteDist(emb, "cos"), labels, 0.1, equalLabels);
  assert.ok(want.p.length > 0 && want.n.length > 0);
  assert.deepEqual(keys(got.positivePairs), keys(want.p));
  assert.deepEqual(keys(got.negativePairs), keys(want.n));
});

test("MultiSimilarityMiner with a multi-label matcher; an anchor without positives mines nothing", async () => {
  const emb = randomMatrix(9, 3, 4);
  const labels: Label[] = [[0, 1], [1], [0], [2], [2, 1], [3], [3, 0], [4], [1]];
  const got = await new MultiSimilarityMiner({ epsilon: 0.2 }).mine(emb, labels, { match: sharesAnyLabel });
  const want = brute(bruteDist(emb, "cos"), labels, 0.2, sharesAnyLabel);
  assert.deepEqual(keys(got.positivePairs), keys(want.p));
  assert.deepEqual(keys(got.negativePairs), keys(want.n));
  assert.ok(got.negativePairs!.every(([a]) => a !== 7));
});

test("MultiSimilarityMiner: a batch of one class has no pairs", async () => {
  const got = await new MultiSimilarityMiner().mine(randomMatrix(4, 2, 1), [1, 1, 1, 1]);
  assert.deepEqual(got.positivePairs, []);
  assert.deepEqual(got.negativePairs, []);
});
