import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "@likeness/tf";
import { createJsBackend, createWasmBackend } from "@likeness/backend";
import { distance } from "@likeness/losses";
import {
  AngularMiner,
  BatchEasyHardMiner,
  BatchHardMiner,
  type Miner,
  type MinerBackend,
  MultiSimilarityMiner,
  PairMarginMiner,
  TripletMarginMiner,
} from "@likeness/miners";
import { jsMinerBackend } from "./_js_backend.ts";
import { randomMatrix } from "./_testing.ts";

await tf.ready();

type Make = (backend?: MinerBackend) => Miner;

const MINERS: [string, Make][] = [
  ["BatchHardMiner", (backend) => new BatchHardMiner({ backend })],
  ["TripletMarginMiner semihard", (backend) => new TripletMarginMiner({ type: "semihard", margin: 0.3, backend })],
  [
    "TripletMarginMiner all, cosine",
    (backend) => new TripletMarginMiner({ margin: 0.1, distance: { metric: "cosine" }, backend }),
  ],
  ["PairMarginMiner", (backend) => new PairMarginMiner({ posMargin: 1, negMargin: 1.3, backend })],
  ["MultiSimilarityMiner", (backend) => new MultiSimilarityMiner({ backend })],
  [
    "BatchEasyHardMiner semihard negatives",
    (backend) => new BatchEasyHardMiner({ posStrategy: "easy", negStrategy: "semihard", backend }),
  ],
  ["AngularMiner", (backend) => new AngularMiner({ angle: 20, backend })],
  [
    "TripletMarginMiner, a Distance object (tfjs)",
    (backend) => new TripletMarginMiner({ margin: 0.2, distance: distance("euclidean"), backend }),
  ],
];

const BACKENDS: [string, () => MinerBackend][] = [
  ["default", () => undefined as unknown as MinerBackend],
  ["wasm-simd, 2 threads", () => createWasmBackend({ threads: 2 })],
  ["wasm", () => createWasmBackend({ simd: false })],
  ["js", () => createJsBackend()],
];

test("every miner's synchronous form mines the same tuples as mine(), from a matrix and from a tensor", async () => {
  const emb = randomMatrix(40, 9, 5);
  const labels = Array.from({ length: 40 }, (_, i) => (i * 5) % 7);
  const t = tf.tensor2d(emb.data, [emb.rows, emb.cols]);
  try {
    for (const [bname, makeBackend] of BACKENDS) {
      const backend = makeBackend() ?? undefined;
      for (const [name, make] of MINERS) {
        const miner = make(backend);
        const sync = await miner.synchronous!();
        assert.ok(sync, `${name} on ${bname} has a synchronous form`);
        const want = await miner.mine(emb, labels);
        const n = (want.triplets?.length ?? 0) + (want.positivePairs?.length ?? 0);
        assert.ok(n > 0, `${name} on ${bname} mined something`);
        assert.deepEqual(sync.mine(emb, labels), want, `${name} on ${bname}, matrix`);
        assert.deepEqual(sync.mine(t, labels), want, `${name} on ${bname}, tensor`);
      }
    }
  } finally {
    t.dispose();
  }
});

test("a synchronous miner throws the errors mine() rejects with", async () => {
  const emb = randomMatrix(6, 3, 1);
  for (const [name, make] of MINERS) {
    const miner = make(createWasmBackend());
    const sync = (await miner.synchronous!())!;
    const code = (e: unknown) => (e as { code?: string }).code;
    const asyncCode = await miner.mine(emb, [0, 1, 2]).then(() => "resolved", code);
    assert.equal(asyncCode, "LABEL_MISMATCH", name);
    assert.throws(() => sync.mine(emb, [0, 1, 2]), (e) => code(e) === "LABEL_MISMATCH", name);
    const bad = { data: new Float32Array(emb.data), rows: 6, cols: 3 };
    bad.data[4] = NaN;
    assert.throws(() => sync.mine(bad, [0, 0, 1, 1, 2, 2]), (e) => code(e) === "NON_FINITE", name);
    const cube = tf.zeros([2, 3, 1]) as unknown as tf.Tensor2D;
    assert.throws(() => sync.mine(cube, [0, 1]), (e) => code(e) === "SHAPE_MISMATCH", name);
    cube.dispose();
    assert.throws(() => sync.mine({} as unknown as tf.Tensor2D, [0]), (e) => code(e) === "SHAPE_MISMATCH", name);
  }
});

test("a miner on a backend without synchronous operations has no synchronous form", async () => {
  for (const [name, make] of MINERS) {
    assert.equal(await make(jsMinerBackend()).synchronous!(), undefined, name);
  }
});

test("a Distance-object miner's synchronous form leaves no tensor behind, even when it throws", async () => {
  const miner = new TripletMarginMiner({ distance: distance("euclidean") });
  const sync = (await miner.synchronous())!;
  const emb = randomMatrix(12, 4, 2);
  const before = tf.memory().numTensors;
  sync.mine(emb, Array.from({ length: 12 }, (_, i) => i % 3));
  assert.throws(() => sync.mine(emb, [0, 1]), (e) => (e as { code?: string }).code === "LABEL_MISMATCH");
  assert.equal(tf.memory().numTensors, before);
});
