import { test } from "node:test";
import assert from "node:assert/strict";
import { INDEX_KIND_REGISTRY, INDEX_KINDS } from "@likeness/backend";

test("the declared index kinds are exactly INDEX_KINDS, and each builds from its declared defaults", async () => {
  assert.deepEqual(INDEX_KIND_REGISTRY.names(), [...INDEX_KINDS]);
  const data = new Float32Array([1, 0, 0, 0, 0, 1, 0, 0, 0.9, 0.1, 0, 0, 0, 0, 1, 0]);
  const query = { data: new Float32Array([1, 0.05, 0, 0]), rows: 1, cols: 4 };
  for (const kind of INDEX_KIND_REGISTRY.names()) {
    const index = await INDEX_KIND_REGISTRY.create(kind, INDEX_KIND_REGISTRY.defaults(kind));
    try {
      const info = index.info();
      assert.equal(info.kind, kind);
      assert.equal(info.metric, INDEX_KIND_REGISTRY.defaults(kind).metric);
      assert.equal(info.metric, "cosine");
      await index.add({ data, rows: 4, cols: 4 });
      const r = await index.search(query, { k: 2 });
      assert.deepEqual(Array.from(r.ids), [0, 2], kind);
    } finally {
      index.dispose();
    }
  }
});

test("an unknown kind or a parameter out of its declared range is one typed error naming the fix", async () => {
  await assert.rejects(
    async () => await INDEX_KIND_REGISTRY.create("ivf", { dim: 4 }),
    (e: Error & { code?: string; details?: { valid: string[] } }) => {
      assert.equal(e.code, "UNKNOWN_NAME");
      assert.deepEqual(e.details?.valid, ["flat", "int8", "binary", "hnsw"]);
      assert.match(e.message, /use one of flat, int8, binary, hnsw/);
      return true;
    },
  );
  await assert.rejects(
    async () => await INDEX_KIND_REGISTRY.create("int8", { dim: 4, oversample: 0 }),
    /params\.oversample: must be an integer in \[1, 1024\], got 0/,
  );
  await assert.rejects(
    async () => await INDEX_KIND_REGISTRY.create("hnsw", { dim: 4, hnsw: { M: 1 } }),
    /params\.hnsw\.M: must be an integer in \[2, 128\], got 1/,
  );
  // oversample is an int8/binary parameter: flat does not declare it.
  await assert.rejects(async () => await INDEX_KIND_REGISTRY.create("flat", { dim: 4, oversample: 2 }), {
    code: "INVALID_ARGUMENT",
  });
});
