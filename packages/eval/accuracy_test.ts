import { test } from "node:test";
import assert from "node:assert/strict";
import { createRng, sharesAnyLabel } from "@likeness/core";
import { computeAccuracy } from "@likeness/eval";
import { assertClose } from "@likeness/core/testing";

function data(n: number, seed: number, classes: number) {
  const rng = createRng(seed);
  const embeddings = Array.from({ length: n }, () => Array.from({ length: 4 }, () => Math.fround(rng.normal())));
  const labels = Array.from({ length: n }, (_, i) => i % classes);
  return { embeddings, labels };
}

/** Brute force in the test: sort every reference by L2 distance, then pml's formulas. */
function brute(
  q: { embeddings: number[][]; labels: number[] },
  r: { embeddings: number[][]; labels: number[] },
  self: boolean,
) {
  const dist = (a: number[], b: number[]) => Math.sqrt(a.reduce((s, v, t) => s + (v - b[t]) ** 2, 0));
  let p1 = 0, rp = 0, map = 0, mrr = 0, n = 0;
  q.embeddings.forEach((e, i) => {
    const order = r.embeddings.map((f, j) => ({ j, d: dist(e, f) })).filter((o) => !(self && o.j === i))
      .sort((a, b) => a.d - b.d || a.j - b.j);
    const rel = order.map((o) => r.labels[o.j] === q.labels[i]);
    const R = rel.filter(Boolean).length;
    if (R === 0) return;
    n++;
    p1 += rel[0] ? 1 : 0;
    rp += rel.slice(0, R).filter(Boolean).length / R;
    let hits = 0, ap = 0;
    rel.slice(0, R).forEach((x, t) => {
      if (x) ap += ++hits / (t + 1);
    });
    map += ap / R;
    mrr += 1 / (rel.indexOf(true) + 1);
  });
  return { p1: p1 / n, rp: rp / n, map: map / n, mrr: mrr / n, n };
}

test("computeAccuracy matches a brute-force pml computation (query vs reference, k = all)", async () => {
  const q = data(15, 1, 4);
  const r = data(40, 2, 5); // class 4 only in the reference; every query class present
  const got = await computeAccuracy(q, r, { metric: "l2", k: "all", exclude: ["NMI", "AMI"] });
  const want = brute(q, r, false);
  assert.equal(got.k, 40);
  assert.equal(got.queries, want.n);
  assertClose(got.metrics.precision_at_1!, want.p1);
  assertClose(got.metrics.r_precision!, want.rp);
  assertClose(got.metrics.mean_average_precision_at_r!, want.map);
  assertClose(got.metrics.mean_reciprocal_rank!, want.mrr);
  assert.equal(got.metrics.NMI, undefined);
});

test("reference includes query: self excluded, R = count - 1, k = max_bin_count - 1, lone labels skipped", async () => {
  const r = data(21, 3, 5);
  r.labels[20] = 99; // a lone label: its only member is the query itself
  const got = await computeAccuracy(r, undefined, {
    metric: "l2",
    include: ["precision_at_1", "r_precision", "mean_average_precision_at_r"],
  });
  const want = brute(r, r, true);
  assert.equal(got.k, 3); // 21 items in 5 classes, item 20 relabelled: every class has 4 members, minus self
  assert.equal(got.loneQueries, 1);
  assert.equal(got.queries, 20);
  assert.equal(want.n, 20);
  assertClose(got.metrics.precision_at_1!, want.p1);
  assertClose(got.metrics.r_precision!, want.rp);
  assertClose(got.metrics.mean_average_precision_at_r!, want.map);
  for (let i = 0; i < 21; i++) assert.ok(!Array.from(got.knnIndices.subarray(i * 3, i * 3 + 3)).includes(i));
});

test("custom label matching (multi-label) and clustering metrics", async () => {
  const embeddings = [[0, 1], [0, 0.9], [1, 0], [0.9, 0], [0.7, 0.7]];
  const labels = [[1], [1], [2], [2], [1, 2]];
  const got = await computeAccuracy({ embeddings, labels }, undefined, { labelMatch: sharesAnyLabel, k: 1 });
  assert.equal(got.metrics.precision_at_1, 1);
  assert.equal(got.metrics.NMI, undefined, "NMI needs categorical labels");
  await assert.rejects(
    computeAccuracy({ embeddings, labels }, undefined, { labelMatch: sharesAnyLabel, include: ["NMI"] }),
    { code: "UNSUPPORTED" },
  );
  const sep = [[0, 0], [0.1, 0], [5, 5], [5, 5.1], [-5, 5], [-5, 5.2]];
  const c = await computeAccuracy({ embeddings: sep, labels: ["a", "a", "b", "b", "c", "c"] }, undefined, {
    include: ["NMI", "AMI"],
    seed: 4,
  });
  assertClose(c.metrics.NMI!, 1);
  assertClose(c.metrics.AMI!, 1);
});

test("computeAccuracy rejects bad input with typed errors", async () => {
  await assert.rejects(computeAccuracy({ embeddings: [[1, 2], [3, 4]], labels: [0] }), { code: "LABEL_MISMATCH" });
  await assert.rejects(computeAccuracy({ embeddings: [[1, 2], [3]], labels: [0, 0] }), { code: "SHAPE_MISMATCH" });
  await assert.rejects(computeAccuracy({ embeddings: [[1, 2], [3, Infinity]], labels: [0, 0] }), {
    code: "NON_FINITE",
  });
  await assert.rejects(
    computeAccuracy({ embeddings: [[1, 2], [3, 4]], labels: [0, undefined as unknown as number] }),
    { code: "LABEL_MISMATCH" },
  );
  await assert.rejects(
    computeAccuracy({ embeddings: [[1, 2], [3, 4]], labels: [0, 1] }),
    (e: Error & { code?: string }) => e.code === "INVALID_ARGUMENT" && /pass k explicitly/.test(e.message),
  );
  await assert.rejects(
    computeAccuracy({ embeddings: [[1, 2], [3, 4]], labels: [0, 0] }, undefined, { include: ["p@1" as "NMI"] }),
    { code: "UNKNOWN_NAME" },
  );
});

test("clustering metrics alone skip the neighbour search", async () => {
  const sep = [[0, 0], [0.1, 0], [5, 5], [5, 5.1]];
  const r = await computeAccuracy({ embeddings: sep, labels: [0, 0, 1, 1] }, undefined, { include: ["NMI"] });
  assert.deepEqual(Object.keys(r.metrics), ["NMI"]);
  assertClose(r.metrics.NMI!, 1);
  assert.equal(r.knnIndices.length, 0);
  const lone = await computeAccuracy({ embeddings: sep, labels: [0, 1, 2, 3] }, undefined, { include: ["AMI"] });
  assertClose(lone.metrics.AMI!, 1, { what: "one item per label and per cluster" });
});
