import { test } from "node:test";
import assert from "node:assert/strict";
import * as miners from "@likeness/miners";
import { MINER_REGISTRY } from "@likeness/miners";
import { randomMatrix } from "./_testing.ts";

const LABELS = [0, 1, 2, 0, 1, 2, 0, 1, 2, 3, 3, 3];

test("every declared miner builds from its declared defaults, and mines what its constructor's defaults mine", async () => {
  assert.deepEqual(MINER_REGISTRY.names(), [
    "TripletMarginMiner",
    "BatchHardMiner",
    "MultiSimilarityMiner",
    "PairMarginMiner",
    "BatchEasyHardMiner",
    "AngularMiner",
  ]);
  const emb = randomMatrix(12, 5, 7);
  for (const decl of MINER_REGISTRY.list()) {
    assert.ok(decl.summary.length > 0, decl.name);
    const Ctor = (miners as Record<string, unknown>)[decl.name] as new () => miners.Miner;
    assert.equal(typeof Ctor, "function", decl.name);
    const declared = MINER_REGISTRY.create(decl.name, MINER_REGISTRY.defaults(decl.name));
    assert.ok(declared instanceof Ctor, decl.name);
    assert.deepEqual(await declared.mine(emb, LABELS), await new Ctor().mine(emb, LABELS), decl.name);
  }
});

test("a miner's JSON distance may be a metric name; unknown miners and bad values are typed errors", async () => {
  const emb = randomMatrix(12, 5, 3);
  const byName = MINER_REGISTRY.create("BatchHardMiner", { distance: "cosine" });
  const byObject = new miners.BatchHardMiner({ distance: { metric: "cosine" } });
  assert.deepEqual(await byName.mine(emb, LABELS), await byObject.mine(emb, LABELS));
  assert.throws(() => MINER_REGISTRY.create("BatchHardMinr"), (e: Error & { code?: string }) => {
    assert.equal(e.code, "UNKNOWN_NAME");
    assert.match(e.message, /did you mean "BatchHardMiner"\?: use one of TripletMarginMiner, BatchHardMiner/);
    return true;
  });
  assert.throws(
    () => MINER_REGISTRY.create("TripletMarginMiner", { type: "hardest" }),
    /params\.type: unknown triplet type "hardest"/,
  );
});
