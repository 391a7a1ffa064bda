import { test } from "node:test";
import assert from "node:assert/strict";
import { createRng } from "@likeness/core";
import { createBackend } from "@likeness/backend";
import { createSearcher, ReferenceIndex } from "@likeness/server";

test("batched search: concurrent queries with different k and label filters equal a brute-force search", async () => {
  const rng = createRng(5);
  const dim = 6;
  const index = new ReferenceIndex(dim);
  const vec = () => Float32Array.from({ length: dim }, () => rng.normal());
  index.upsert(Array.from({ length: 200 }, (_, i) => ({ id: `r${i}`, label: `c${i % 4}`, vector: vec() })));
  for (let i = 0; i < 200; i += 7) index.delete(`r${i}`); // retired rows must never come back
  const { backend } = await createBackend({ prefer: "wasm-simd", tf: false });
  let calls = 0;
  const counting = {
    topk: (...a: Parameters<typeof backend.topk>) => {
      calls++;
      return backend.topk(...a);
    },
  };
  const search = createSearcher(index, counting);
  const queries = Array.from(
    { length: 24 },
    (_, i) => ({ v: vec(), k: 1 + (i % 9), label: i % 3 === 0 ? `c${i % 4}` : undefined }),
  );
  const got = await Promise.all(queries.map((q) => search(q.v, q.k, q.label)));
  assert.ok(calls < queries.length, `batched: ${calls} top-k calls for ${queries.length} queries`);
  const live = [...index.entries()];
  const cos = (a: Float32Array, b: Float32Array) => {
    let d = 0, na = 0, nb = 0;
    for (let i = 0; i < dim; i++) (d += a[i] * b[i], na += a[i] * a[i], nb += b[i] * b[i]);
    return d / Math.sqrt(na * nb);
  };
  queries.forEach((q, i) => {
    const want = live.filter((r) => q.label === undefined || r.label === q.label)
      .map((r) => ({ id: r.id, s: cos(q.v, r.vector) }))
      .sort((a, b) => b.s - a.s)
      .slice(0, q.k);
    assert.deepEqual(got[i].map((h) => h.id), want.map((w) => w.id), `query ${i}`);
    got[i].forEach((h, j) => assert.ok(Math.abs(h.score - want[j].s) < 1e-5));
  });
  assert.deepEqual(await search(vec(), 3, "no-such-label"), []);
  backend.dispose();
});

test("with a full Backend the searcher uses the resident index: hot-adds, updates and deletes are seen at once", async () => {
  const rng = createRng(6);
  const dim = 5;
  const index = new ReferenceIndex(dim, 4);
  const vec = () => Float32Array.from({ length: dim }, () => rng.normal());
  index.upsert(Array.from({ length: 50 }, (_, i) => ({ id: `r${i}`, label: `c${i % 3}`, vector: vec() })));
  const { backend } = await createBackend({ prefer: "wasm-simd", threads: 2 });
  const search = createSearcher(index, backend);
  try {
    const q = vec();
    const first = await search(q, 3);
    assert.equal(first.length, 3);
    // Hot-add an exact match, update another id to the query, delete the old best.
    index.upsert([{ id: "new", label: "c9", vector: q.slice() }, { id: "r1", label: "c1", vector: q.slice() }]);
    index.delete(first[0].id === "r1" ? first[1].id : first[0].id);
    const hits = await search(q, 60);
    assert.deepEqual(hits.slice(0, 2).map((h) => h.id).sort(), ["new", "r1"]);
    assert.ok(Math.abs(hits[0].score - 1) < 1e-6);
    assert.equal(hits.length, 50, "k above the live size gives every live row");
    assert.equal(new Set(hits.map((h) => h.id)).size, hits.length);
    assert.deepEqual((await search(q, 5, "c9")).map((h) => h.id), ["new"]);
    // Many deletes trigger a compaction of the resident index; ids stay valid.
    for (let i = 2; i < 50; i++) index.delete(`r${i}`);
    assert.deepEqual(
      (await search(q, 5)).map((h) => h.id).sort(),
      ["new", "r0", "r1"].filter((id) => index.get(id)).sort(),
    );
    assert.ok((await index.resident()).info().detail.includes("2 threads"));
  } finally {
    index.dispose();
    backend.dispose();
  }
});

test("clients that send their next query after each answer share batches; a lone client's queries each run at once", async () => {
  const rng = createRng(8);
  const dim = 4;
  const index = new ReferenceIndex(dim);
  const vec = () => Float32Array.from({ length: dim }, () => rng.normal());
  index.upsert(Array.from({ length: 300 }, (_, i) => ({ id: `r${i}`, label: `c${i % 2}`, vector: vec() })));
  const { backend } = await createBackend({ prefer: "wasm-simd", tf: false });
  const sizes: number[] = [];
  const counting = {
    topk: (...a: Parameters<typeof backend.topk>) => {
      sizes.push(a[0].rows);
      return backend.topk(...a);
    },
  };
  try {
    const search = createSearcher(index, counting);
    // Eight clients, ten queries each, each sent when the previous answer came back.
    const client = async () => {
      for (let i = 0; i < 10; i++) assert.equal((await search(vec(), 3)).length, 3);
    };
    await Promise.all(Array.from({ length: 8 }, client));
    assert.equal(sizes.reduce((a, b) => a + b, 0), 80);
    assert.ok(sizes.length <= 40, `80 queries in ${sizes.length} calls: ${sizes.join(",")}`);
    // One client alone: one call per query, each with one row.
    sizes.length = 0;
    await client();
    assert.deepEqual(sizes, Array(10).fill(1));
  } finally {
    backend.dispose();
  }
});
