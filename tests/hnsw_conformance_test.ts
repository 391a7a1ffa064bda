/**
 * The `hnsw` kind through the shared entry points (`createIndex`, `loadIndex`) on every backend
 * that can host it, checked against the `flat` kind: with efSearch ≥ size the graph walk visits
 * every row, so it must return exactly what exact search returns (ties to the lower position
 * included), with filters, tombstones, compaction and a save/load round trip; also when the walk
 * compares int8 codes (`codes: "int8"`), whose float32 rerank then gives the exact results.
 *
 *   ./node_modules/.bin/deno test -A tests/hnsw_conformance_test.ts
 *   ./node_modules/.bin/bun test ./tests/hnsw_conformance_test.ts
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { createRng, type Matrix } from "@likeness/core";
import { createIndex, type IndexSearchOptions, loadIndex, type Metric, type VectorIndex } from "@likeness/backend";
import { INDEX_TARGETS } from "./_conformance.ts";

// Every metric walking on float32 rows, and on int8 codes with the float32 rerank.
const CASES: [Metric, "float32" | "int8"][] = (["dot", "l2", "sqeuclidean", "l1"] as Metric[])
  .flatMap((m) => [[m, "float32"], [m, "int8"]] as [Metric, "float32" | "int8"][]);

// The index targets that host the hnsw kind's own graph (webgpu delegates to wasm-simd; two threads add nothing here).
const TARGETS = INDEX_TARGETS.filter((t) => t.name === "js" || t.name === "wasm" || t.name === "wasm-simd");

function ints(seed: number, rows: number, cols: number): Matrix {
  const rng = createRng(seed);
  const data = new Float32Array(rows * cols);
  for (let i = 0; i < data.length; i++) data[i] = rng.int(7) - 3;
  return { data, rows, cols };
}

async function same(a: VectorIndex, b: VectorIndex, q: Matrix, k: number, what: string, filter?: object) {
  // `mode: "graph"` (an option of the hnsw kind) keeps the small index off its exact-scan switch.
  const ra = await a.search(q, { k, filter, mode: "graph" } as IndexSearchOptions);
  const rb = await b.search(q, { k, filter });
  assert.deepEqual(Array.from(ra.ids), Array.from(rb.ids), what);
  for (let i = 0; i < ra.values.length; i++) {
    assert.ok(Object.is(ra.values[i], rb.values[i]) || Math.abs(ra.values[i] - rb.values[i]) <= 1e-5, what);
  }
}

for (const t of TARGETS) {
  test(
    `index ${t.name}: hnsw with efSearch ≥ size equals flat (every metric, ties, filters, remove, compact, reload)`,
    {
      skip: t.skip,
    },
    async () => {
      const b = await t.make();
      try {
        const R = 400, D = 9;
        const ref = ints(1, R, D), q = ints(2, 6, D);
        const labels = Array.from({ length: R }, (_, i) => i % 4);
        const ids = Array.from({ length: R }, (_, i) => 10 + 3 * i);
        for (const [metric, codes] of CASES) {
          const what = codes === "int8" ? `${metric} int8 codes` : metric;
          const flat = await createIndex({ dim: D, metric, kind: "flat" }, b);
          const hnsw = await createIndex({
            dim: D,
            metric,
            kind: "hnsw",
            hnsw: { M: 6, efSearch: R, seed: 3, codes },
          }, b);
          assert.equal(hnsw.kind, "hnsw");
          for (const index of [flat, hnsw]) await index.add(ref, { ids, labels });
          await same(hnsw, flat, q, 10, what);
          await same(hnsw, flat, q, 10, `${what} label filter`, { labels: [1, 2] });
          await same(hnsw, flat, q, 5, `${what} id filter`, { ids: [13, 16, 700, 1000] });
          const gone = ids.filter((_, i) => i % 3 === 0);
          for (const index of [flat, hnsw]) await index.remove(gone);
          await same(hnsw, flat, q, 10, `${what} after remove`);
          await hnsw.compact();
          await same(hnsw, flat, q, 10, `${what} after compact`);
          const back = await loadIndex(await hnsw.save(), b, { dim: D });
          assert.equal(back.kind, "hnsw");
          assert.equal(back.size, flat.size);
          await same(back, flat, q, 10, `${what} after reload`);
          for (const index of [flat, hnsw, back]) index.dispose();
        }
      } finally {
        b.dispose();
      }
    },
  );
}
