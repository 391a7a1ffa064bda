import { test } from "node:test";
import assert from "node:assert/strict";
import { tf, useTfBackend } from "@likeness/tf";
import * as losses from "@likeness/losses";
import { DISTANCE_REGISTRY, LOSS_REGISTRY, type LossMeta, REDUCER_REGISTRY } from "@likeness/losses";

// Eight rows in three classes that overlap (so every margin and scale matters), and scored pairs over them.
const EMB = Array.from({ length: 8 }, (_, i) => Array.from({ length: 4 }, (_, j) => Math.sin(i * 7.1 + j * 3.3)));
const LABELS = [0, 1, 2, 0, 1, 2, 0, 1];
const PAIRS: [number, number][] = [[0, 1], [2, 3], [4, 5], [6, 7]];
const SCORES = [1, 0.8, 0.3, 0.1];

function value(loss: losses.Loss, meta: LossMeta): number {
  const x = tf.tensor2d(EMB);
  // The multiple-negatives ranking losses take positive pairs only (no scores).
  const positivesOnly = meta.className.includes("MultipleNegativesRanking");
  const target = meta.target === "pairs"
    ? (positivesOnly ? { pairs: PAIRS } : { pairs: PAIRS, scores: SCORES })
    : { labels: LABELS };
  const v = loss.compute(x, target).dataSync()[0];
  x.dispose();
  return v;
}

test("every declared loss builds from its declared defaults, and they are the constructor's own", async () => {
  await useTfBackend("wasm");
  assert.equal(LOSS_REGISTRY.names().length, 38);
  for (const decl of LOSS_REGISTRY.list()) {
    const meta = decl.meta as LossMeta;
    assert.ok(decl.summary.length > 0, decl.name);
    assert.ok(meta.target === "labels" || meta.target === "pairs", decl.name);
    // The declared class is exported under its name.
    assert.equal(
      (losses as Record<string, unknown>)[meta.className],
      Object.getPrototypeOf(
        LOSS_REGISTRY.create(decl.name, decl.example ?? {}),
      ).constructor,
      decl.name,
    );
    const withDefaults = value(LOSS_REGISTRY.create(decl.name, LOSS_REGISTRY.defaults(decl.name)), meta);
    const bare = value(LOSS_REGISTRY.create(decl.name, decl.example ?? {}), meta);
    assert.ok(Number.isFinite(bare), decl.name);
    assert.equal(withDefaults, bare, `${decl.name}: a declared default differs from the constructor's`);
  }
});

test("pml losses answer to their exported class name too", () => {
  assert.equal(LOSS_REGISTRY.get("PmlTripletMarginLoss").name, "TripletMarginLoss");
  assert.ok(LOSS_REGISTRY.allNames().includes("PmlTripletMarginLoss"));
  assert.ok(!LOSS_REGISTRY.names().includes("PmlTripletMarginLoss"));
});

test("an unknown loss or a parameter out of its declared range is one typed error", () => {
  assert.throws(() => LOSS_REGISTRY.create("TripletMarginLos"), (
    e: losses.Loss & Error & {
      code?: string;
      details?: { valid: string[]; family: string };
    },
  ) => {
    assert.equal(e.code, "UNKNOWN_NAME");
    assert.equal(e.details?.family, "loss");
    assert.deepEqual(e.details?.valid, LOSS_REGISTRY.names());
    assert.match(e.message, /did you mean "TripletMarginLoss"\?: use one of TripletMarginLoss, PmlContrastiveLoss/);
    return true;
  });
  assert.throws(() => LOSS_REGISTRY.create("NTXentLoss", { temperature: 0 }), (e: Error & { code?: string }) => {
    assert.equal(e.code, "INVALID_ARGUMENT");
    assert.match(e.message, /params\.temperature: must be a positive number, got 0/);
    return true;
  });
  assert.throws(() => LOSS_REGISTRY.create("TripletLoss", { distance: "cosin" }), { code: "INVALID_ARGUMENT" });
});

test("JSON distances and reducers become live objects; live ones pass through", async () => {
  await useTfBackend("wasm");
  const a = LOSS_REGISTRY.create("TripletLoss", { distance: { name: "l2", normalize: true }, margin: 0.3 });
  const b = new losses.TripletLoss({ distance: losses.distance("euclidean", { normalize: true }), margin: 0.3 });
  const meta = LOSS_REGISTRY.get("TripletLoss").meta as LossMeta;
  assert.equal(value(a, meta), value(b, meta));
  assert.equal(DISTANCE_REGISTRY.get("cityblock").name, "manhattan");
  assert.deepEqual(DISTANCE_REGISTRY.names(), [...losses.DISTANCE_NAMES]);
  assert.deepEqual(REDUCER_REGISTRY.names(), [...losses.REDUCER_NAMES]);
  for (const name of DISTANCE_REGISTRY.names()) {
    assert.equal(DISTANCE_REGISTRY.create(name, DISTANCE_REGISTRY.defaults(name)).name, name);
  }
  for (const name of REDUCER_REGISTRY.names()) {
    const r = REDUCER_REGISTRY.create(name, REDUCER_REGISTRY.defaults(name));
    assert.equal(r.name, name);
    assert.equal(r.reduce(tf.tensor1d([0, 2])).dataSync()[0], name === "mean" ? 1 : 2);
  }
});
