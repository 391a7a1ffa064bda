/**
 * Vector index conformance: ONE list of cases run on every backend's index (`js` reference,
 * `wasm`, `wasm-simd` on 1 and 2 threads, and `webgpu` with `LIKENESS_TEST_WEBGPU=1`, which
 * delegates to wasm-simd), in Deno and Bun.
 *
 *   ./node_modules/.bin/deno test -A tests/index_conformance_test.ts
 *   ./node_modules/.bin/bun test ./tests/index_conformance_test.ts
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { createRng, isLikenessError, type Matrix, type Rng } from "@likeness/core";
import {
  type Backend,
  crc32,
  createIndex,
  createJsBackend,
  type IndexKind,
  loadIndex,
  type Metric,
  METRICS,
  type VectorIndex,
} from "@likeness/backend";
import { topkRef } from "@likeness/kernels/reference";
import { INDEX_TARGETS, ints as intsOf, rand } from "./_conformance.ts";

const TARGETS = INDEX_TARGETS;
const ints = (rng: Rng, rows: number, cols: number, range = 3): Matrix => intsOf(rng, rows, cols, range);

function rowsOf(m: Matrix, keep: (i: number) => boolean): { m: Matrix; map: number[] } {
  const map: number[] = [];
  for (let i = 0; i < m.rows; i++) if (keep(i)) map.push(i);
  const data = new Float32Array(map.length * m.cols);
  map.forEach((i, t) => data.set(m.data.subarray(i * m.cols, (i + 1) * m.cols), t * m.cols));
  return { m: { data, rows: map.length, cols: m.cols }, map };
}

function code(e: unknown): string | undefined {
  return isLikenessError(e) ? e.code : undefined;
}

async function rejectsWith(p: Promise<unknown>, want: string): Promise<void> {
  await assert.rejects(p, (e) => {
    assert.equal(code(e), want, `expected ${want}, got ${code(e)}: ${(e as Error).message}`);
    return true;
  });
}

/** Run `body` on every target (a skipped one states its reason). */
function each(title: string, body: (b: Backend, name: string) => Promise<void>): void {
  for (const t of TARGETS) {
    test(`index ${t.name}: ${title}`, { skip: t.skip }, async () => {
      const b = await t.make();
      try {
        await body(b, t.name);
      } finally {
        b.dispose();
      }
    });
  }
}

const EXACT_METRICS: Metric[] = ["dot", "l2", "sqeuclidean", "l1"];

each("flat search equals the float64 reference on integer data (ties to the lower position)", async (b) => {
  const rng = createRng(3);
  for (const D of [1, 3, 4, 5, 16, 17, 65]) {
    const R = 150, Q = 7;
    const ref = ints(rng, R, D), q = ints(rng, Q, D);
    for (const metric of EXACT_METRICS) {
      const index = await createIndex({ dim: D, metric, capacity: 4 }, b);
      await index.add(ref);
      for (const k of [1, 5, 64]) {
        const got = await index.search(q, { k });
        const want = topkRef(q, ref, { k, metric });
        assert.deepEqual(Array.from(got.ids), Array.from(want.indices), `${metric} D=${D} k=${k}`);
        for (let t = 0; t < got.values.length; t++) {
          assert.ok(Math.abs(got.values[t] - want.values[t]) <= 1e-5 * Math.max(1, Math.abs(want.values[t])));
        }
      }
      index.dispose();
    }
  }
});

each("flat cosine gives the ids of Backend.topk and values within 1e-6", async (b) => {
  const rng = createRng(4);
  for (const [R, Q, D] of [[300, 9, 33], [2100, 3, 128]]) {
    const ref = rand(rng, R, D), q = rand(rng, Q, D);
    const index = await createIndex({ dim: D, metric: "cosine" }, b);
    await index.add(ref);
    const got = await index.search(q, { k: 10 });
    const want = await b.topk(q, ref, { k: 10, metric: "cosine" });
    assert.deepEqual(Array.from(got.ids), Array.from(want.indices));
    for (let t = 0; t < got.values.length; t++) assert.ok(Math.abs(got.values[t] - want.values[t]) < 1e-6);
    index.dispose();
  }
});

each("large k, many blocks, both thread splits: ids equal the reference", async (b) => {
  const rng = createRng(5);
  const R = 4100, D = 64;
  const ref = ints(rng, R, D, 2);
  const index = await createIndex({ dim: D, metric: "l2" }, b);
  await index.add(ref);
  for (const Q of [1, 3, 12]) {
    const q = ints(rng, Q, D, 2);
    for (const k of [100, 1000]) {
      const got = await index.search(q, { k });
      const want = topkRef(q, ref, { k, metric: "l2" });
      assert.deepEqual(Array.from(got.ids), Array.from(want.indices), `Q=${Q} k=${k}`);
    }
  }
  index.dispose();
});

each("ids, labels, filters, remove, compact and re-add keep ids stable", async (b) => {
  const rng = createRng(6);
  const R = 60, D = 5;
  const ref = ints(rng, R, D);
  const labels = Array.from({ length: R }, (_, i) => i % 3);
  const ids = Array.from({ length: R }, (_, i) => 1000 + 7 * i);
  for (const kind of ["flat", "int8", "binary"] as IndexKind[]) {
    const index = await createIndex({ dim: D, metric: "l1", kind, oversample: 64 }, b);
    const got = await index.add(ref, { ids, labels });
    assert.deepEqual(Array.from(got), ids);
    assert.equal(index.size, R);
    const q = ints(rng, 2, D);
    // Label filter: only label 1 rows.
    const onlyOne = await index.search(q, { k: 5, filter: { labels: [1] } });
    const sub = rowsOf(ref, (i) => labels[i] === 1);
    const want1 = topkRef(q, sub.m, { k: 5, metric: "l1" });
    assert.deepEqual(Array.from(onlyOne.ids), Array.from(want1.indices, (j) => ids[sub.map[j]]), kind);
    // Id filter with fewer eligible than k: padding -1 / NaN.
    const q1 = { data: q.data.slice(0, D), rows: 1, cols: D };
    const few = await index.search(q1, { k: 4, filter: { ids: [ids[3], ids[10], 99] } });
    assert.deepEqual(Array.from(few.ids).filter((v) => v >= 0).sort((x, y) => x - y), [ids[3], ids[10]]);
    assert.equal(few.ids[2], -1);
    assert.ok(Number.isNaN(few.values[3]));
    // Remove a third, search skips them; compact keeps the answers and ids.
    const gone = ids.filter((_, i) => i % 3 === 0);
    assert.equal(await index.remove(gone), gone.length);
    assert.equal(index.size, R - gone.length);
    assert.equal(index.has(gone[0]), false);
    const live = rowsOf(ref, (i) => i % 3 !== 0);
    const want = topkRef(q, live.m, { k: 6, metric: "l1" });
    const wantIds = Array.from(want.indices, (j) => ids[live.map[j]]);
    assert.deepEqual(Array.from((await index.search(q, { k: 6 })).ids), wantIds, kind);
    const before = index.memoryBytes;
    await index.compact();
    assert.deepEqual(Array.from((await index.search(q, { k: 6 })).ids), wantIds, `${kind} after compact`);
    assert.ok(index.memoryBytes <= before);
    // Re-add a removed id; auto ids continue after the largest id seen.
    await index.add({ data: ref.data.slice(0, D), rows: 1, cols: D }, { ids: [gone[0]] });
    const auto = await index.add({ data: ref.data.slice(0, 2 * D), rows: 2, cols: D });
    assert.deepEqual(Array.from(auto), [ids[R - 1] + 1, ids[R - 1] + 2]);
    index.dispose();
  }
});

each("int8 and binary rerank reach recall@10 ≥ 0.9 on clustered data, values exact", async (b) => {
  const rng = createRng(7);
  const R = 1500, D = 48, Q = 20, C = 30;
  const centres = rand(rng, C, D);
  const ref = new Float32Array(R * D);
  for (let i = 0; i < R; i++) {
    const c = rng.int(C);
    for (let d = 0; d < D; d++) ref[i * D + d] = centres.data[c * D + d] + 0.3 * (rng.next() - 0.5);
  }
  const refM = { data: ref, rows: R, cols: D };
  // Queries near the data (a stored row plus noise), as in retrieval.
  const q = rand(rng, Q, D);
  for (let i = 0; i < Q; i++) {
    const j = rng.int(R);
    for (let d = 0; d < D; d++) q.data[i * D + d] = ref[j * D + d] + 0.05 * q.data[i * D + d];
  }
  for (const metric of ["cosine", "l2"] as Metric[]) {
    const flat = await createIndex({ dim: D, metric }, b);
    await flat.add(refM);
    const exact = await flat.search(q, { k: 10 });
    for (const kind of ["int8", "binary"] as IndexKind[]) {
      const index = await createIndex({ dim: D, metric, kind }, b);
      await index.add(refM);
      const got = await index.search(q, { k: 10 });
      let hit = 0;
      for (let i = 0; i < Q; i++) {
        const want = new Set(exact.ids.subarray(i * 10, i * 10 + 10));
        for (const id of got.ids.subarray(i * 10, i * 10 + 10)) if (want.has(id)) hit++;
      }
      assert.ok(hit / (Q * 10) >= (kind === "int8" ? 0.97 : 0.9), `${kind} ${metric} recall ${hit / (Q * 10)}`);
      // Reranked values are exact metric values of the returned ids.
      for (let t = 0; t < got.ids.length; t++) {
        const row = t - (t % 10);
        const pos = exact.ids.subarray(row, row + 10).indexOf(got.ids[t]) + row;
        if (pos >= row) assert.ok(Math.abs(got.values[t] - exact.values[pos]) < 1e-5);
      }
      assert.equal(index.info().params.oversample, kind === "int8" ? 4 : 16);
      index.dispose();
    }
    flat.dispose();
  }
});

each(
  "int8 and binary return the js reference's ids and values (codes resident, threads, filters, tombstones)",
  async (b) => {
    // Rows are stored as given (no cosine normalisation), so every backend holds the same float32
    // rows and codes, and its scan must keep the same candidates as the plain-TS loop.
    const rng = createRng(12);
    const R = 3000, D = 48;
    const ref = ints(rng, R, D, 4);
    const labels = Array.from({ length: R }, () => rng.int(5));
    const js = createJsBackend();
    try {
      for (const kind of ["int8", "binary"] as IndexKind[]) {
        for (const metric of ["dot", "l2", "sqeuclidean", "l1"] as Metric[]) {
          const a = await createIndex({ dim: D, metric, kind, capacity: 16 }, b);
          const want = await createIndex({ dim: D, metric, kind, capacity: 16 }, js);
          for (const index of [a, want]) {
            await index.add({ data: ref.data.subarray(0, 1000 * D), rows: 1000, cols: D }, {
              labels: labels.slice(0, 1000),
            });
            await index.add({ data: ref.data.subarray(1000 * D), rows: R - 1000, cols: D }, {
              labels: labels.slice(1000),
            });
            await index.remove(Array.from({ length: 200 }, (_, i) => i * 7));
          }
          // 3 queries: a reference-row split on 2 threads; 20: a query-row split.
          for (const Q of [3, 20]) {
            const q = ints(rng, Q, D, 4);
            for (
              const options of [
                { k: 10 },
                { k: 1 },
                { k: 25, filter: { labels: [1, 3] } },
                { k: 5, filter: { ids: Array.from({ length: 400 }, (_, i) => 3 * i) } },
              ]
            ) {
              const got = await a.search(q, options), exp = await want.search(q, options);
              const what = `${kind} ${metric} Q=${Q} ${JSON.stringify(options).slice(0, 40)}`;
              assert.deepEqual(Array.from(got.ids), Array.from(exp.ids), what);
              assert.deepEqual(Array.from(got.values), Array.from(exp.values), what);
            }
          }
          for (const index of [a, want]) await index.compact();
          const q = ints(rng, 4, D, 4);
          assert.deepEqual(
            Array.from((await a.search(q, { k: 8 })).ids),
            Array.from((await want.search(q, { k: 8 })).ids),
          );
          if (b.info.name !== "js") assert.match(a.info().detail, new RegExp(`${kind} codes resident in WebAssembly`));
          a.dispose();
          want.dispose();
        }
      }
    } finally {
      js.dispose();
    }
  },
);

each("save and load round-trip every kind and metric bit for bit", async (b) => {
  const rng = createRng(8);
  const D = 9, ref = rand(rng, 40, D), q = rand(rng, 3, D);
  for (const kind of ["flat", "int8", "binary"] as IndexKind[]) {
    for (const metric of METRICS) {
      const a = await createIndex({ dim: D, metric, kind }, b);
      await a.add(ref, { labels: Array.from({ length: 40 }, (_, i) => i % 4) });
      await a.remove([0, 5]);
      const bytes = await a.save();
      const c = await loadIndex(bytes, b, { dim: D });
      assert.equal(c.size, 38);
      assert.equal(c.kind, kind);
      assert.equal(c.metric, metric);
      assert.equal(c.has(0), false);
      const ra = await a.search(q, { k: 7, filter: { labels: [1, 2] } });
      const rc = await c.search(q, { k: 7, filter: { labels: [1, 2] } });
      // Same ids; values agree to float32 rounding (rows sit at other positions of the SIMD tiles after a reload).
      assert.deepEqual(rc.ids, ra.ids, `${kind} ${metric}`);
      for (let t = 0; t < ra.values.length; t++) {
        assert.ok(Math.abs(rc.values[t] - ra.values[t]) <= 1e-6 * Math.max(1, Math.abs(ra.values[t])));
      }
      assert.deepEqual(await c.save(), bytes);
      const next = await c.add({ data: ref.data.slice(0, D), rows: 1, cols: D });
      assert.equal(next[0], 40);
      a.dispose();
      c.dispose();
    }
  }
});

each("corrupt, truncated or foreign bytes are CORRUPT; another dimension is SHAPE_MISMATCH", async (b) => {
  const rng = createRng(9);
  const a = await createIndex({ dim: 4, metric: "dot" }, b);
  await a.add(rand(rng, 5, 4));
  const bytes = await a.save();
  a.dispose();
  await rejectsWith(loadIndex(bytes.slice(0, bytes.length - 1), b), "CORRUPT");
  await rejectsWith(loadIndex(bytes.slice(0, 20), b), "CORRUPT");
  await rejectsWith(loadIndex(new Uint8Array(0), b), "CORRUPT");
  for (const at of [0, 8, 12, 40, bytes.length - 10, bytes.length - 1]) {
    const bad = bytes.slice();
    bad[at] ^= 0x10;
    await rejectsWith(loadIndex(bad, b), "CORRUPT");
  }
  // A consistent checksum over inconsistent content (rows say 6, sections hold 5) is still CORRUPT.
  const liar = bytes.slice();
  new DataView(liar.buffer).setUint32(12, 6, true);
  new DataView(liar.buffer).setUint32(liar.length - 4, crc32(liar.subarray(0, liar.length - 4)), true);
  await rejectsWith(loadIndex(liar, b), "CORRUPT");
  await rejectsWith(loadIndex(bytes, b, { dim: 8 }), "SHAPE_MISMATCH");
});

each("bad input is rejected with stable codes and leaves the index unchanged", async (b) => {
  const rng = createRng(10);
  const D = 3;
  const index: VectorIndex = await createIndex({ dim: D, metric: "cosine" }, b);
  await index.add(rand(rng, 4, D), { ids: [1, 2, 3, 4], labels: [0, 0, 1, 1] });
  const q = rand(rng, 2, D);
  const snapshot = async () => [index.size, await index.save(), await index.search(q, { k: 4 })];
  const before = await snapshot();
  await rejectsWith(index.add(rand(rng, 2, D + 1)), "SHAPE_MISMATCH");
  await rejectsWith(index.add({ data: new Float32Array([1, NaN, 0]), rows: 1, cols: D }), "NON_FINITE");
  await rejectsWith(index.add({ data: new Float32Array(0), rows: 0, cols: D }), "EMPTY_INPUT");
  await rejectsWith(index.add(rand(rng, 2, D), { ids: [9, 9] }), "CONFLICT");
  await rejectsWith(index.add(rand(rng, 2, D), { ids: [9, 2] }), "CONFLICT");
  await rejectsWith(index.add(rand(rng, 2, D), { ids: [9] }), "SHAPE_MISMATCH");
  await rejectsWith(index.add(rand(rng, 1, D), { ids: [-1] }), "OUT_OF_RANGE");
  await rejectsWith(index.add(rand(rng, 1, D), { ids: [1.5] }), "INVALID_ARGUMENT");
  await rejectsWith(index.add(rand(rng, 2, D), { labels: [1] }), "LABEL_MISMATCH");
  await rejectsWith(index.remove([1, 77]), "NOT_FOUND");
  await rejectsWith(index.remove([1, 1]), "INVALID_ARGUMENT");
  await rejectsWith(index.search(q, { k: 0 }), "INVALID_ARGUMENT");
  await rejectsWith(index.search(q, { k: 5 }), "K_TOO_LARGE");
  await rejectsWith(index.search(rand(rng, 1, D + 2), { k: 1 }), "SHAPE_MISMATCH");
  await rejectsWith(
    index.search({ data: new Float32Array([0, Infinity, 0]), rows: 1, cols: D }, { k: 1 }),
    "NON_FINITE",
  );
  await rejectsWith(createIndex({ dim: 0 }, b), "INVALID_ARGUMENT");
  await rejectsWith(createIndex({ dim: 2, metric: "cos" as Metric }, b), "UNKNOWN_NAME");
  await rejectsWith(createIndex({ dim: 2, kind: "ivf" as IndexKind }, b), "UNKNOWN_NAME");
  assert.deepEqual(await snapshot(), before);
  index.dispose();
  await rejectsWith(index.search(q, { k: 1 }), "INVALID_ARGUMENT");
});

each("info names where it runs; zero rows under cosine score 0", async (b, name) => {
  const index = await createIndex({ dim: 2, metric: "cosine" }, b);
  await index.add({ data: new Float32Array([0, 0, 3, 4]), rows: 2, cols: 2 });
  const r = await index.search({ data: new Float32Array([1, 0]), rows: 1, cols: 2 }, { k: 2 });
  assert.deepEqual(Array.from(r.ids), [1, 0]);
  assert.ok(Math.abs(r.values[0] - 0.6) < 1e-6 && r.values[1] === 0);
  const info = index.info();
  assert.equal(info.size, 2);
  assert.ok(info.memoryBytes >= 16);
  if (name === "webgpu") assert.match(info.detail, /webgpu: delegated to wasm/);
  if (name === "js") assert.match(info.detail, /js reference/);
  if (name.startsWith("wasm")) assert.match(info.detail, /resident rows/);
  if (name === "wasm-simd×2") assert.match(info.detail, /2 threads/);
  index.dispose();
});

each("flat exclude: query row i skips one id inside the scan, as the reference without that row", async (b) => {
  const rng = createRng(17);
  for (const [R, D, k] of [[200, 5, 5], [640, 16, 150], [3000, 8, 60], [3000, 8, 120]]) {
    // Many ties (integer data) and k both below and above R / 32 (the kernel's two selection modes).
    const ref = ints(rng, R, D, 2);
    const Q = 9;
    const q = { data: ref.data.slice(0, Q * D), rows: Q, cols: D };
    const index = await createIndex({ dim: D, metric: "l1" }, b);
    await index.add(ref);
    const exclude = Int32Array.from({ length: Q }, (_, i) => (i === 4 ? -1 : i === 5 ? R + 50 : i));
    const got = await index.search(q, { k, exclude });
    const full = await index.search(q, { k: k + 1 });
    for (let i = 0; i < Q; i++) {
      const want = Array.from(full.ids.subarray(i * (k + 1), (i + 1) * (k + 1))).filter((id) => id !== exclude[i]);
      assert.deepEqual(Array.from(got.ids.subarray(i * k, (i + 1) * k)), want.slice(0, k), `R=${R} k=${k} row ${i}`);
      assert.ok(!Array.from(got.ids.subarray(i * k, (i + 1) * k)).includes(exclude[i]) || exclude[i] < 0);
    }
    index.dispose();
  }
});

each("flat exclude with ids, removals and a label filter maps ids to positions", async (b) => {
  const rng = createRng(18);
  const R = 80, D = 4;
  const ref = rand(rng, R, D);
  const ids = Array.from({ length: R }, (_, i) => 500 + 3 * i);
  const labels = Array.from({ length: R }, (_, i) => i % 2);
  const index = await createIndex({ dim: D, metric: "l2" }, b);
  await index.add(ref, { ids, labels });
  await index.remove([ids[3], ids[10]]);
  const q = { data: ref.data.slice(0, 2 * D), rows: 2, cols: D };
  const got = await index.search(q, { k: 5, exclude: [ids[0], ids[1]], filter: { labels: [0, 1] } });
  const wide = await index.search(q, { k: 6, filter: { labels: [0, 1] } });
  for (let i = 0; i < 2; i++) {
    const want = Array.from(wide.ids.subarray(i * 6, i * 6 + 6)).filter((id) => id !== ids[i]).slice(0, 5);
    assert.deepEqual(Array.from(got.ids.subarray(i * 5, i * 5 + 5)), want);
  }
  await rejectsWith(index.search(q, { k: 5, exclude: [1] }), "SHAPE_MISMATCH");
  index.dispose();
  const q8 = await createIndex({ dim: D, metric: "l2", kind: "int8" }, b);
  await q8.add(ref);
  await rejectsWith(q8.search(q, { k: 5, exclude: [0, 1] }), "UNSUPPORTED");
  q8.dispose();
});
