import { test } from "node:test";
import assert from "node:assert/strict";
import { BatchHardMiner, MultiSimilarityMiner, PairMarginMiner, TripletMarginMiner } from "@likeness/miners";
import { jsMinerBackend } from "./_js_backend.ts";
import { keys, randomMatrix } from "./_testing.ts";

test("default backend (createBackend) and the plain-TS reference backend mine the same tuples", async () => {
  const emb = randomMatrix(33, 7, 99);
  const labels = Array.from({ length: 33 }, (_, i) => (i * 7) % 6);
  const ref = jsMinerBackend();
  const miners = [
    (backend?: ReturnType<typeof jsMinerBackend>) => new BatchHardMiner({ backend }),
    (backend?: ReturnType<typeof jsMinerBackend>) => new TripletMarginMiner({ type: "semihard", margin: 0.3, backend }),
    (backend?: ReturnType<typeof jsMinerBackend>) => new PairMarginMiner({ posMargin: 1, negMargin: 1.3, backend }),
    (backend?: ReturnType<typeof jsMinerBackend>) => new MultiSimilarityMiner({ backend }),
  ];
  for (const make of miners) {
    const a = await make().mine(emb, labels);
    const b = await make(ref).mine(emb, labels);
    const name = make().name;
    assert.deepEqual(keys(a.triplets), keys(b.triplets), name);
    assert.deepEqual(keys(a.positivePairs), keys(b.positivePairs), name);
    assert.deepEqual(keys(a.negativePairs), keys(b.negativePairs), name);
    assert.ok((a.triplets?.length ?? 0) + (a.positivePairs?.length ?? 0) > 0, `${name} mined something`);
  }
});
