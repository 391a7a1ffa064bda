import { test } from "node:test";
import assert from "node:assert/strict";
import { createRng, sharesAnyLabel } from "@likeness/core";
import { type AccuracyMetricName, computeAccuracy } from "@likeness/eval";
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

test("computeAccuracy through a backend's index equals the float64 reference, per query too (lazy arrays)", async () => {
  const { createBackend } = await import("@likeness/backend");
  const { retrievalPerQuery } = await import("@likeness/eval");
  const rng = createRng(31);
  const n = 600, d = 8;
  const labels = Array.from({ length: n }, () => rng.int(6));
  // Integer-valued embeddings: many exact ties, so any tie-order difference would show.
  const embeddings = Array.from({ length: n }, (_, i) => Array.from({ length: d }, () => labels[i] + rng.int(3)));
  const wanted = ["precision_at_1", "r_precision", "mean_average_precision_at_r"] as const;
  const all: AccuracyMetricName[] = [
    ...wanted,
    "precision_at_k",
    "recall_at_k",
    "mean_reciprocal_rank",
    "mean_average_precision",
    "ndcg_at_k",
  ];
  for (const threads of [1, 2]) {
    const { backend } = await createBackend({ prefer: "wasm-simd", threads });
    try {
      for (const metric of ["l2", "dot"] as const) {
        const opts = { metric, include: [...wanted] };
        // l2 on integers is exact in float32: the float64 reference must agree. Dot is checked
        // against the same kernels through Backend.topk (k + 1 neighbours, self dropped
        // afterwards: the path before the resident index), ties included.
        const ref = await computeAccuracy({ embeddings, labels }, undefined, {
          ...opts,
          backend: metric === "l2" ? undefined : { topk: backend.topk.bind(backend) },
        });
        const got = await computeAccuracy({ embeddings, labels }, undefined, { ...opts, backend });
        assert.deepEqual(got.metrics, ref.metrics, `${metric} threads=${threads}`);
        assert.deepEqual(Array.from(got.knnIndices), Array.from(ref.knnIndices));
        for (let i = 0; i < n; i++) assert.notEqual(got.knnIndices[i * got.k], i, "self excluded");
        // Every per-query array (asked for or not) equals the mask-based computation.
        const rel = new Uint8Array(n * got.k).map((_, t) =>
          labels[got.knnIndices[t]] === labels[Math.floor(t / got.k)] ? 1 : 0
        );
        const want = retrievalPerQuery(rel, got.relevantCount);
        for (const key of Object.keys(want) as (keyof typeof want)[]) {
          assert.deepEqual(Array.from(got.perQuery[key]), Array.from(want[key]), key);
        }
        const every = await computeAccuracy({ embeddings, labels }, undefined, { metric, include: [...all], backend });
        const everyRef = await computeAccuracy({ embeddings, labels }, undefined, {
          metric,
          include: [...all],
          backend: metric === "l2" ? undefined : { topk: backend.topk.bind(backend) },
        });
        assert.deepEqual(every.metrics, everyRef.metrics);
      }
    } finally {
      backend.dispose();
    }
  }
});

test("computeAccuracy on an hnsw index with efSearch ≥ size gives the exact path's metrics and neighbours", async () => {
  const { evaluateHeldOut } = await import("@likeness/eval");
  const rng = createRng(32);
  const n = 400, d = 6;
  const labels = Array.from({ length: n }, () => rng.int(5));
  // Integer-valued embeddings: float32 distances are exact, so ties decide (lower index in both paths).
  const embeddings = Array.from(
    { length: n },
    (_, i) => Array.from({ length: d }, (_, t) => rng.int(6) + (t === labels[i] ? 3 : 0)),
  );
  const query = { embeddings: embeddings.slice(0, 60), labels: labels.slice(0, 60) };
  const include: AccuracyMetricName[] = [
    "precision_at_1",
    "precision_at_k",
    "r_precision",
    "mean_average_precision_at_r",
    "mean_reciprocal_rank",
    "ndcg_at_k",
  ];
  const hnsw = { kind: "hnsw" as const, hnsw: { M: 8, efConstruction: 32, efSearch: n, seed: 3 } };
  for (const metric of ["l2", "sqeuclidean", "dot"] as const) {
    // Reference includes query (self dropped from k + 1) and query vs reference.
    for (const q of [undefined, query]) {
      const a = q ?? { embeddings, labels };
      const r = q ? { embeddings, labels } : undefined;
      const exact = await computeAccuracy(a, r, { metric, include });
      const got = await computeAccuracy(a, r, { metric, include, index: hnsw });
      assert.deepEqual(got.metrics, exact.metrics, `${metric} ${q ? "query vs reference" : "self"}`);
      assert.deepEqual(Array.from(got.knnIndices), Array.from(exact.knnIndices));
      assert.ok(exact.metrics.r_precision! < 0.9, "a test with room to differ");
    }
  }
  const held = { heldOutClasses: [1, 2], metric: "l2" as const, include };
  assert.deepEqual(
    (await evaluateHeldOut(embeddings, labels, { ...held, index: hnsw })).metrics,
    (await evaluateHeldOut(embeddings, labels, held)).metrics,
  );
});

test("computeAccuracy on hnsw (default efSearch) stays close to exact on clustered data", async () => {
  const rng = createRng(33);
  const n = 3000, d = 24, classes = 30;
  const centres = Array.from({ length: classes }, () => Array.from({ length: d }, () => rng.normal()));
  const labels = Array.from({ length: n }, () => rng.int(classes));
  // Overlapping clusters (noise 1.1 per coordinate): the metrics are well below 1.
  const embeddings = labels.map((c) => centres[c].map((v) => v + 1.1 * rng.normal()));
  const options = { metric: "cosine" as const, k: 10, exclude: ["NMI", "AMI"] as AccuracyMetricName[] };
  const exact = await computeAccuracy({ embeddings, labels }, undefined, options);
  const t0 = performance.now();
  const approx = await computeAccuracy({ embeddings, labels }, undefined, {
    ...options,
    index: { kind: "hnsw", hnsw: { M: 8, efConstruction: 32, efSearch: 12 } },
  });
  const ms = performance.now() - t0;
  let hits = 0;
  for (let i = 0; i < n; i++) {
    const want = new Set(exact.knnIndices.subarray(i * 10, i * 10 + 10));
    for (const j of approx.knnIndices.subarray(i * 10, i * 10 + 10)) hits += want.has(j) ? 1 : 0;
  }
  const recall = hits / (n * 10);
  assert.ok(recall >= 0.9 && recall < 1, `recall@10 of the hnsw neighbours ${recall}`);
  assert.ok(exact.metrics.precision_at_1! < 0.99 && exact.metrics.precision_at_1! > 0.3);
  for (const [name, v] of Object.entries(exact.metrics)) {
    const a = approx.metrics[name as AccuracyMetricName]!;
    assert.ok(Math.abs(a - v) <= 0.02, `${name}: hnsw ${a} vs exact ${v} (${ms.toFixed(0)} ms)`);
  }
});

test("computeAccuracy's index option rejects bad kinds and parameters with typed errors", async () => {
  const e = { embeddings: [[0, 1], [0, 0.9], [1, 0], [0.9, 0]], labels: [0, 0, 1, 1] };
  await assert.rejects(computeAccuracy(e, undefined, { index: "hnsw2" as "hnsw" }), { code: "UNKNOWN_NAME" });
  await assert.rejects(computeAccuracy(e, undefined, { index: 3 as unknown as "hnsw" }), { code: "INVALID_ARGUMENT" });
  await assert.rejects(computeAccuracy(e, undefined, { index: { kind: "hnsw", hnsw: { M: 1 } } }), {
    code: "INVALID_ARGUMENT",
  });
  const r = await computeAccuracy(e, undefined, { index: "hnsw", k: 1 });
  assert.equal(r.metrics.precision_at_1, 1);
});
