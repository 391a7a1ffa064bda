import { test } from "node:test";
import assert from "node:assert/strict";
import { type Label, sharesAnyLabel } from "@likeness/core";
import { BatchHardMiner } from "@likeness/miners";
import { bruteDist, keys, positives, randomMatrix } from "./_testing.ts";

function brute(d: number[][], labels: Label[], match = (a: Label, b: Label) => a === b) {
  const pos = positives(labels, match);
  const out: number[][] = [];
  for (let a = 0; a < d.length; a++) {
    let p = -1;
    let n = -1;
    for (let j = 0; j < d.length; j++) {
      if (j === a) continue;
      if (pos(a, j)) {
        if (p < 0 || d[a][j] > d[a][p]) p = j;
      } else if (n < 0 || d[a][j] < d[a][n]) n = j;
    }
    if (p >= 0 && n >= 0) out.push([a, p, n]);
  }
  return out;
}

test("BatchHardMiner matches a brute-force loop and skips anchors without a positive", async () => {
  const emb = randomMatrix(13, 6, 21);
  const labels = [0, 1, 2, 0, 1, 2, 0, 1, 2, 3, 3, 3, 9];
  const got = await new BatchHardMiner().mine(emb, labels);
  const want = brute(bruteDist(emb, "lp"), labels);
  assert.equal(want.length, 12);
  assert.deepEqual(keys(got.triplets), keys(want));
});

test("BatchHardMiner with a multi-label matcher", async () => {
  const emb = randomMatrix(8, 3, 2);
  const labels: Label[] = [[0, 1], [1], [0], [2], [2, 1], [3], [3, 0], [1]];
  const got = await new BatchHardMiner().mine(emb, labels, { match: sharesAnyLabel });
  const want = brute(bruteDist(emb, "lp"), labels, sharesAnyLabel);
  assert.deepEqual(keys(got.triplets), keys(want));
});

test("BatchHardMiner on a tiny hand-made batch", async () => {
  const emb = { data: new Float32Array([1, 0, 0.9, 0.1, 0, 1, 0.1, 0.9]), rows: 4, cols: 2 };
  const got = await new BatchHardMiner().mine(emb, [0, 0, 1, 1]);
  assert.deepEqual(got.triplets, [[0, 1, 3], [1, 0, 3], [2, 3, 1], [3, 2, 1]]);
});
