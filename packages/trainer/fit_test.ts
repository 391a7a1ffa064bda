import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConvNetEncoder, LinearHead, MlpEncoder, sha256Hex, SimilarityModel } from "@likeness/models";
import { EmbeddingCache } from "@likeness/cache";
import { tf, useTfBackend } from "@likeness/tf";
import { assertClose } from "@likeness/core/testing";
import { hasRelaxedSimd } from "@likeness/kernels";
import { registerLikenessWasmKernels } from "@likeness/tfwasm";
import {
  DirCheckpointStore,
  earlyStopping,
  fit,
  FIT_PHASES,
  type FitMiner,
  formatProfile,
  jsonlLogger,
  MemoryCheckpointStore,
  progressReporter,
  sgd,
  stepLr,
} from "@likeness/trainer";
import { PmlTripletMarginLoss } from "@likeness/losses";
import { TripletMarginMiner } from "@likeness/miners";
import { toyData, ToyLoss } from "./_test_util.ts";

const code = (c: string) => (e: Error & { code?: string }) => e.code === c;
const mlp = (seed = 1, dropout = 0) =>
  new SimilarityModel(new MlpEncoder({ inputDim: 4, hidden: [8], outputDim: 3, seed, dropout }));
const flat = (m: SimilarityModel) => m.getWeights().flatMap((w) => Array.from(w.values));

test("fit lowers the loss, trains the loss's own parameter, logs JSONL and reports progress", async () => {
  await useTfBackend("wasm");
  const model = mlp();
  const loss = new ToyLoss();
  const lines: string[] = [];
  const plain: string[] = [];
  const tty: string[] = [];
  const result = await fit(model, toyData(), {
    loss,
    epochs: 6,
    batchSize: 8,
    learningRate: 0.05,
    seed: 3,
    callbacks: [
      jsonlLogger((l) => lines.push(l)),
      progressReporter({ write: (t) => plain.push(t) }),
      progressReporter({ write: (t) => tty.push(t), isTTY: true, width: 10 }),
    ],
  });
  assert.equal(result.epochs, 6);
  assert.equal(result.steps, 12);
  const first = result.history[0].loss;
  const last = result.history[5].loss;
  assert.ok(last < first * 0.8, `loss ${first} -> ${last}`);
  const s = loss.s.dataSync()[0];
  assert.ok(s > 0.2 && s < 2.05, `learned parameter moved toward 2: ${s}`);
  assert.equal(lines.length, 6);
  const parsed = JSON.parse(lines[5]);
  assert.equal(parsed.type, "epoch");
  assert.equal(parsed.epoch, 6);
  assert.equal(parsed.steps, 12);
  assert.ok(parsed.grad_norm > 0);
  assert.equal(plain.length, 6);
  assert.match(plain[0], /^epoch 1\/6 loss \d+\.\d{4} lr 0\.0500\n$/);
  assert.ok(tty.some((t) => t.startsWith("\repoch 1/6 [====>     ] 1/2 loss")), tty[0]);
  assert.ok(tty.at(-1)!.endsWith("\n"));
});

test("same seed gives identical weights; another seed gives different ones", async () => {
  const run = async (seed: number) => {
    const model = mlp(1, 0.3); // dropout masks are seeded per step too
    await fit(model, toyData(), { loss: new ToyLoss(), epochs: 2, batchSize: 5, learningRate: 0.02, seed });
    return flat(model);
  };
  const a = await run(11);
  assert.deepEqual(await run(11), a);
  assert.notDeepEqual(await run(12), a);
});

test("resume from a checkpoint on disk continues exactly where it stopped", async () => {
  const dir = await mkdtemp(join(tmpdir(), "likeness-ckpt-"));
  try {
    const opts = { batchSize: 5, learningRate: 0.02, seed: 5, clipNorm: 5 };
    const straightModel = mlp(1, 0.3);
    const straightLoss = new ToyLoss();
    await fit(straightModel, toyData(), { loss: straightLoss, ...opts, epochs: 4 });

    const store = new DirCheckpointStore(dir);
    await fit(mlp(1, 0.3), toyData(), { loss: new ToyLoss(), ...opts, epochs: 2, checkpoint: store });
    const model = mlp(1, 0.3);
    const loss = new ToyLoss();
    const stop = earlyStopping({ monitor: "loss", patience: 10 });
    const result = await fit(model, toyData(), {
      loss,
      ...opts,
      epochs: 4,
      checkpoint: store,
      resume: true,
      callbacks: [stop],
    });
    assert.equal(result.resumedFrom, 2);
    assert.equal(result.history.length, 4);
    assert.equal(result.steps, 12); // 16 items in batches of 5, 5, 5 (a last batch of 1 is dropped)
    assert.deepEqual(flat(model), flat(straightModel));
    assert.equal(loss.s.dataSync()[0], straightLoss.s.dataSync()[0]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("SGD with a step schedule and gradient clipping bounds each update", async () => {
  const model = mlp();
  const before = flat(model);
  const result = await fit(model, toyData(), {
    loss: new ToyLoss(),
    epochs: 1,
    batchSize: 16,
    optimizer: sgd(),
    learningRate: 1,
    clipNorm: 0.01,
    seed: 1,
  });
  const after = flat(model);
  const delta = Math.hypot(...after.map((v, i) => v - before[i]));
  assert.ok(delta <= 0.01 + 1e-6 && delta > 0, `update norm ${delta}`);
  assert.ok(result.history[0].grad_norm > 0.01);
  const lrs: number[] = [];
  await fit(mlp(), toyData(), {
    loss: new ToyLoss(),
    epochs: 4,
    batchSize: 16,
    optimizer: "sgd",
    learningRate: stepLr({ lr: 0.1, stepSize: 2, gamma: 0.5 }),
    callbacks: [{ onEpochEnd: (log) => void lrs.push(log.lr) }],
  });
  assert.deepEqual(lrs, [0.1, 0.1, 0.05, 0.05]);
});

test("early stopping stops and names the reason", async () => {
  const result = await fit(mlp(), toyData(), {
    loss: new ToyLoss(),
    epochs: 10,
    batchSize: 8,
    learningRate: 0.05,
    callbacks: [earlyStopping({ monitor: "loss", mode: "max", patience: 1 })],
  });
  assert.equal(result.history.length, 3);
  assert.match(result.stopReason!, /^early_stopping: loss did not improve/);
});

test("a long training gives the event loop a turn: a timer set before fit runs before fit returns", async () => {
  await useTfBackend("wasm");
  let firedAtBatch = -1;
  let batchesDone = 0;
  setTimeout(() => (firedAtBatch = batchesDone), 0);
  // 16 steps of at least 15 ms each (a busy callback): 240 ms, four of fit's 50 ms stretches. (Bun,
  // like Node, may run the first setImmediate turn after the timer fell due before the timer.)
  await fit(mlp(), toyData(), {
    loss: new ToyLoss(),
    epochs: 8,
    batchSize: 8,
    callbacks: [{
      onBatchEnd: () => {
        const until = performance.now() + 15;
        while (performance.now() < until) { /* a slow step */ }
        batchesDone++;
      },
    }],
  });
  assert.equal(batchesDone, 16);
  assert.ok(firedAtBatch >= 1 && firedAtBatch < 16, `the timer ran after batch ${firedAtBatch} of 16`);
});

test("typed errors: data smaller than a batch, missing labels, bad pairs", async () => {
  const d = toyData(2);
  await assert.rejects(
    () => fit(mlp(), d, { loss: new ToyLoss(), batchSize: 8 }),
    (e: Error & { code?: string }) => e.code === "OUT_OF_RANGE" && /batchSize <= 4/.test(e.message),
  );
  await assert.rejects(() => fit(mlp(), { inputs: d.inputs }, { loss: new ToyLoss() }), code("LABEL_MISMATCH"));
  await assert.rejects(
    () => fit(mlp(), { inputs: d.inputs, labels: [0, 1] }, { loss: new ToyLoss() }),
    code("LABEL_MISMATCH"),
  );
  await assert.rejects(
    () => fit(mlp(), { inputs: d.inputs, labels: [0, 1, undefined as unknown as number, 1] }, { loss: new ToyLoss() }),
    code("LABEL_MISMATCH"),
  );
  await assert.rejects(
    () => fit(mlp(), { inputs: d.inputs, pairs: [[0, 9]], scores: [1] }, { loss: new ToyLoss() }),
    code("OUT_OF_RANGE"),
  );
  await assert.rejects(
    () => fit(mlp(), d, { loss: new ToyLoss(), batchSize: 2, optimizer: "rmsprop" as "sgd" }),
    code("UNKNOWN_NAME"),
  );
  await assert.rejects(() => fit(mlp(), d, { loss: new ToyLoss(), batchSize: 2, epochs: 0 }), code("INVALID_ARGUMENT"));
});

test("a non-finite loss stops training, skips the bad step and keeps the last good checkpoint", async () => {
  const model = mlp();
  const loss = new ToyLoss();
  loss.nanFrom = 6; // batches 1-4 are epochs 1-2 (2 batches each); call 6 is epoch 3, batch 2
  const store = new MemoryCheckpointStore();
  let weightsAtEpoch2: number[] = [];
  const err = await fit(model, toyData(), {
    loss,
    epochs: 5,
    batchSize: 8,
    learningRate: 0.05,
    checkpoint: store,
    callbacks: [{ onEpochEnd: (log, ctx) => void (log.epoch === 2 && (weightsAtEpoch2 = flat(ctx.model))) }],
  }).then(() => undefined, (e) => e);
  assert.ok(err, "fit must reject");
  assert.equal(err.code, "NON_FINITE");
  assert.match(err.message, /epoch 3, batch 2 .*loss is NaN.*checkpoint "last" holds epoch 2/);
  assert.equal(err.details.lastCheckpointEpoch, 2);
  // the model holds epoch 3 batch 1's update only; the checkpoint holds epoch 2
  const restored = mlp(99);
  const resumed = await fit(restored, toyData(), {
    loss: new ToyLoss(),
    epochs: 2,
    batchSize: 8,
    checkpoint: store,
    resume: true,
  });
  assert.equal(resumed.resumedFrom, 2);
  assert.deepEqual(flat(restored), weightsAtEpoch2);
});

test("frozen encoder: features come from the cache once, only the head trains; pair mode works", async () => {
  class Frozen {
    readonly type = "frozen-toy";
    readonly dim = 4;
    readonly trainable = false;
    calls = 0;
    encode(batch: unknown) {
      this.calls++;
      return Promise.resolve(tf.tensor2d(batch as number[][]));
    }
    identity = () => "frozen-toy:1";
    config = () => ({ type: this.type });
    variables = () => [];
    getWeights = () => [];
    setWeights() {}
    dispose() {}
  }
  const enc = new Frozen();
  const model = new SimilarityModel(enc, new LinearHead({ inputDim: 4, outputDim: 2, seed: 1 }));
  const cache = new EmbeddingCache();
  const headBefore = flat(model);
  const d = toyData();
  await fit(model, d, {
    loss: new ToyLoss(),
    epochs: 3,
    batchSize: 8,
    cache,
    cacheName: "toy",
    encodeBatchSize: 100,
    learningRate: 0.05,
  });
  assert.equal(enc.calls, 1);
  assert.equal(cache.stats.misses, 1);
  assert.notDeepEqual(flat(model), headBefore);
  await fit(model, d, { loss: new ToyLoss(), epochs: 1, batchSize: 8, cache, cacheName: "toy" });
  assert.equal(enc.calls, 1, "second fit served from the cache");
  // pair mode: batches over pairs, labels follow the items
  const seen: number[] = [];
  const pairs = Array.from({ length: 8 }, (_, i) => [i, (i + 2) % 16] as [number, number]);
  const loss = new ToyLoss();
  const inner = loss.compute.bind(loss);
  loss.compute = (e, t) => {
    seen.push(t.pairs!.length, e.shape[0]);
    assert.equal(t.labels!.length, e.shape[0]);
    return inner(e, t);
  };
  await fit(model, { inputs: d.inputs, labels: d.labels, pairs, scores: pairs.map(() => 1) }, {
    loss,
    epochs: 1,
    batchSize: 4,
    seed: 2,
  });
  assert.deepEqual(seen.filter((_, i) => i % 2 === 0), [4, 4]);
  assert.ok(seen.filter((_, i) => i % 2 === 1).every((v) => v >= 5 && v <= 8));
});

test("a miner's tuples reach the loss; a convnet trains on the cpu backend", async () => {
  const minedCalls: number[] = [];
  const miner = {
    mine(e: tf.Tensor2D, labels: readonly (number | string | readonly (number | string)[])[]) {
      minedCalls.push(e.shape[0]);
      return Promise.resolve({
        triplets: [[
          0,
          labels.indexOf(labels[0], 1),
          labels.findIndex((l) => l !== labels[0]),
        ] as [number, number, number]],
      });
    },
  };
  const loss = new ToyLoss();
  const inner = loss.compute.bind(loss);
  let got = 0;
  loss.compute = (e, t) => {
    got += t.indices?.triplets?.length ?? 0;
    return inner(e, t);
  };
  await fit(mlp(), toyData(), { loss, epochs: 1, batchSize: 8, miner });
  assert.deepEqual(minedCalls, [8, 8]);
  assert.equal(got, 2);

  await useTfBackend("cpu");
  try {
    const images = Array.from(
      { length: 8 },
      (_, i) => Array.from({ length: 36 }, (_, k) => ((k + (i % 2) * 7) % 9) / 9),
    );
    const conv = new SimilarityModel(
      new ConvNetEncoder({ inputShape: [6, 6, 1], conv: [{ filters: 2, pool: 2 }], outputDim: 3, seed: 1 }),
    );
    const before = flat(conv);
    const r = await fit(conv, {
      inputs: tf.tensor4d(images.flat(), [8, 6, 6, 1]),
      labels: images.map((_, i) => i % 2),
    }, {
      loss: new ToyLoss(),
      epochs: 2,
      batchSize: 4,
      learningRate: 0.01,
    });
    assert.equal(r.steps, 4);
    assert.notDeepEqual(flat(conv).slice(0, 18), before.slice(0, 18), "conv filters changed");
  } finally {
    await useTfBackend("wasm");
  }
});

test("a miner with a synchronous form mines on the step's own forward pass, and trains exactly as without one", async () => {
  await useTfBackend("wasm");
  const data = toyData(16);
  const run = async (miner: FitMiner) => {
    const model = mlp(7, 0.2);
    let forwards = 0;
    const forward = model.forward.bind(model);
    model.forward = (...a: Parameters<typeof forward>) => (forwards++, forward(...a));
    const losses: number[] = [];
    const opts = { epochs: 2, batchSize: 16, learningRate: 0.05, seed: 3, miner };
    await fit(model, data, {
      ...opts,
      loss: new PmlTripletMarginLoss({ margin: 0.5 }),
      callbacks: [{
        onBatchEnd: (b) => void losses.push(b.loss),
      }],
    });
    return { forwards, losses, weights: flat(model) };
  };
  const mined = new TripletMarginMiner({ margin: 0.5, type: "all" });
  let syncCalls = 0;
  const sync = (await mined.synchronous())!;
  const one = await run({
    mine: () => Promise.reject(new Error("the synchronous form should be used")),
    synchronous: () => Promise.resolve({ mine: (e, l) => (syncCalls++, sync.mine(e, l)) }),
  });
  const two = await run({ mine: (e, l) => mined.mine(e, l) });
  assert.equal(syncCalls, 4);
  assert.equal(one.forwards, 4, "one forward per step");
  assert.equal(two.forwards, 8, "an inference pass for mining, then the taped pass");
  assert.ok(one.losses.every((v) => v > 0), JSON.stringify(one.losses));
  assert.deepEqual(one.losses, two.losses);
  assert.deepEqual(one.weights, two.weights);
  // a synchronous form that resolves to undefined (WebGPU) falls back to mine()
  const fallback = await run({ mine: (e, l) => mined.mine(e, l), synchronous: () => Promise.resolve(undefined) });
  assert.equal(fallback.forwards, 8);
  assert.deepEqual(fallback.weights, two.weights);
});

test("fit and encode leave no tensors behind", async () => {
  await useTfBackend("wasm");
  const model = mlp();
  const loss = new ToyLoss();
  const before = tf.memory().numTensors;
  await fit(model, toyData(), {
    loss,
    epochs: 2,
    batchSize: 8,
    clipNorm: 1,
    validation: toyData(2),
    checkpoint: new MemoryCheckpointStore(),
  });
  await fit(model, { inputs: tf.tensor2d(toyData().inputs), labels: toyData().labels }, {
    loss,
    epochs: 1,
    batchSize: 8,
    optimizer: "sgd",
  });
  const afterFit = tf.memory().numTensors;
  await model.encode(toyData().inputs, { batchSize: 3 });
  assert.equal(afterFit - before, 1, "only the input tensor of the second fit remains");
  assert.equal(tf.memory().numTensors, afterFit);
});

/** The toy run whose weights are pinned below: 3 epochs of an MLP with dropout on the wasm backend (Adam unless told). */
async function toyWasmRun(optimizer?: "sgd"): Promise<Float32Array> {
  await useTfBackend("wasm");
  const inputs = Array.from({ length: 16 }, (_, i) => [(i % 4) / 4, i % 2, ((i * 7) % 5) / 5, i % 3]);
  const labels = inputs.map((_, i) => i % 2);
  const model = new SimilarityModel(new MlpEncoder({ inputDim: 4, hidden: [8], outputDim: 3, seed: 1, dropout: 0.2 }));
  await fit(model, { inputs, labels }, {
    loss: new ToyLoss(),
    epochs: 3,
    batchSize: 5,
    learningRate: 0.02,
    seed: 9,
    ...(optimizer ? { optimizer } : {}),
  });
  return new Float32Array(flat(model));
}

/** Run `f` with tfwasm's `simd` matmul build registered, then put the build in use before back. */
async function withSimdMatMul<T>(f: () => Promise<T>): Promise<T> {
  const before = (await registerLikenessWasmKernels({ replace: true })).matMulVariant;
  try {
    await registerLikenessWasmKernels({ replace: true, matMulVariant: "simd" });
    return await f();
  } finally {
    await registerLikenessWasmKernels({ replace: true, matMulVariant: before });
  }
}

test("training with the simd matmul build is bit-identical in Deno and Bun (pinned weight hash, dropout included)", async () => {
  const w = await withSimdMatMul(() => toyWasmRun());
  assert.equal((await sha256Hex(new Uint8Array(w.buffer))).slice(0, 16), "2d9f7c3c998960f8");
});

test("training with the default matmul build repeats exactly and stays within float rounding of the simd build", async () => {
  const report = await registerLikenessWasmKernels({ replace: true });
  assert.equal(report.matMulVariant, hasRelaxedSimd() ? "relaxed" : "simd");
  assert.deepEqual(await toyWasmRun(), await toyWasmRun(), "the same seed gives the same weights run after run");
  // Compared under SGD: Adam's first steps scale each gradient to about ±lr, so a gradient that is 0
  // in exact arithmetic and ±1e-9 after rounding (here: the diagonal of the distance matrix) moves a
  // weight by up to lr in one build and not in the other (measured: 0.06 apart after 3 epochs).
  const a = await toyWasmRun("sgd");
  const c = await withSimdMatMul(() => toyWasmRun("sgd"));
  assertClose(a, c, { rtol: 0, atol: 1e-5, what: "default vs simd build, weights" });
});

test("the deprecated fit(model, loss, data, options) shape trains exactly as fit(model, data, { loss })", async () => {
  const a = mlp(3);
  const b = mlp(3);
  await fit(a, new ToyLoss(), toyData(), { epochs: 2, batchSize: 8, learningRate: 0.05, seed: 4 });
  await fit(b, toyData(), { loss: new ToyLoss(), epochs: 2, batchSize: 8, learningRate: 0.05, seed: 4 });
  assert.deepEqual(flat(a), flat(b));
  await assert.rejects(() => fit(mlp(), toyData(), {} as { loss: ToyLoss }), code("INVALID_ARGUMENT"));
});

test("profile: true reports time per phase and per tfjs kernel, and leaves the weights as without it", async () => {
  await useTfBackend("wasm");
  const plain = mlp(5);
  const profiled = mlp(5);
  const opts = { epochs: 1, batchSize: 8, learningRate: 0.05, seed: 2 };
  const r0 = await fit(plain, toyData(), { ...opts, loss: new ToyLoss() });
  const r1 = await fit(profiled, toyData(), { ...opts, loss: new ToyLoss(), profile: true });
  assert.equal(r0.profile, undefined);
  assert.deepEqual(flat(profiled), flat(plain));
  const p = r1.profile!;
  assert.equal(p.steps, r1.steps - 1, "the first step is left out as warm-up");
  for (const phase of FIT_PHASES) assert.ok(p.phases[phase] >= 0, phase);
  assert.ok(p.phases.forward > 0 && p.phases.backward > 0 && p.phases.optimizer > 0, JSON.stringify(p.phases));
  const sum = FIT_PHASES.reduce((s, ph) => s + p.phases[ph], 0);
  assert.ok(sum <= p.totalMs * 1.05 + 1, `phases ${sum} ms within the step total ${p.totalMs} ms`);
  const names = p.kernels.map((k) => k.name);
  assert.ok(names.includes("BatchMatMul") || names.includes("_FusedMatMul"), names.join(","));
  assert.match(formatProfile(p), /backward/);
});
