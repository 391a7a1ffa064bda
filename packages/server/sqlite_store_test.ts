import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { SqliteStore } from "@likeness/server";
import { tempDir } from "./_test_util.ts";

const v = (...xs: number[]) => new Float32Array(xs);

test("sqlite store: batches are atomic, vectors round-trip as float32, payload and dimension checked", async () => {
  const path = join(tempDir(), "likeness.db");
  await assert.rejects(() => SqliteStore.open(path), /needs its vector dimension/);
  let s = await SqliteStore.open(path, { dim: 2, maxPayloadBytes: 100 });
  try {
    assert.deepEqual(await s.load(), []);
    await s.write({ put: [{ id: "a", label: "x", vector: v(0.1, 3.4e38), payload: { n: [1, "two"] } }] });
    await s.write({ put: [{ id: "b", label: "y", vector: v(1, 2) }] });
    await assert.rejects(
      () => s.write({ put: [{ id: "c", label: "x", vector: v(1, 2) }, { id: "d", label: "x", vector: v(1) }] }),
      (e: { code?: string }) => e.code === "SHAPE_MISMATCH",
    );
    await assert.rejects(
      () => s.write({ put: [{ id: "c", label: "x", vector: v(1, 2), payload: "p".repeat(200) }] }),
      (e: { code?: string }) => e.code === "TOO_LARGE",
    );
    await assert.rejects(
      () => s.write({ put: [{ id: "c", label: "x", vector: v(NaN, 2) }] }),
      (e: { code?: string }) => e.code === "NON_FINITE",
    );
    await s.write({ delete: ["b"] });
  } finally {
    await s.close();
  }
  await assert.rejects(() => SqliteStore.open(path, { dim: 3 }), (e: { code?: string }) => e.code === "SHAPE_MISMATCH");
  s = await SqliteStore.open(path, { dim: 2 });
  try {
    const items = await s.load();
    assert.deepEqual(items.map((i) => [i.id, i.label, Array.from(i.vector), i.payload]), [
      ["a", "x", [Math.fround(0.1), Math.fround(3.4e38)], { n: [1, "two"] }],
    ]);
    assert.deepEqual(s.health(), { status: "ok" });
    assert.match(s.describe(), /^sqlite:.*likeness\.db$/);
  } finally {
    await s.close();
  }
});

test("sqlite store: one writer; a second gets LOCKED; a read-only replica sees commits through watch", async () => {
  const path = join(tempDir(), "likeness.db");
  const w = await SqliteStore.open(path, { dim: 2 });
  try {
    await w.load();
    await w.write({ put: [{ id: "a", label: "x", vector: v(1, 0) }] });
    await assert.rejects(() => SqliteStore.open(path, { dim: 2 }), (e: { code?: string; message: string }) => {
      return e.code === "LOCKED" && /--read-only/.test(e.message);
    });
    const r = await SqliteStore.open(path, { readOnly: true, pollMs: 20 });
    try {
      assert.deepEqual((await r.load()).map((i) => i.id), ["a"]);
      const seen: { put?: string[]; delete?: readonly string[] }[] = [];
      const stop = r.watch((c) => seen.push({ put: c.put?.map((i) => i.id), delete: c.delete }));
      await w.write({ put: [{ id: "b", label: "y", vector: v(0, 1) }] });
      await w.write({ delete: ["a"] });
      const t0 = Date.now();
      while (seen.flatMap((c) => [...(c.put ?? []), ...(c.delete ?? [])]).length < 2 && Date.now() - t0 < 1000) {
        await new Promise((res) => setTimeout(res, 5));
      }
      stop();
      assert.deepEqual(seen.flatMap((c) => c.put ?? []), ["b"]);
      assert.deepEqual(seen.flatMap((c) => c.delete ?? []), ["a"]);
      await assert.rejects(() => r.write({ delete: ["b"] }), (e: { code?: string }) => e.code === "READ_ONLY");
      assert.equal(r.health().readOnly, true);
    } finally {
      await r.close();
    }
  } finally {
    await w.close();
  }
  // The lock is released on close: a new writer opens.
  const again = await SqliteStore.open(path, { dim: 2 });
  assert.deepEqual((await again.load()).map((i) => i.id), ["b"]);
  await again.close();
});
