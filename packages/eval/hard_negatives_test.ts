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

test("mineHardNegatives on an hnsw index with efSearch ≥ corpus size mines what the flat index mines", async () => {
  const rng = createRng(13);
  const dim = 8, n = 300;
  const vec = Array.from({ length: n + 20 }, () => Array.from({ length: dim }, () => rng.normal()));
  const encoder = (b: number[]) =>
    Promise.resolve({ data: Float32Array.from(b.flatMap((i) => vec[i])), rows: b.length, cols: dim });
  const corpus = Array.from({ length: n }, (_, i) => i);
  const anchors = Array.from({ length: 20 }, (_, i) => n + i);
  const positives = anchors.map((_, i) => i * 7);
  // Positives near their anchors, so that many corpus items sit a margin below them.
  positives.forEach((p, i) => vec[p] = vec[anchors[i]].map((v) => v + 0.3 * rng.normal()));
  const flat = await mineHardNegatives(encoder, { anchors, positives, corpus }, { k: 5, margin: 0.05 });
  const hnsw = await mineHardNegatives(encoder, { anchors, positives, corpus }, {
    k: 5,
    margin: 0.05,
    index: { kind: "hnsw", hnsw: { efSearch: n } },
  });
  assert.deepEqual(hnsw.map((r) => r.negatives), flat.map((r) => r.negatives));
  assert.ok(flat.reduce((s, r) => s + r.negatives.length, 0) >= 40, "negatives mined");
  await assert.rejects(mineHardNegatives(encoder, { anchors, positives, corpus }, { index: "ivf" as "hnsw" }), {
    code: "UNKNOWN_NAME",
  });
});
