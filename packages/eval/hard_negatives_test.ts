import { test } from "node:test";
import assert from "node:assert/strict";
import { createRng } from "@likeness/core";
import { mineHardNegatives } from "@likeness/eval";

test("mineHardNegatives equals a brute-force filter: known positives excluded, margin (absolute and relative) held", async () => {
  const rng = createRng(12);
  const dim = 6, n = 80;
  const vecs = new Map<string, number[]>();
  const item = (name: string) => {
    if (!vecs.has(name)) vecs.set(name, Array.from({ length: dim }, () => rng.normal()));
    return name;
  };
  const corpus = Array.from({ length: n }, (_, i) => item(`c${i}`));
  // Anchor "a0" appears twice with two positives: both are known positives of "a0".
  const anchors = ["a0", "a0", "a1", "a2"].map(item);
  const positives = ["c1", "c2", "c3", "c4"];
  let calls = 0;
  const encoder = (b: string[]) => {
    calls++;
    return Promise.resolve({ data: Float32Array.from(b.flatMap((s) => vecs.get(s)!)), rows: b.length, cols: dim });
  };
  const cos = (a: string, b: string) => {
    const x = vecs.get(a)!, y = vecs.get(b)!;
    let d = 0, nx = 0, ny = 0;
    for (let t = 0; t < dim; t++) (d += x[t] * y[t], nx += x[t] ** 2, ny += y[t] ** 2);
    return d / Math.sqrt(nx * ny);
  };
  for (const [margin, relative] of [[0, false], [0.1, false], [0.2, true]] as const) {
    const got = await mineHardNegatives(encoder, { anchors, positives, corpus }, {
      k: 4,
      margin,
      relative,
      searchDepth: n,
      batchSize: 16,
    });
    assert.equal(got.length, anchors.length);
    got.forEach((r, i) => {
      const pos = cos(anchors[i], positives[i]);
      const limit = relative ? pos * (1 - margin) : pos - margin;
      const skip = new Set(positives.filter((_, j) => anchors[j] === anchors[i]));
      const want = corpus.map((c, j) => ({ j, s: cos(anchors[i], c) }))
        .filter((c) => !skip.has(corpus[c.j]) && c.s <= limit)
        .sort((a, b) => b.s - a.s || a.j - b.j)
        .slice(0, 4);
      assert.deepEqual(r.negatives, want.map((w) => w.j), `pair ${i} margin ${margin}`);
      r.scores.forEach((s, t) => assert.ok(Math.abs(s - want[t].s) < 1e-5));
      assert.ok(Math.abs(r.positiveScore - pos) < 1e-5);
    });
  }
  assert.ok(calls >= 3);
  await assert.rejects(mineHardNegatives(encoder, { anchors: ["a0"], positives: [] }), RangeError);
  await assert.rejects(mineHardNegatives(encoder, { anchors, positives }, { k: 0 }), TypeError);
});
