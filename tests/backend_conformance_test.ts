/**
 * Backend conformance: ONE list of cases, run against every backend (`wasm-simd`, `wasm`,
 * `js`, and `webgpu` when asked for) and compared with the `js` reference backend.
 *
 * WebGPU runs only with `LIKENESS_TEST_WEBGPU=1` (then also on a software fallback adapter such as
 * llvmpipe); otherwise, and under Bun (no WebGPU), its cases are reported as skipped with the reason.
 * Sizes stay small because llvmpipe is slow. Top-k on WebGPU runs with a tiny scratch block and
 * 64-column segments so that every search merges over several reference blocks and partial lists.
 *
 *   ./node_modules/.bin/deno test -A tests/backend_conformance_test.ts
 *   LIKENESS_TEST_WEBGPU=1 ./node_modules/.bin/deno test -A tests/backend_conformance_test.ts
 *   ./node_modules/.bin/bun test ./tests/backend_conformance_test.ts
 *
 * On a machine with a real GPU, tools/gpu_check.sh runs it with LIKENESS_TEST_WEBGPU_REAL=1, which
 * also fails when the adapter is a software fallback.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { createRng, isLikenessError, type Matrix, type Rng, sameLabelMatrix } from "@likeness/core";
import { assertClose } from "@likeness/core/testing";
import {
  type Backend,
  type BackendName,
  createJsBackend,
  createWasmBackend,
  createWebGpuBackend,
  type Metric,
  METRICS,
  type TopKResult,
  type TripletType,
  type WebGpuBackend,
} from "@likeness/backend";
import { env, ints as intsOf, rand, SIMD_SKIP, webGpuSkip } from "./_conformance.ts";

// ---------------------------------------------------------------------------------------------
// Which backends run, and why the others are skipped.

/** On a GPU machine (tools/gpu_check.sh): fail unless the adapter is a real, non-fallback GPU. */
const wantRealGpu = env("LIKENESS_TEST_WEBGPU_REAL") === "1";

function skipReason(name: BackendName): string | undefined {
  if (name === "webgpu") {
    return webGpuSkip("WebGPU conformance", "(here the adapter is llvmpipe, a slow software fallback)");
  }
  return name === "wasm-simd" ? SIMD_SKIP : undefined;
}

const backends = new Map<BackendName, Promise<Backend>>();
function backend(name: BackendName): Promise<Backend> {
  let b = backends.get(name);
  if (!b) {
    switch (name) {
      case "js":
        b = Promise.resolve(createJsBackend());
        break;
      case "wasm":
        b = Promise.resolve(createWasmBackend({ simd: false }));
        break;
      case "wasm-simd":
        b = Promise.resolve(createWasmBackend({ simd: true }));
        break;
      case "webgpu":
        b = createWebGpuBackend({
          delegate: createWasmBackend(),
          allowFallbackAdapter: true,
          scratchFloats: 4096,
          topkSegment: 64,
        });
        break;
    }
    backends.set(name, b);
  }
  return b;
}
const ref = createJsBackend();

// ---------------------------------------------------------------------------------------------
// Data and comparison helpers.

/** Vector lengths that hit every SIMD and tile tail, and a large one. */
const LENGTHS = [1, 3, 4, 5, 15, 16, 17, 63, 64, 65, 1536];

const ints = (rng: Rng, rows: number, cols: number, range = 5): Matrix => intsOf(rng, rows, cols, range);

/** Tolerance for float32 sums of `d` terms. */
function tol(d: number) {
  return { rtol: 1e-4, atol: 2e-6 * Math.max(1, d) };
}

/** A symmetric B×B "distance" matrix with small integer values (many exact ties) and 0 diagonal. */
function intDist(rng: Rng, b: number, range = 6): Matrix {
  const data = new Float32Array(b * b);
  for (let i = 0; i < b; i++) {
    for (let j = i + 1; j < b; j++) data[i * b + j] = data[j * b + i] = rng.int(range) / 2;
  }
  return { data, rows: b, cols: b };
}

function labels(rng: Rng, b: number, classes: number): number[] {
  return Array.from({ length: b }, () => rng.int(classes));
}

/**
 * Check a top-k answer against the reference without depending on how near-ties in float32
 * round: same -1 pattern, values close to the reference's, each index's true value close to the
 * returned value, indices distinct and eligible.
 */
async function checkTopK(
  got: TopKResult,
  query: Matrix,
  reference: Matrix,
  k: number,
  metric: Metric,
  eligible?: Uint8Array,
): Promise<void> {
  const want = await ref.topk(query, reference, { k, metric });
  const all = await ref.pairwise(query, reference, metric);
  assert.equal(got.rows, query.rows);
  assert.equal(got.k, k);
  const t = tol(query.cols);
  if (!eligible) assertClose(got.values, want.values, { ...t, what: `top-${k} ${metric} values` });
  for (let i = 0; i < query.rows; i++) {
    const seen = new Set<number>();
    for (let s = 0; s < k; s++) {
      const j = got.indices[i * k + s];
      if (j < 0) {
        assert.ok(Number.isNaN(got.values[i * k + s]), `row ${i} slot ${s}: -1 index must have NaN value`);
        continue;
      }
      assert.ok(!seen.has(j), `row ${i}: index ${j} returned twice`);
      seen.add(j);
      if (eligible) assert.equal(eligible[j], 1, `row ${i}: index ${j} is not eligible`);
      assertClose([got.values[i * k + s]], [all.data[i * reference.rows + j]], {
        ...t,
        what: `row ${i} slot ${s} value of index ${j}`,
      });
    }
  }
}

async function expectCode(p: Promise<unknown>, code: string, what: string): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(isLikenessError(e), `${what}: expected a likeness error, got ${String(e)}`);
    assert.equal((e as { code: string }).code, code, `${what}: ${(e as Error).message}`);
    return true;
  });
}

// ---------------------------------------------------------------------------------------------
// The cases.

interface Case {
  name: string;
  run(b: Backend): Promise<void>;
}

const cases: Case[] = [];

for (const metric of METRICS) {
  cases.push({
    name: `pairwise ${metric} at lengths ${LENGTHS.join(", ")}`,
    async run(b) {
      const rng = createRng(11);
      for (const d of LENGTHS) {
        const q = rand(rng, 3, d);
        const r = rand(rng, 5, d);
        const got = await b.pairwise(q, r, metric);
        assert.deepEqual([got.rows, got.cols], [3, 5]);
        assert.ok(got.data instanceof Float32Array);
        assertClose(got.data, (await ref.pairwise(q, r, metric)).data, { ...tol(d), what: `${metric} d=${d}` });
      }
    },
  });
  cases.push({
    name: `pairwise ${metric} over tile tails (65×130, d=17) and self-distance`,
    async run(b) {
      const rng = createRng(12);
      const q = rand(rng, 65, 17);
      const r = rand(rng, 130, 17);
      const got = await b.pairwise(q, r, metric);
      assertClose(got.data, (await ref.pairwise(q, r, metric)).data, { ...tol(17), what: metric });
      const self = await b.pairwise(q, q, metric);
      for (let i = 0; i < 65; i++) {
        for (let j = 0; j < i; j++) {
          assertClose([self.data[i * 65 + j]], [self.data[j * 65 + i]], { ...tol(17), what: `symmetry ${i},${j}` });
        }
        if (metric === "cosine") assertClose([self.data[i * 66]], [1], { ...tol(17), what: "cos(a, a)" });
        else if (metric !== "dot") assertClose([self.data[i * 66]], [0], { atol: 1e-5, what: `${metric}(a, a)` });
      }
    },
  });
}

cases.push({
  name: "pairwise with zero rows: cosine 0, distances to the origin",
  async run(b) {
    const q: Matrix = { data: new Float32Array([0, 0, 0, 3, 4, 0]), rows: 2, cols: 3 };
    const r: Matrix = { data: new Float32Array([3, 4, 0, 0, 0, 0]), rows: 2, cols: 3 };
    assertClose((await b.pairwise(q, r, "cosine")).data, [0, 0, 1, 0]);
    assertClose((await b.pairwise(q, r, "l2")).data, [5, 0, 0, 5]);
    assertClose((await b.pairwise(q, r, "l1")).data, [7, 0, 0, 7]);
    assertClose((await b.pairwise(q, r, "sqeuclidean")).data, [25, 0, 0, 25]);
    assertClose((await b.pairwise(q, r, "dot")).data, [0, 0, 25, 0]);
  },
});

cases.push({
  name: "norms and normalize at every length, zero rows stay zero",
  async run(b) {
    const rng = createRng(13);
    for (const d of LENGTHS) {
      const m = rand(rng, 4, d);
      m.data.fill(0, d, 2 * d); // row 1 is zero
      const n = await b.norms(m);
      assert.ok(n instanceof Float32Array);
      assertClose(n, await ref.norms(m), { ...tol(d), what: `norms d=${d}` });
      const u = await b.normalize(m);
      assert.deepEqual([u.rows, u.cols], [4, d]);
      assertClose(u.data, (await ref.normalize(m)).data, { ...tol(d), what: `normalize d=${d}` });
      assert.ok(u.data.subarray(d, 2 * d).every((v) => v === 0), "zero row stays zero");
    }
  },
});

for (const metric of METRICS) {
  cases.push({
    name: `topk ${metric}: k = 1, 5, 64, 150 over 150 references (several blocks)`,
    async run(b) {
      const rng = createRng(14);
      const q = rand(rng, 5, 16);
      const r = rand(rng, 150, 16);
      for (const k of [1, 5, 64, 150]) await checkTopK(await b.topk(q, r, { k, metric }), q, r, k, metric);
    },
  });
}

cases.push({
  name: "topk ties go to the lower index (duplicated integer rows), every metric",
  async run(b) {
    const rng = createRng(15);
    const base = ints(rng, 3, 7);
    const r: Matrix = { data: new Float32Array(90 * 7), rows: 90, cols: 7 };
    for (let j = 0; j < 90; j++) r.data.set(base.data.subarray((j % 3) * 7, (j % 3 + 1) * 7), j * 7);
    const q = ints(rng, 4, 7);
    for (const metric of METRICS) {
      const got = await b.topk(q, r, { k: 40, metric });
      const want = await ref.topk(q, r, { k: 40, metric });
      assert.deepEqual(Array.from(got.indices), Array.from(want.indices), `${metric} tie order`);
      assertClose(got.values, want.values, { ...tol(7), what: metric });
    }
  },
});

cases.push({
  name: "topk exact on integer data: indices equal the reference (dot, l1, sqeuclidean, l2; largest flipped)",
  async run(b) {
    const rng = createRng(16);
    const q = ints(rng, 6, 9);
    const r = ints(rng, 200, 9);
    for (const metric of ["dot", "l1", "sqeuclidean", "l2"] as const) {
      for (const largest of [undefined, true, false]) {
        const got = await b.topk(q, r, { k: 12, metric, largest });
        const want = await ref.topk(q, r, { k: 12, metric, largest });
        assert.deepEqual(Array.from(got.indices), Array.from(want.indices), `${metric} largest=${largest}`);
        assertClose(got.values, want.values, { what: `${metric} largest=${largest}` });
      }
    }
  },
});

cases.push({
  name: "topk label filter: only allowed labels, -1 and NaN past the eligible count",
  async run(b) {
    const rng = createRng(17);
    const q = ints(rng, 3, 5);
    const r = ints(rng, 100, 5);
    const referenceLabels = Int32Array.from({ length: 100 }, (_, j) => (j * 7) % 10);
    const allowLabels = new Int32Array([2, 5]); // 20 eligible references
    for (const k of [3, 25]) {
      const got = await b.topk(q, r, { k, metric: "l1", referenceLabels, allowLabels });
      const want = await ref.topk(q, r, { k, metric: "l1", referenceLabels, allowLabels });
      assert.deepEqual(Array.from(got.indices), Array.from(want.indices), `k=${k}`);
      assertClose(got.values, want.values, { what: `k=${k}` });
      for (let i = 0; i < got.indices.length; i++) {
        const j = got.indices[i];
        if (j >= 0) assert.ok(j % 10 === 6 || j % 10 === 5, `index ${j} has label ${referenceLabels[j]}`);
      }
      if (k === 25) assert.equal(got.indices.filter((j) => j < 0).length, 3 * 5);
    }
    const none = await b.topk(q, r, { k: 2, metric: "dot", referenceLabels, allowLabels: new Int32Array([42]) });
    assert.ok(none.indices.every((j) => j === -1) && none.values.every(Number.isNaN));
  },
});

cases.push({
  name: "topk over many queries (70 × 300, several query chunks and reference blocks on WebGPU)",
  async run(b) {
    const rng = createRng(20);
    const q = rand(rng, 70, 6);
    const r = rand(rng, 300, 6);
    for (const metric of ["cosine", "l2"] as const) {
      await checkTopK(await b.topk(q, r, { k: 7, metric }), q, r, 7, metric);
    }
  },
});

cases.push({
  name: "topk with k = 70, 256, above the GPU limit (k = 257) and k = R",
  async run(b) {
    const rng = createRng(18);
    const q = rand(rng, 2, 8);
    const r = rand(rng, 300, 8);
    await checkTopK(await b.topk(q, r, { k: 70, metric: "cosine" }), q, r, 70, "cosine");
    await checkTopK(await b.topk(q, r, { k: 256, metric: "dot" }), q, r, 256, "dot");
    await checkTopK(await b.topk(q, r, { k: 257, metric: "cosine" }), q, r, 257, "cosine");
    await checkTopK(await b.topk(q, r, { k: 300, metric: "l2" }), q, r, 300, "l2");
  },
});

for (const b of [1, 3, 17, 65, 70]) {
  cases.push({
    name: `batchHard B=${b}: distances and similarities, ties, anchors without positives or negatives`,
    async run(be) {
      const rng = createRng(19 + b);
      const dist = intDist(rng, b);
      const variants: [string, Uint8Array][] = [
        ["random labels", sameLabelMatrix(labels(rng, b, Math.max(1, Math.floor(b / 3))))],
        ["one class", sameLabelMatrix(new Array(b).fill(0))],
        ["all distinct", sameLabelMatrix(Array.from({ length: b }, (_, i) => i))],
      ];
      for (const [what, same] of variants) {
        for (const smallerIsCloser of [true, false]) {
          const got = await be.batchHard(dist, same, { smallerIsCloser });
          const want = await ref.batchHard(dist, same, { smallerIsCloser });
          const tag = `${what} smallerIsCloser=${smallerIsCloser}`;
          assert.deepEqual(Array.from(got.positive), Array.from(want.positive), `${tag} positive`);
          assert.deepEqual(Array.from(got.negative), Array.from(want.negative), `${tag} negative`);
          assert.deepEqual(Array.from(got.validPositive), Array.from(want.validPositive), `${tag} validPositive`);
          assert.deepEqual(Array.from(got.validNegative), Array.from(want.validNegative), `${tag} validNegative`);
          assertClose(got.positiveDistance, want.positiveDistance, { what: `${tag} positiveDistance` });
          assertClose(got.negativeDistance, want.negativeDistance, { what: `${tag} negativeDistance` });
        }
      }
    },
  });
}

for (const type of ["all", "hard", "semihard", "easy"] as TripletType[]) {
  cases.push({
    name: `tripletMargin ${type}: distances and similarities, margin ties`,
    async run(b) {
      const rng = createRng(30);
      const dist = intDist(rng, 13);
      const same = sameLabelMatrix(labels(rng, 13, 3));
      for (const smallerIsCloser of [true, false]) {
        for (const margin of [0, 0.5, 1]) {
          const o = { margin, type, smallerIsCloser };
          const got = await b.tripletMargin(dist, same, o);
          const want = await ref.tripletMargin(dist, same, o);
          assert.equal(got.count, want.count, JSON.stringify(o));
          assert.deepEqual(Array.from(got.indices), Array.from(want.indices), JSON.stringify(o));
        }
      }
    },
  });
}

cases.push({
  name: "pairMargin and multiSimilarity: distances and similarities",
  async run(b) {
    const rng = createRng(31);
    const dist = intDist(rng, 21);
    const same = sameLabelMatrix(labels(rng, 21, 4));
    for (const smallerIsCloser of [true, false]) {
      for (const [posMargin, negMargin] of [[0.5, 2], [1.5, 1], [0, 0]]) {
        const o = { posMargin, negMargin, smallerIsCloser };
        const got = await b.pairMargin(dist, same, o);
        const want = await ref.pairMargin(dist, same, o);
        assert.deepEqual(Array.from(got.positive), Array.from(want.positive), JSON.stringify(o));
        assert.deepEqual(Array.from(got.negative), Array.from(want.negative), JSON.stringify(o));
      }
      for (const epsilon of [0, 0.1, 0.5]) {
        const o = { epsilon, smallerIsCloser };
        const got = await b.multiSimilarity(dist, same, o);
        const want = await ref.multiSimilarity(dist, same, o);
        assert.deepEqual(Array.from(got.positive), Array.from(want.positive), JSON.stringify(o));
        assert.deepEqual(Array.from(got.negative), Array.from(want.negative), JSON.stringify(o));
      }
    }
  },
});

cases.push({
  name: "retrievalMetrics on random relevance masks, and a hand-checked case",
  async run(b) {
    const hand = await b.retrievalMetrics(new Uint8Array([0, 1, 1, 1, 0, 0]), new Int32Array([2, 1]), 3);
    assertClose(
      [hand.precisionAtK, hand.recallAtK, hand.mrr, hand.rPrecision, hand.mapAtR, hand.queries],
      [0.5, 1, 0.75, 0.75, 0.625, 2],
    );
    const rng = createRng(32);
    for (const [q, k] of [[1, 1], [7, 5], [40, 16]]) {
      const relevant = new Uint8Array(q * k);
      const count = new Int32Array(q);
      for (let i = 0; i < q; i++) {
        let hits = 0;
        for (let j = 0; j < k; j++) if (rng.next() < 0.4) (relevant[i * k + j] = 1), hits++;
        count[i] = Math.min(k, hits + rng.int(3));
      }
      const got = await b.retrievalMetrics(relevant, count, k);
      const want = await ref.retrievalMetrics(relevant, count, k);
      assert.equal(got.queries, want.queries);
      assertClose(
        [got.precisionAtK, got.recallAtK, got.mrr, got.rPrecision, got.mapAtR],
        [want.precisionAtK, want.recallAtK, want.mrr, want.rPrecision, want.mapAtR],
        { rtol: 1e-6, what: `q=${q} k=${k}` },
      );
    }
  },
});

cases.push({
  name: "bad input rejects with typed error codes",
  async run(b) {
    const m = (rows: number, cols: number, fill = 1): Matrix => ({
      data: new Float32Array(rows * cols).fill(fill),
      rows,
      cols,
    });
    const q = m(2, 4);
    const r = m(3, 4);
    await expectCode(b.pairwise(q, m(3, 5), "l2"), "SHAPE_MISMATCH", "column mismatch");
    await expectCode(b.pairwise(m(2, 4, NaN), r, "l2"), "NON_FINITE", "NaN query");
    await expectCode(b.pairwise(q, m(3, 4, Infinity), "dot"), "NON_FINITE", "Infinity reference");
    await expectCode(b.pairwise(m(0, 4), r, "l2"), "EMPTY_INPUT", "empty query");
    await expectCode(b.pairwise(q, r, "cosin" as Metric), "UNKNOWN_NAME", "unknown metric");
    await expectCode(b.norms(m(0, 3)), "EMPTY_INPUT", "norms of empty");
    await expectCode(b.normalize(m(2, 2, NaN)), "NON_FINITE", "normalize NaN");
    await expectCode(b.topk(q, r, { k: 4 }), "K_TOO_LARGE", "k > R");
    await expectCode(b.topk(q, r, { k: 0 }), "INVALID_ARGUMENT", "k = 0");
    await expectCode(b.topk(q, r, { k: 1, metric: "manhattan" as Metric }), "UNKNOWN_NAME", "topk metric");
    await expectCode(
      b.topk(q, r, { k: 1, referenceLabels: new Int32Array(2), allowLabels: new Int32Array(1) }),
      "LABEL_MISMATCH",
      "reference labels length",
    );
    const d = m(3, 3, 0);
    const same = sameLabelMatrix([0, 0, 1]);
    await expectCode(b.batchHard(m(3, 2), same), "SHAPE_MISMATCH", "non-square");
    await expectCode(b.batchHard(d, new Uint8Array(4)), "LABEL_MISMATCH", "mask size");
    await expectCode(b.batchHard(m(3, 3, NaN), same), "NON_FINITE", "NaN distances");
    await expectCode(
      b.tripletMargin(d, same, { margin: 0.1, type: "hardest" as TripletType }),
      "UNKNOWN_NAME",
      "triplet type",
    );
    await expectCode(b.tripletMargin(d, same, { margin: NaN, type: "all" }), "INVALID_ARGUMENT", "NaN margin");
    await expectCode(b.pairMargin(d, same, { posMargin: 0, negMargin: Infinity }), "INVALID_ARGUMENT", "margin");
    await expectCode(b.multiSimilarity(d, new Uint8Array(9), { epsilon: NaN }), "INVALID_ARGUMENT", "epsilon");
    await expectCode(b.retrievalMetrics(new Uint8Array(5), new Int32Array(2), 3), "SHAPE_MISMATCH", "relevant size");
    await expectCode(
      b.retrievalMetrics(new Uint8Array([1, 1]), new Int32Array([1]), 2),
      "INVALID_ARGUMENT",
      "hits > R",
    );
    await expectCode(b.retrievalMetrics(new Uint8Array(2), new Int32Array([3]), 2), "OUT_OF_RANGE", "R > k");
    await expectCode(b.retrievalMetrics(new Uint8Array(0), new Int32Array(0), 2), "EMPTY_INPUT", "no queries");
  },
});

// ---------------------------------------------------------------------------------------------
// Run every case on every backend.

const NAMES: BackendName[] = ["webgpu", "wasm-simd", "wasm", "js"];

for (const name of NAMES) {
  const skip = skipReason(name);
  test(`${name}: backend starts and reports itself`, skip ? { skip } : {}, async () => {
    const b = await backend(name);
    assert.equal(b.info.name, name);
    assert.ok(b.info.detail.length > 0);
    assert.ok(b.info.threads >= 1);
    if (name === "webgpu") {
      console.log(`webgpu adapter: ${b.info.adapter}`);
      assert.ok(b.info.adapter && b.info.adapter.length > 0);
      const gpu = (b as WebGpuBackend).info.gpu;
      console.log(`webgpu tiling: ${JSON.stringify(gpu.tiling)}, timestamp-query: ${gpu.timestampQuery}`);
      assert.ok(gpu.limits.maxComputeWorkgroupStorageSize >= 16384, "adapter limits recorded");
      assert.ok(gpu.deviceLimits.maxComputeInvocationsPerWorkgroup >= gpu.tiling.wgX * gpu.tiling.wgY);
      assert.ok(Array.isArray(gpu.features));
      if (wantRealGpu) assert.doesNotMatch(b.info.adapter, /software fallback/, "expected a real GPU adapter");
    }
  });
  for (const c of cases) {
    test(`${name}: ${c.name}`, skip ? { skip } : {}, async () => {
      await c.run(await backend(name));
    });
  }
}

test(
  "webgpu: k > 256 was handed to the delegate and counted; k ≤ 256 stayed on the GPU",
  skipReason("webgpu") ? { skip: skipReason("webgpu") } : {},
  async () => {
    const b = (await backend("webgpu")) as WebGpuBackend;
    const before = b.fallbacks["k > 256"] ?? 0;
    const rng = createRng(21);
    const q = rand(rng, 2, 4);
    const r = rand(rng, 280, 4);
    await checkTopK(await b.topk(q, r, { k: 257, metric: "l1" }), q, r, 257, "l1");
    assert.equal(b.fallbacks["k > 256"], before + 1);
    await checkTopK(await b.topk(q, r, { k: 256, metric: "l1" }), q, r, 256, "l1");
    assert.equal(b.fallbacks["k > 256"], before + 1);
    assert.equal(Object.keys(b.fallbacks).filter((k) => k !== "k > 256").length, 0, JSON.stringify(b.fallbacks));
  },
);

test("conformance teardown: disposed backends reject further calls", async () => {
  const q: Matrix = { data: new Float32Array([1, 2]), rows: 1, cols: 2 };
  for (const [name, p] of backends) {
    const b = await p;
    b.dispose();
    if (name !== "js") await assert.rejects(b.pairwise(q, q, "dot"), `${name} after dispose`);
  }
  ref.dispose();
  assert.deepEqual((await ref.pairwise(q, q, "dot")).data, new Float32Array([5]));
});
