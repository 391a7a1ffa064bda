import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { createRng } from "@likeness/core";
import { assertClose } from "@likeness/core/testing";
import { createMiningKernels, hasWasmSimd, type MiningVariant } from "@likeness/kernels";
import { retrievalMetricsRef } from "@likeness/kernels/reference";

const SIZES = [1, 3, 4, 5, 15, 16, 17, 63, 64, 65, 256];
const VARIANTS: MiningVariant[] = hasWasmSimd() ? ["scalar", "simd"] : ["scalar"];

/** Random relevance rows consistent with R (hits ≤ R ≤ k), some queries with R = 0. */
function randomCase(seed: number, q: number, k: number): { relevant: Uint8Array; counts: Int32Array } {
  const rng = createRng(seed);
  const relevant = new Uint8Array(q * k);
  const counts = new Int32Array(q);
  for (let i = 0; i < q; i++) {
    const r = i % 7 === 3 ? 0 : 1 + rng.int(k);
    counts[i] = r;
    const density = rng.next();
    let hits = 0;
    for (let j = 0; j < k && hits < r; j++) {
      if (rng.next() < density) {
        relevant[i * k + j] = 1;
        hits++;
      }
    }
  }
  return { relevant, counts };
}

for (const variant of VARIANTS) {
  test(`metrics ${variant}: retrievalMetrics matches the reference at every k`, async () => {
    const kernels = createMiningKernels({ variant });
    for (const k of SIZES) {
      for (const q of [1, 9, 50]) {
        const { relevant, counts } = randomCase(k * 100 + q, q, k);
        const got = await kernels.retrievalMetrics(relevant, counts, k);
        const want = retrievalMetricsRef(relevant, counts, k);
        assert.equal(got.queries, want.queries, `k=${k} q=${q}`);
        assertClose(
          [got.precisionAtK, got.recallAtK, got.mrr, got.rPrecision, got.mapAtR],
          [want.precisionAtK, want.recallAtK, want.mrr, want.rPrecision, want.mapAtR],
          { rtol: 1e-12, atol: 1e-15, what: `${variant} k=${k} q=${q}` },
        );
      }
    }
    kernels.dispose();
  });
}

test("metrics: hand-computed values, R = 0 queries skipped", async () => {
  // q0: ranks 2 and 3 relevant, R = 2; q1: rank 1 relevant, R = 1; q2: R = 0 (skipped)
  const relevant = new Uint8Array([0, 1, 1, 1, 0, 0, 0, 0, 0]);
  const counts = new Int32Array([2, 1, 0]);
  const want = {
    precisionAtK: (2 / 3 + 1 / 3) / 2,
    recallAtK: 1,
    mrr: (1 / 2 + 1) / 2,
    rPrecision: (1 / 2 + 1) / 2,
    mapAtR: ((1 / 2) / 2 + 1) / 2,
    queries: 2,
  };
  assert.deepStrictEqual(retrievalMetricsRef(relevant, counts, 3), want);
  for (const variant of VARIANTS) {
    const kernels = createMiningKernels({ variant });
    assert.deepStrictEqual(await kernels.retrievalMetrics(relevant, counts, 3), want);
    const none = await kernels.retrievalMetrics(new Uint8Array(2), new Int32Array([0, 0]), 1);
    assert.deepStrictEqual(none, { precisionAtK: 0, recallAtK: 0, mrr: 0, rPrecision: 0, mapAtR: 0, queries: 0 });
    kernels.dispose();
  }
});

test("metrics: bad input throws typed errors with stable codes", async () => {
  const kernels = createMiningKernels();
  const code = (c: string) => (e: unknown) => (e as { code?: string }).code === c;
  await assert.rejects(kernels.retrievalMetrics(new Uint8Array(4), new Int32Array([1, 1]), 3), code("SHAPE_MISMATCH"));
  await assert.rejects(kernels.retrievalMetrics(new Uint8Array(0), new Int32Array(0), 3), code("EMPTY_INPUT"));
  await assert.rejects(
    kernels.retrievalMetrics(new Uint8Array(2), new Int32Array([1, 1]), 0),
    code("INVALID_ARGUMENT"),
  );
  await assert.rejects(
    kernels.retrievalMetrics(new Uint8Array(2), new Int32Array([1, 1]), 1.5),
    code("INVALID_ARGUMENT"),
  );
  await assert.rejects(
    kernels.retrievalMetrics(new Uint8Array(2), new Int32Array([-1, 1]), 1),
    code("INVALID_ARGUMENT"),
  );
  // R > k: R-precision and MAP@R are undefined
  await assert.rejects(
    kernels.retrievalMetrics(new Uint8Array(4), new Int32Array([3, 1]), 2),
    (e: unknown) => code("OUT_OF_RANGE")(e) && e instanceof RangeError && /k ≥ R/.test((e as Error).message),
  );
  // more relevant neighbours than R says exist
  await assert.rejects(
    kernels.retrievalMetrics(new Uint8Array([1, 1]), new Int32Array([1]), 2),
    code("INVALID_ARGUMENT"),
  );
  await assert.rejects(
    kernels.retrievalMetrics([1, 0] as unknown as Uint8Array, new Int32Array([1]), 2),
    code("SHAPE_MISMATCH"),
  );
  kernels.dispose();
});

// ---- pytorch-metric-learning 2.8.1 AccuracyCalculator golden values (k = all references) ----

const GOLDEN = new URL("../../../shared/golden/peer-references.json", import.meta.url);

test("metrics: reference and kernels reproduce pml's AccuracyCalculator (golden cases)", async (t) => {
  if (!existsSync(GOLDEN)) {
    t.skip("skipped: ../shared/golden/peer-references.json is not present in this checkout");
    return;
  }
  const cases = (JSON.parse(readFileSync(GOLDEN, "utf8")).cases as {
    id: string;
    name: string;
    params: { distance: string };
    inputs: { query: number[][]; query_labels: number[]; reference: number[][]; reference_labels: number[] };
    expected: Record<string, Record<string, number>>;
  }[]).filter((c) => c.name === "AccuracyCalculator");
  assert.ok(cases.length >= 2, "expected the AccuracyCalculator cases");
  const kernels = VARIANTS.map((variant) => createMiningKernels({ variant }));
  const unit = (r: number[]) => {
    const s = Math.sqrt(r.reduce((a, v) => a + v * v, 0));
    return r.map((v) => v / s);
  };
  for (const c of cases) {
    // cosine: ranked by cosine similarity; euclidean: by plain L2 distance (smaller first)
    const score = c.params.distance === "cosine"
      ? (a: number[], b: number[]) => {
        const x = unit(a);
        const y = unit(b);
        return -x.reduce((s, v, i) => s + v * y[i], 0);
      }
      : (a: number[], b: number[]) => Math.sqrt(a.reduce((s, v, i) => s + (v - b[i]) ** 2, 0));
    for (const mode of ["query_vs_reference", "reference_vs_itself"]) {
      const self = mode === "reference_vs_itself";
      const queries = self ? c.inputs.reference : c.inputs.query;
      const queryLabels = self ? c.inputs.reference_labels : c.inputs.query_labels;
      const refs = c.inputs.reference;
      const refLabels = c.inputs.reference_labels;
      const k = refs.length - (self ? 1 : 0);
      const relevant = new Uint8Array(queries.length * k);
      const counts = new Int32Array(queries.length);
      queries.forEach((q, i) => {
        const order = refs.map((r, j) => [score(q, r), j]).filter(([, j]) => !(self && j === i))
          .sort((a, b) => a[0] - b[0] || a[1] - b[1]);
        for (let r = 0; r < k; r++) relevant[i * k + r] = refLabels[order[r][1]] === queryLabels[i] ? 1 : 0;
        counts[i] = refLabels.filter((l) => l === queryLabels[i]).length - (self ? 1 : 0);
      });
      const exp = c.expected[mode];
      const results = [
        retrievalMetricsRef(relevant, counts, k),
        ...await Promise.all(kernels.map((kk) => kk.retrievalMetrics(relevant, counts, k))),
      ];
      for (const m of results) {
        assertClose(
          [m.mapAtR, m.rPrecision, m.mrr],
          [exp.mean_average_precision_at_r, exp.r_precision, exp.mean_reciprocal_rank],
          { rtol: 1e-9, atol: 1e-12, what: `${c.id} ${mode}` },
        );
      }
      // precision@1 is precision@k with k = 1 (R clipped to 1 so that k ≥ R holds)
      const first = new Uint8Array(queries.length);
      for (let i = 0; i < queries.length; i++) first[i] = relevant[i * k];
      const p1 = await kernels[0].retrievalMetrics(first, counts.map((r) => Math.min(r, 1)), 1);
      assertClose(p1.precisionAtK, exp.precision_at_1, { rtol: 1e-12, what: `${c.id} ${mode} precision@1` });
    }
  }
  for (const kk of kernels) kk.dispose();
});
