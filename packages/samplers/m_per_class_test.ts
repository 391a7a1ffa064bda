import { test } from "node:test";
import assert from "node:assert/strict";
import { mPerClassSampler } from "@likeness/samplers";

const labels = Array.from({ length: 40 }, (_, i) => i % 5);

function counts(batch: number[], ls: readonly (number | string)[]): Map<number | string, number> {
  const c = new Map<number | string, number>();
  for (const i of batch) c.set(ls[i], (c.get(ls[i]) ?? 0) + 1);
  return c;
}

test("fixed seed gives the same first batch in every runtime", () => {
  const s = mPerClassSampler(labels, { m: 4, batchSize: 8, seed: 42 });
  assert.deepEqual(s.epoch(0)[0], [11, 6, 36, 26, 10, 20, 25, 0]);
});

test("exactly m per class per batch, no repeats within a class, every class each epoch", () => {
  const ls = Array.from({ length: 103 }, (_, i) => `c${(i * 7) % 11}`);
  const s = mPerClassSampler(ls, { m: 3, batchSize: 12, seed: 5 });
  assert.equal(s.batchesPerEpoch, Math.max(Math.ceil(11 / 4), Math.floor(103 / 12)));
  for (let e = 0; e < 3; e++) {
    const batches = s.epoch(e);
    assert.equal(batches.length, s.batchesPerEpoch);
    const seen = new Set<string>();
    for (const b of batches) {
      assert.equal(b.length, 12);
      assert.equal(new Set(b).size, 12, "no item twice in a batch");
      const c = counts(b, ls);
      assert.equal(c.size, 4);
      for (const v of c.values()) assert.equal(v, 3);
      for (const i of b) seen.add(ls[i]);
    }
    assert.equal(seen.size, 11, "every class covered in the epoch");
  }
});

test("deterministic per (seed, epoch); epochs and seeds differ", () => {
  const a = mPerClassSampler(labels, { m: 2, batchSize: 6, seed: 1 });
  const b = mPerClassSampler(labels, { m: 2, batchSize: 6, seed: 1 });
  assert.deepEqual(a.epoch(3), b.epoch(3));
  assert.notDeepEqual(a.epoch(0), a.epoch(1));
  assert.notDeepEqual(a.epoch(0), mPerClassSampler(labels, { m: 2, batchSize: 6, seed: 2 }).epoch(0));
});

test("small classes: an error naming the fix, or repeats with withReplacement", () => {
  const ls = [0, 0, 0, 0, 1, 1, 2, 2, 2, 2];
  assert.throws(
    () => mPerClassSampler(ls, { m: 3, batchSize: 6 }),
    (e: Error & { code?: string }) =>
      e.code === "INVALID_ARGUMENT" && /class 1: it has 2; lower m to 2/.test(e.message) &&
      /withReplacement: true/.test(e.message),
  );
  const s = mPerClassSampler(ls, { m: 3, batchSize: 6, withReplacement: true, seed: 9 });
  for (const b of s.epoch(0)) {
    for (const v of counts(b, ls).values()) assert.equal(v, 3);
  }
  const withOne = s.epoch(0).flat().filter((i) => ls[i] === 1);
  if (withOne.length > 0) assert.ok(new Set(withOne).size <= 2);
});

test("bad batch shapes are typed errors naming the fix", () => {
  assert.throws(
    () => mPerClassSampler(labels, { m: 4, batchSize: 10 }),
    (e: Error & { code?: string }) => e.code === "INVALID_ARGUMENT" && /use batchSize 8 or 12/.test(e.message),
  );
  assert.throws(
    () => mPerClassSampler(labels, { m: 2, batchSize: 12 }),
    (e: Error & { code?: string }) => e.code === "INVALID_ARGUMENT" && /lower batchSize to at most 10/.test(e.message),
  );
  assert.throws(() => mPerClassSampler(labels, { m: 2, batchSize: 4, batchesPerEpoch: 1 }), /raise batchesPerEpoch/);
  assert.throws(() => mPerClassSampler(labels, { m: 0, batchSize: 4 }), { code: "INVALID_ARGUMENT" });
  assert.throws(() => mPerClassSampler([], { m: 2, batchSize: 4 }), { code: "EMPTY_INPUT" });
  assert.throws(() => mPerClassSampler([0, undefined as unknown as number], { m: 1, batchSize: 1 }), {
    code: "LABEL_MISMATCH",
  });
  assert.throws(() => mPerClassSampler(labels, { m: 2, batchSize: 4 }).epoch(-1), { code: "INVALID_ARGUMENT" });
});
