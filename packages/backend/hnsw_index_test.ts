import { test } from "node:test";
import assert from "node:assert/strict";
import { createRng, isLikenessError, type Matrix } from "@likeness/core";
import { createHnswIndex, type HnswIndex, loadHnswIndex } from "./hnsw_index.ts";
import { crc32, decodeIndex, encodeIndex } from "./index_format.ts";
import { createIndex, loadIndex } from "./vector_index.ts";

const DIM = 24;

/** Clustered rows (20 Gaussian clusters), deterministic. */
function clustered(n: number, seed: number, dim = DIM): Matrix {
  const rng = createRng(seed);
  const centers = Array.from({ length: 20 }, () => Array.from({ length: dim }, () => rng.normal() * 3));
  const data = new Float32Array(n * dim);
  for (let i = 0; i < n; i++) {
    const c = centers[rng.int(20)];
    for (let k = 0; k < dim; k++) data[i * dim + k] = c[k] + rng.normal();
  }
  return { data, rows: n, cols: dim };
}

function queriesNear(m: Matrix, nq: number, seed: number): Matrix {
  const rng = createRng(seed);
  return { data: m.data.slice(0, nq * m.cols).map((v) => v + 0.3 * rng.normal()), rows: nq, cols: m.cols };
}

/** Brute force in float64: ids of the k best rows per query (ties to the lower row). */
function bruteForce(ref: Matrix, q: Matrix, k: number, metric: string, rowIds?: ArrayLike<number>): Int32Array {
  const out = new Int32Array(q.rows * k);
  const d = ref.cols;
  for (let i = 0; i < q.rows; i++) {
    const scored: [number, number][] = [];
    for (let j = 0; j < ref.rows; j++) {
      let s = 0;
      let qq = 0;
      let rr = 0;
      for (let t = 0; t < d; t++) {
        const a = q.data[i * d + t];
        const b = ref.data[j * d + t];
        if (metric === "l2") s += (a - b) * (a - b);
        else s -= a * b;
        qq += a * a;
        rr += b * b;
      }
      if (metric === "cosine") s /= Math.sqrt(qq * rr) || 1;
      scored.push([s, j]);
    }
    scored.sort((x, y) => x[0] - y[0] || x[1] - y[1]);
    for (let t = 0; t < k; t++) out[i * k + t] = rowIds ? rowIds[scored[t][1]] : scored[t][1];
  }
  return out;
}

function recall(got: Int32Array, want: Int32Array, k: number): number {
  let hit = 0;
  for (let i = 0; i < want.length / k; i++) {
    const s = new Set(want.subarray(i * k, i * k + k));
    for (let j = 0; j < k; j++) hit += s.has(got[i * k + j]) ? 1 : 0;
  }
  return hit / want.length;
}

async function code(p: Promise<unknown> | (() => unknown)): Promise<string> {
  try {
    await (typeof p === "function" ? p() : p);
  } catch (e) {
    assert.ok(isLikenessError(e), `expected a typed error, got ${e}`);
    return e.code;
  }
  return "none";
}

async function built(n: number, metric: "l2" | "cosine" | "dot", variant?: "simd" | "scalar"): Promise<HnswIndex> {
  const index = await createHnswIndex({
    dim: DIM,
    metric,
    variant,
    hnsw: { M: 8, efConstruction: 64, seed: 7 },
    capacity: 64,
  });
  await index.add(clustered(n, n), { labels: Array.from({ length: n }, (_, i) => i % 10) });
  return index;
}

test("hnsw: graph search equals exact search when efSearch ≥ size (l2, cosine, dot)", async () => {
  for (const metric of ["l2", "cosine", "dot"] as const) {
    const index = await built(1200, metric);
    const q = queriesNear(clustered(1200, 1200), 40, 3);
    const r = await index.search(q, { k: 10, efSearch: 1200, mode: "graph" });
    const ex = await index.search(q, { k: 10, mode: "exact" });
    assert.deepEqual(r.ids, ex.ids, metric);
    assert.deepEqual(r.values, ex.values, metric);
    assert.ok(recall(r.ids, bruteForce(clustered(1200, 1200), q, 10, metric), 10) >= 0.99, metric);
    index.dispose();
  }
});

test("hnsw: recall@10 is monotone in efSearch on a fixed data set and reaches 1", async () => {
  const ref = clustered(3000, 3000);
  const index = await built(3000, "l2");
  const q = queriesNear(ref, 100, 4);
  const want = bruteForce(ref, q, 10, "l2");
  let last = 0;
  const seen: number[] = [];
  for (const ef of [10, 16, 24, 40, 64, 128, 256]) {
    const r = recall((await index.search(q, { k: 10, efSearch: ef, mode: "graph" })).ids, want, 10);
    seen.push(r);
    assert.ok(r >= last, `recall fell from ${last} to ${r} at efSearch ${ef}: ${seen}`);
    last = r;
  }
  assert.ok(seen[0] < 1, `the smallest efSearch should miss some neighbours: ${seen}`);
  assert.equal(last, 1);
  index.dispose();
});

/** CRC-32 of the graph's arrays (levels, lists, entry): equal graphs have equal CRCs. */
async function graphCrc(index: HnswIndex): Promise<string> {
  const a = await index.graphArrays();
  const parts = [a.levels, a.upperOff, a.links0, a.upper, new Int32Array([a.entry, a.maxLevel])];
  const bytes = new Uint8Array(parts.reduce((s, p) => s + p.byteLength, 0));
  let at = 0;
  for (const p of parts) {
    bytes.set(new Uint8Array(p.buffer, p.byteOffset, p.byteLength), at);
    at += p.byteLength;
  }
  return crc32(bytes).toString(16);
}

// Same seed and insertion order: the same graph bytes in Deno and in Bun (this test runs in both).
const GOLDEN_GRAPH_CRC = { simd: "3fe42b85", scalar: "3fe42b85" };

test("hnsw: one seed and insertion order give the same graph bytes in every runtime, in one batch or many", async () => {
  for (const variant of ["simd", "scalar"] as const) {
    const one = await built(1000, "cosine", variant);
    const crc = await graphCrc(one);
    assert.equal(crc, GOLDEN_GRAPH_CRC[variant], `${variant} graph differs from the golden graph`);
    const many = await createHnswIndex({
      dim: DIM,
      metric: "cosine",
      variant,
      hnsw: { M: 8, efConstruction: 64, seed: 7 },
    });
    const m = clustered(1000, 1000);
    for (let i = 0; i < 1000; i += 250) {
      await many.add({ data: m.data.subarray(i * DIM, (i + 250) * DIM), rows: 250, cols: DIM }, {
        labels: Array.from({ length: 250 }, (_, j) => (i + j) % 10),
      });
    }
    assert.equal(await graphCrc(many), crc);
    const other = await createHnswIndex({
      dim: DIM,
      metric: "cosine",
      variant,
      hnsw: { M: 8, efConstruction: 64, seed: 8 },
    });
    await other.add(m);
    assert.notEqual(await graphCrc(other), crc, "another seed should give another graph");
  }
});

test("hnsw: remove tombstones at once, compact rebuilds with the same ids and frees memory", async () => {
  const ref = clustered(1500, 1500);
  const index = await built(1500, "l2");
  const q = queriesNear(ref, 30, 5);
  const gone = Array.from({ length: 750 }, (_, i) => 2 * i);
  assert.equal(await index.remove(gone), 750);
  assert.equal(index.size, 750);
  assert.ok(!index.has(0) && index.has(1));
  const liveRows = Array.from({ length: 750 }, (_, i) => 2 * i + 1);
  const live: Matrix = {
    data: new Float32Array(liveRows.flatMap((r) => Array.from(ref.data.subarray(r * DIM, (r + 1) * DIM)))),
    rows: 750,
    cols: DIM,
  };
  const want = bruteForce(live, q, 10, "l2", liveRows);
  const r = await index.search(q, { k: 10, efSearch: 1500, mode: "graph" });
  assert.deepEqual(r.ids, want);
  const before = index.memoryBytes;
  await index.compact();
  assert.ok(index.memoryBytes < before, `${index.memoryBytes} ≥ ${before}`);
  assert.equal(index.graphRows, 750);
  const after = await index.search(q, { k: 10, efSearch: 750, mode: "graph" });
  assert.deepEqual(after.ids, want);
  assert.ok(recall((await index.search(q, { k: 10 })).ids, want, 10) >= 0.95);
  index.dispose();
});

test("hnsw: filtered search by label and id set, graph walk and exact switch, recall at 50 %, 10 % and 1 %", async () => {
  const n = 4000;
  const ref = clustered(n, 77);
  const index = await createHnswIndex({ dim: DIM, metric: "l2", hnsw: { M: 8, efConstruction: 64, seed: 1 } });
  await index.add(ref, { labels: Array.from({ length: n }, (_, i) => i % 100) });
  const q = queriesNear(ref, 40, 6);
  for (const pct of [50, 10, 1]) {
    const labels = Array.from({ length: pct }, (_, i) => i);
    const rows = Array.from({ length: n }, (_, i) => i).filter((i) => i % 100 < pct);
    const sub: Matrix = {
      data: new Float32Array(rows.flatMap((r) => Array.from(ref.data.subarray(r * DIM, (r + 1) * DIM)))),
      rows: rows.length,
      cols: DIM,
    };
    const want = bruteForce(sub, q, 10, "l2", rows);
    const auto = await index.search(q, { k: 10, filter: { labels } });
    const graph = await index.search(q, { k: 10, filter: { labels }, mode: "graph" });
    for (const id of graph.ids) assert.ok(id % 100 < pct, `id ${id} passed the filter`);
    assert.ok(recall(auto.ids, want, 10) >= 0.95, `auto at ${pct} %`);
    assert.ok(recall(graph.ids, want, 10) >= 0.9, `graph at ${pct} %: ${recall(graph.ids, want, 10)}`);
    // The rule: exact scan when 2e² ≤ M·ef·n (here 8·64·4000 = 2,048,000, so e ≤ 1,011).
    assert.equal(index.usesExactScan(rows.length, 64), rows.length <= 1011);
    if (index.usesExactScan(rows.length, 64)) assert.deepEqual(auto.ids, want);
  }
  const ids = new Set([5, 17, 3999, 123456]);
  const r = await index.search(q, { k: 5, filter: { ids } });
  for (let i = 0; i < q.rows; i++) {
    assert.deepEqual(Array.from(r.ids.subarray(i * 5, i * 5 + 3)).sort((a, b) => a - b), [5, 17, 3999]);
    assert.deepEqual(Array.from(r.ids.subarray(i * 5 + 3, i * 5 + 5)), [-1, -1]);
    assert.ok(Number.isNaN(r.values[i * 5 + 4]));
  }
  const both = await index.search(q, { k: 1, filter: { ids: [5, 17], labels: [17] } });
  assert.ok(both.ids.every((id) => id === 17));
  index.dispose();
});

test("hnsw: save and load in one buffer give the same searches and, after more adds, the same graph", async () => {
  const ref = clustered(1600, 1600);
  const head: Matrix = { data: ref.data.subarray(0, 1000 * DIM), rows: 1000, cols: DIM };
  const tail: Matrix = { data: ref.data.subarray(1000 * DIM), rows: 600, cols: DIM };
  const a = await createHnswIndex({ dim: DIM, metric: "cosine", hnsw: { M: 8, efConstruction: 48, seed: 9 } });
  await a.add(head, { labels: Array.from({ length: 1000 }, (_, i) => i % 7) });
  await a.remove([3, 4, 5]);
  const bytes = await a.save();
  const b = await loadHnswIndex(bytes, { dim: DIM, kind: "hnsw" });
  assert.deepEqual({ ...b.info(), memoryBytes: 0 }, { ...a.info(), memoryBytes: 0 });
  const q = queriesNear(ref, 20, 8);
  assert.deepEqual(
    await b.search(q, { k: 10, filter: { labels: [2] } }),
    await a.search(q, { k: 10, filter: { labels: [2] } }),
  );
  assert.deepEqual(await b.save(), bytes);
  await a.add(tail);
  await b.add(tail);
  assert.equal(await graphCrc(b), await graphCrc(a));
  assert.deepEqual(await b.search(q, { k: 10 }), await a.search(q, { k: 10 }));
  a.dispose();
  b.dispose();
});

test("hnsw: bad parameters, dimensions, ids, k, other kinds and corrupt files give typed errors and change nothing", async () => {
  assert.equal(await code(() => createHnswIndex({ dim: 4, hnsw: { M: 1 } })), "INVALID_ARGUMENT");
  assert.equal(await code(() => createHnswIndex({ dim: 4, hnsw: { efConstruction: 0 } })), "INVALID_ARGUMENT");
  assert.equal(await code(() => createHnswIndex({ dim: 4, hnsw: { efSearch: 1.5 } })), "INVALID_ARGUMENT");
  assert.equal(await code(() => createHnswIndex({ dim: 4, hnsw: { seed: Number.NaN } })), "INVALID_ARGUMENT");
  assert.equal(await code(() => createHnswIndex({ dim: 0 })), "INVALID_ARGUMENT");
  assert.equal(await code(() => createIndex({ dim: 4, kind: "hnsw", hnsw: { M: 200 } })), "INVALID_ARGUMENT");
  assert.equal(await code(() => createHnswIndex({ dim: 4, kind: "flat" })), "UNKNOWN_NAME");
  assert.equal(await code(() => createHnswIndex({ dim: 4, metric: "cosin" as "cosine" })), "UNKNOWN_NAME");

  const index = await built(300, "l2");
  const saved = await index.save();
  const q = queriesNear(clustered(300, 300), 5, 1);
  const r0 = await index.search(q, { k: 5 });
  const bad: Matrix = { data: new Float32Array(10), rows: 1, cols: 10 };
  assert.equal(await code(index.add(bad)), "SHAPE_MISMATCH");
  assert.equal(await code(index.search(bad, { k: 1 })), "SHAPE_MISMATCH");
  const nan: Matrix = { data: new Float32Array(DIM).fill(NaN), rows: 1, cols: DIM };
  assert.equal(await code(index.add(nan)), "NON_FINITE");
  const two: Matrix = { data: new Float32Array(2 * DIM), rows: 2, cols: DIM };
  assert.equal(await code(index.add(two, { ids: [1000, 1000] })), "CONFLICT");
  assert.equal(await code(index.add(two, { ids: [1000, 7] })), "CONFLICT");
  assert.equal(await code(index.add(two, { ids: [1000, -1] })), "OUT_OF_RANGE");
  assert.equal(await code(index.add(two, { labels: [1] })), "LABEL_MISMATCH");
  assert.equal(await code(index.remove([1, 99999])), "NOT_FOUND");
  assert.equal(await code(index.remove([1, 1])), "INVALID_ARGUMENT");
  assert.equal(await code(index.search(q, { k: 0 })), "INVALID_ARGUMENT");
  assert.equal(await code(index.search(q, { k: 301 })), "K_TOO_LARGE");
  const fewer = await index.search(q, { k: 302, allowFewer: true });
  assert.equal(fewer.k, 302);
  assert.deepEqual(Array.from(fewer.ids.subarray(300, 302)), [-1, -1]);
  assert.equal(new Set(fewer.ids.subarray(0, 300)).size, 300);
  assert.equal(await code(index.search(q, { k: 5, efSearch: 0 })), "INVALID_ARGUMENT");
  assert.equal(await code(index.search(q, { k: 5000 })), "K_TOO_LARGE");
  assert.equal(await code(index.search(q, { k: 5, mode: "fast" as "graph" })), "INVALID_ARGUMENT");
  assert.equal(index.size, 300);
  assert.deepEqual(await index.save(), saved, "a rejected call changed the index");
  assert.deepEqual(await index.search(q, { k: 5 }), r0);

  assert.equal(await code(loadHnswIndex(saved, { dim: 8 })), "SHAPE_MISMATCH");
  assert.equal(await code(loadHnswIndex(saved, { kind: "flat" })), "UNSUPPORTED");
  const file = decodeIndex(saved);
  const flat = encodeIndex({ ...file.header, kind: "flat" }, [...file.sections]);
  assert.equal(await code(loadHnswIndex(flat)), "UNSUPPORTED");
  assert.equal(await code(loadIndex(saved, undefined, { dim: 3 })), "SHAPE_MISMATCH");
  const flipped = saved.slice();
  flipped[saved.length >> 1] ^= 0x40;
  assert.equal(await code(loadHnswIndex(flipped)), "CORRUPT");
  assert.equal(await code(loadIndex(flipped)), "CORRUPT");
  assert.equal(await code(loadHnswIndex(saved.subarray(0, saved.length - 9))), "CORRUPT");
  assert.equal(await code(loadHnswIndex(new Uint8Array(3))), "CORRUPT");
  // A well-formed file (checksum recomputed) whose graph points outside the rows is caught too.
  const sections = [...file.sections].map(([t, b]): [string, Uint8Array] => [t, b.slice()]);
  const graph = sections.find(([t]) => t === "HNSW")![1];
  new DataView(graph.buffer).setInt32(4 * (5 + 2 * 300 + 1), 1 << 20, true);
  assert.equal(await code(loadHnswIndex(encodeIndex(file.header, sections))), "CORRUPT");
  // Through the shared entry point the same file loads as the same index.
  const again = await loadIndex(saved, undefined, { dim: DIM });
  assert.equal(again.kind, "hnsw");
  assert.deepEqual(await again.search(q, { k: 5 }), r0);
  again.dispose();

  index.dispose();
  assert.equal(await code(index.search(q, { k: 1 })), "INVALID_ARGUMENT");
});

test("hnsw int8 codes: the same graph, recall close to float32 at equal efSearch, exact with efSearch ≥ size", async () => {
  const n = 3000;
  const ref = clustered(n, n);
  const q = queriesNear(ref, 100, 5);
  const want = bruteForce(ref, q, 10, "l2");
  const make = async (codes: "float32" | "int8") => {
    const index = await createHnswIndex({ dim: DIM, metric: "l2", hnsw: { M: 8, efConstruction: 64, seed: 7, codes } });
    await index.add(ref);
    return index;
  };
  const f32 = await make("float32");
  const i8 = await make("int8");
  assert.equal(await graphCrc(i8), await graphCrc(f32), "the build walks on float32 either way");
  assert.ok(i8.memoryBytes > f32.memoryBytes, "codes take memory");
  assert.match(i8.info().detail, /int8 codes/);
  for (const ef of [16, 64]) {
    const rf = recall((await f32.search(q, { k: 10, efSearch: ef, mode: "graph" })).ids, want, 10);
    const ri = recall((await i8.search(q, { k: 10, efSearch: ef, mode: "graph" })).ids, want, 10);
    assert.ok(ri >= rf - 0.03 && ri > 0.8, `efSearch ${ef}: int8 ${ri} vs float32 ${rf}`);
  }
  // Values after the rerank are float32 distances: those of the exact scan for the same ids.
  const all = await i8.search(q, { k: 10, efSearch: n, mode: "graph" });
  const ex = await i8.search(q, { k: 10, mode: "exact" });
  assert.deepEqual(all.ids, ex.ids);
  assert.deepEqual(all.values, ex.values);
  // Rows outside the fitted range refit the quantizer (no clamping): far rows are still found.
  const far = { data: ref.data.slice(0, 2 * DIM).map((v) => v * 40), rows: 2, cols: DIM };
  const [a, b] = await i8.add(far);
  const hit = await i8.search(far, { k: 1, efSearch: 32, mode: "graph" });
  assert.deepEqual(Array.from(hit.ids), [a, b]);
  f32.dispose();
  i8.dispose();
});

test("hnsw int8 codes: saved as format version 2 with HQ8, loaded with the same searches; damage gives CORRUPT", async () => {
  const ref = clustered(600, 600);
  const q = queriesNear(ref, 20, 6);
  const index = await createHnswIndex({
    dim: DIM,
    metric: "cosine",
    hnsw: { M: 8, efConstruction: 48, codes: "int8" },
  });
  await index.add(ref);
  await index.remove([5, 9]);
  const saved = await index.save();
  const file = decodeIndex(saved);
  assert.equal(file.header.version, 2);
  assert.equal(file.sections.get("HQ8 ")!.byteLength, (DIM + 1) * 4);
  const r0 = await index.search(q, { k: 10, efSearch: 24, mode: "graph" });
  for (const back of [await loadHnswIndex(saved), await loadIndex(saved)]) {
    assert.match(back.info().detail, /int8 codes/);
    assert.deepEqual(await back.search(q, { k: 10, efSearch: 24, mode: "graph" } as never), r0);
    back.dispose();
  }
  // A float32 index still writes version 1 (readable by builds that know only version 1).
  const plain = await createHnswIndex({ dim: DIM, metric: "cosine" });
  await plain.add(queriesNear(ref, 30, 7));
  assert.equal(decodeIndex(await plain.save()).header.version, 1);
  plain.dispose();
  const without = [...file.sections].filter(([t]) => t !== "HQ8 ");
  assert.equal(await code(loadHnswIndex(encodeIndex(file.header, without))), "CORRUPT");
  assert.equal(await code(loadHnswIndex(encodeIndex({ ...file.header, version: 1 }, [...file.sections]))), "CORRUPT");
  const bad = [...file.sections].map(([t, b]): [string, Uint8Array] => [t, b.slice()]);
  new DataView(bad.find(([t]) => t === "HQ8 ")![1].buffer).setFloat32(DIM * 4, -1, true);
  assert.equal(await code(loadHnswIndex(encodeIndex(file.header, bad))), "CORRUPT");
  const newer = saved.slice();
  new DataView(newer.buffer).setUint16(4, 3, true);
  new DataView(newer.buffer).setUint32(newer.length - 4, crc32(newer.subarray(0, newer.length - 4)), true);
  assert.equal(await code(loadHnswIndex(newer)), "UNSUPPORTED");
  assert.equal(await code(() => encodeIndex({ ...file.header, version: 3 }, [])), "INVALID_ARGUMENT");
  assert.equal(await code(createHnswIndex({ dim: 4, hnsw: { codes: "int4" as "int8" } })), "UNKNOWN_NAME");
  index.dispose();
});

test("hnsw: a version 1 file saved before int8 codes existed still loads and searches as it did", async () => {
  // testdata/hnsw_v1_l2.lkix: saved by the float32-only build (60 rows × 5, l2, M 4, ids 3, 7, 11
  // removed); the search below printed these ids and values then.
  const { readFileSync } = await import("node:fs");
  const bytes = new Uint8Array(readFileSync(new URL("./testdata/hnsw_v1_l2.lkix", import.meta.url)));
  assert.equal(decodeIndex(bytes).header.version, 1);
  const index = await loadHnswIndex(bytes, { dim: 5 });
  assert.equal(index.size, 57);
  assert.deepEqual(index.info().params, { M: 4, efConstruction: 16, efSearch: 8, seed: 9 });
  const rng = createRng(5);
  const data = new Float32Array(60 * 5).map(() => rng.int(9) - 4);
  const r = await index.search({ data: data.subarray(0, 10), rows: 2, cols: 5 }, { k: 4 });
  assert.deepEqual(Array.from(r.ids), [0, 12, 53, 25, 1, 25, 10, 41]);
  assert.deepEqual(
    Array.from(r.values),
    [
      0,
      3.1622776985168457,
      3.316624879837036,
      3.872983455657959,
      0,
      4.242640495300293,
      4.4721360206604,
      4.4721360206604,
    ],
  );
  index.dispose();
});

test("hnsw load with codes: a float32 file loaded as int8 searches as the int8 build of the same graph, and back", async () => {
  const ref = clustered(1500, 31);
  const q = queriesNear(ref, 40, 32);
  const make = (codes: "float32" | "int8") =>
    createHnswIndex({ dim: DIM, metric: "l2", capacity: 1500, hnsw: { M: 8, efConstruction: 60, seed: 9, codes } });
  const f32 = await make("float32");
  const i8 = await make("int8");
  await f32.add(ref);
  await i8.add(ref);
  const asInt8 = await loadHnswIndex(await f32.save(), { dim: DIM, codes: "int8" });
  const asF32 = await loadHnswIndex(await i8.save(), { dim: DIM, codes: "float32" });
  try {
    assert.match(asInt8.info().detail!, /walk on int8 codes/);
    assert.doesNotMatch(asF32.info().detail!, /int8/);
    for (const ef of [10, 50]) {
      const o = { k: 10, efSearch: ef, mode: "graph" as const };
      assert.deepEqual((await asInt8.search(q, o)).ids, (await i8.search(q, o)).ids, `int8, ef ${ef}`);
      assert.deepEqual((await asF32.search(q, o)).ids, (await f32.search(q, o)).ids, `float32, ef ${ef}`);
    }
    // Saved again, it keeps the codes it was loaded with.
    const again = await loadHnswIndex(await asInt8.save(), { dim: DIM });
    assert.match(again.info().detail!, /walk on int8 codes/);
    again.dispose();
    await assert.rejects(loadHnswIndex(await f32.save(), { codes: "int4" as "int8" }), { code: "UNKNOWN_NAME" });
  } finally {
    for (const x of [f32, i8, asInt8, asF32]) x.dispose();
  }
});
