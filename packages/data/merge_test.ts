import { test } from "node:test";
import assert from "node:assert/strict";
import { canBeNegatives, groupAwareSampler, mergeDatasets } from "@likeness/data";

const vendors = ["google", "twitter", "facebook"].map((name, k) => ({
  name,
  items: [0, 1, 2, 3, 4, 5].map((i) => `${name}-${i}`),
  // two images per emoji in each vendor (e.g. an image and an augmented view); vendor k lacks emoji "e3" when k=2
  labels: ["e1", "e1", "e2", "e2", k === 2 ? "f9" : "e3", k === 2 ? "f9" : "e3"],
}));

test("mergeDatasets namespaces labels and maps shared concepts", () => {
  const independent = mergeDatasets(vendors);
  assert.equal(independent.items.length, 18);
  assert.equal(independent.labels[0], "google:e1");
  assert.equal(new Set(independent.labels).size, 9);
  assert.ok(!canBeNegatives(independent, 0, 6)); // google:e1 vs twitter:e1: unknown relation, not a negative
  assert.ok(!canBeNegatives(independent, 0, 8)); // google:e1 vs twitter:e2: also unknown
  assert.ok(canBeNegatives(independent, 0, 2)); // same set, different labels
  const same = mergeDatasets(vendors, { mapping: (_set, label) => label.startsWith("e") ? label : undefined });
  assert.equal(same.labels[0], "=e1");
  assert.equal(same.labels[6], "=e1");
  assert.equal(same.labels[16], "facebook:f9");
  assert.ok(canBeNegatives(same, 0, 8)); // mapped concepts e1 vs e2 across sets
  assert.ok(canBeNegatives(same, 16, 0)); // facebook's unmapped f9 vs e1, which facebook labels too
  assert.ok(!canBeNegatives(same, 16, 4)); // f9 vs e3, a concept facebook does not label: unknown
  const asked = mergeDatasets(vendors, { crossSetNegatives: true });
  assert.ok(canBeNegatives(asked, 0, 8));
  assert.throws(
    () => mergeDatasets([vendors[0], vendors[0]]),
    (e: Error & { code?: string }) => e.code === "INVALID_ARGUMENT",
  );
  assert.throws(
    () => mergeDatasets([{ name: "a", items: [1, 2], labels: ["x"] }]),
    (e: Error & { code?: string }) => e.code === "LABEL_MISMATCH",
  );
  assert.throws(
    () => mergeDatasets(vendors, { mapping: { "apple:e1": "e1" } }),
    (e: Error & { code?: string }) => e.code === "INVALID_ARGUMENT",
  );
});

test("groupAwareSampler never puts two unmapped labels of different sets in one batch unless asked", () => {
  for (const options of [{}, { mapping: (_s: string, l: string) => (l.startsWith("e") ? l : undefined) }]) {
    const merged = mergeDatasets(vendors, options);
    const sampler = groupAwareSampler(merged, { m: 2, batchSize: 4, seed: 3, batchesPerEpoch: 12 });
    let batches = 0;
    for (let e = 0; e < 3; e++) {
      for (const b of sampler.epoch(e)) {
        batches++;
        assert.equal(b.length, 4);
        for (const i of b) {
          for (const j of b) {
            if (merged.labels[i] !== merged.labels[j]) {
              assert.ok(canBeNegatives(merged, i, j), `${merged.labels[i]} vs ${merged.labels[j]}`);
            }
          }
        }
      }
    }
    assert.ok(batches > 0);
    assert.deepEqual(sampler.epoch(1), sampler.epoch(1));
  }
  // with the mapping, some batch holds one concept from two vendors (cross-set positives)
  const same = mergeDatasets(vendors, { mapping: (_s, l) => (l.startsWith("e") ? l : undefined) });
  const s = groupAwareSampler(same, { m: 2, batchSize: 4, seed: 1, batchesPerEpoch: 20 });
  const cross = s.epoch(0).some((b) =>
    b.some((i) => b.some((j) => same.labels[i] === same.labels[j] && same.sets[i] !== same.sets[j]))
  );
  assert.ok(cross);
  // asked for: one domain over all labels
  const asked = mergeDatasets(vendors, { crossSetNegatives: true });
  const mixed = groupAwareSampler(asked, { m: 2, batchSize: 4, seed: 2, batchesPerEpoch: 20 }).epoch(0);
  assert.ok(mixed.some((b) => new Set(b.map((i) => asked.sets[i])).size > 1));
  // one image per class: a typed error naming the problem
  const single = mergeDatasets([{ name: "a", items: [1, 2, 3], labels: ["x", "y", "z"] }]);
  assert.throws(
    () => groupAwareSampler(single, { m: 2, batchSize: 4 }),
    (e: Error & { code?: string }) => e.code === "INVALID_ARGUMENT" && /set a/.test(e.message),
  );
});
