import { test } from "node:test";
import assert from "node:assert/strict";
import { hierarchicalSampler, noDuplicatesSampler, pairBatchSampler } from "@likeness/samplers";

const labels = Array.from({ length: 40 }, (_, i) => i % 5);

test("noDuplicates: fixed first batch, no label twice in a batch, every item once per epoch", () => {
  const s = noDuplicatesSampler(labels, { batchSize: 4, seed: 42 });
  assert.deepEqual(s.epoch(0)[0], [18, 32, 9, 6]);
  const batches = s.epoch(2);
  for (const b of batches) assert.equal(new Set(b.map((i) => labels[i])).size, b.length);
  assert.deepEqual(batches.flat().sort((a, b) => a - b), Array.from({ length: 40 }, (_, i) => i));
  // key sets: pairs sharing any text conflict
  const pairs = [["q1", "a1"], ["q2", "a1"], ["q3", "a3"], ["q4", "a4"]];
  for (let e = 0; e < 5; e++) {
    for (const b of noDuplicatesSampler(pairs, { batchSize: 2, seed: e }).epoch(0)) {
      assert.ok(!(b.includes(0) && b.includes(1)), "pairs 0 and 1 share a1");
    }
  }
  assert.throws(
    () => noDuplicatesSampler(labels, { batchSize: 6 }),
    (e: Error & { code?: string }) => e.code === "INVALID_ARGUMENT" && /lower batchSize to at most 5/.test(e.message),
  );
  const d = noDuplicatesSampler([0, 0, 0, 1], { batchSize: 2, dropLast: true, seed: 1 }).epoch(0);
  for (const b of d) assert.equal(b.length, 2);
});

test("pair batches: fixed seed, each pair once per epoch, dropLast", () => {
  assert.deepEqual(pairBatchSampler(10, { batchSize: 4, seed: 42 }).epoch(1), [[4, 6, 2, 7], [9, 8, 3, 1], [0, 5]]);
  assert.deepEqual(pairBatchSampler(5, { batchSize: 2, shuffle: false }).epoch(0), [[0, 1], [2, 3], [4]]);
  const s = pairBatchSampler(10, { batchSize: 4, dropLast: true, seed: 3 });
  assert.equal(s.batchesPerEpoch, 2);
  assert.ok(s.epoch(0).every((b) => b.length === 4));
  assert.throws(
    () => pairBatchSampler(3, { batchSize: 4, dropLast: true }),
    (e: Error & { code?: string }) => e.code === "EMPTY_INPUT" && /smaller than one batch/.test(e.message),
  );
  assert.throws(() => pairBatchSampler(0, { batchSize: 4 }), { code: "EMPTY_INPUT" });
});

test("hierarchical: super-classes, then classes, then m items", () => {
  const sup = labels.map((l) => (l < 3 ? "x" : "y"));
  const s = hierarchicalSampler(labels, { superLabels: sup, batchSize: 8, m: 2 });
  assert.deepEqual(s.epoch(0)[0], [13, 8, 19, 14, 27, 12, 26, 6]);
  for (const b of s.epoch(1)) {
    assert.equal(b.length, 8);
    const bySuper = new Map<string, Map<number, number>>();
    for (const i of b) {
      const m = bySuper.get(sup[i]) ?? new Map<number, number>();
      m.set(labels[i], (m.get(labels[i]) ?? 0) + 1);
      bySuper.set(sup[i], m);
    }
    assert.equal(bySuper.size, 2);
    for (const m of bySuper.values()) {
      assert.equal(m.size, 2);
      for (const v of m.values()) assert.equal(v, 2);
    }
  }
  assert.throws(
    () => hierarchicalSampler(labels, { superLabels: sup, batchSize: 6, m: 2 }),
    /multiple of superClassesPerBatch × m = 4/,
  );
  assert.throws(
    () => hierarchicalSampler(labels, { superLabels: sup, batchSize: 12, m: 2 }),
    /has 2 classes but a batch takes 3/,
  );
  const mixed = sup.map((s, i) => (i === 0 ? "y" : s));
  assert.throws(
    () => hierarchicalSampler(labels, { superLabels: mixed, batchSize: 8, m: 2 }),
    /spans two super-classes/,
  );
  assert.throws(() => hierarchicalSampler(labels, { superLabels: sup.slice(1), batchSize: 8, m: 2 }), {
    code: "LABEL_MISMATCH",
  });
  assert.throws(() => hierarchicalSampler(labels, { superLabels: sup, batchSize: 40, m: 10 }), /lower m to 8/);
});
