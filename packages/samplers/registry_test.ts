import { test } from "node:test";
import assert from "node:assert/strict";
import { ComponentError } from "@likeness/core";
import {
  hierarchicalSampler,
  mPerClassSampler,
  noDuplicatesSampler,
  pairBatchSampler,
  SAMPLER_REGISTRY,
  type SamplerMeta,
} from "@likeness/samplers";

const labels = Array.from({ length: 40 }, (_, i) => i % 5);
const live = ["labels", "count", "superLabels"];

test("sampler registry: each declared sampler is the library's sampler, batch for batch", () => {
  assert.deepEqual(SAMPLER_REGISTRY.names(), ["m-per-class", "no-duplicates", "shuffle", "pairs", "hierarchical"]);
  const mpc = SAMPLER_REGISTRY.create("m-per-class", { m: 4, batchSize: 8, seed: 3, labels }, live)!;
  assert.deepEqual(mpc.epoch(1), mPerClassSampler(labels, { m: 4, batchSize: 8, seed: 3 }).epoch(1));
  // m per class: every batch holds exactly 4 of each of its 2 classes.
  for (const b of mpc.epoch(0)) {
    const counts = new Map<number, number>();
    for (const i of b) counts.set(labels[i], (counts.get(labels[i]) ?? 0) + 1);
    assert.deepEqual([...counts.values()], [4, 4]);
  }
  const nd = SAMPLER_REGISTRY.create("no-duplicates", { batchSize: 4, seed: 42, labels }, live)!;
  assert.deepEqual(nd.epoch(0), noDuplicatesSampler(labels, { batchSize: 4, seed: 42 }).epoch(0));
  const pairs = SAMPLER_REGISTRY.create("pairs", { batchSize: 2, shuffle: false, count: 5 }, live)!;
  assert.deepEqual(pairs.epoch(0), [[0, 1], [2, 3], [4]]);
  assert.deepEqual(pairs.epoch(0), pairBatchSampler(5, { batchSize: 2, shuffle: false }).epoch(0));
  const superLabels = labels.map((l) => (l < 3 ? 0 : 1));
  const h = SAMPLER_REGISTRY.create("hierarchical", { batchSize: 8, m: 2, seed: 1, labels, superLabels }, live)!;
  assert.deepEqual(h.epoch(0), hierarchicalSampler(labels, { superLabels, batchSize: 8, m: 2, seed: 1 }).epoch(0));
  // shuffle is fit's own batching: no sampler, and it needs no data.
  assert.equal(SAMPLER_REGISTRY.create("shuffle", { dropLast: true }), undefined);
  assert.deepEqual((SAMPLER_REGISTRY.get("shuffle").meta as SamplerMeta).data, []);
  assert.deepEqual((SAMPLER_REGISTRY.get("pairs").meta as SamplerMeta).data, ["count"]);
});

test("sampler registry: a typo gets a suggestion, a missing or out-of-range parameter its path", () => {
  assert.throws(() => SAMPLER_REGISTRY.create("m_per_class", { batchSize: 4 }), (e: unknown) => {
    assert.ok(e instanceof ComponentError);
    assert.equal(e.code, "UNKNOWN_NAME");
    assert.equal(e.family, "sampler");
    assert.match(e.message, /did you mean "m-per-class"\?/);
    return true;
  });
  assert.throws(() => SAMPLER_REGISTRY.create("m-per-class", { batchSize: 8, labels }, live), (e: unknown) => {
    assert.ok(e instanceof ComponentError);
    assert.deepEqual(e.issues, [{ path: "params.m", message: "is required: a positive integer" }]);
    return true;
  });
  assert.throws(
    () => SAMPLER_REGISTRY.create("no-duplicates", { batchSize: 0, labels }, live),
    (e: unknown) => e instanceof ComponentError && e.issues[0].path === "params.batchSize",
  );
  // A rule of the sampler itself (m must divide batchSize) keeps its own typed error.
  assert.throws(() => SAMPLER_REGISTRY.create("m-per-class", { m: 3, batchSize: 8, labels }, live), {
    code: "INVALID_ARGUMENT",
  });
});
