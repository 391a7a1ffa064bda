import { test } from "node:test";
import assert from "node:assert/strict";
import { useTfBackend } from "@likeness/tf";
import {
  buildLoss,
  buildMiner,
  buildModel,
  buildOptimizer,
  buildSampler,
  buildSchedule,
  ConfigError,
  fitBatching,
} from "./build.ts";
import { LOSSES, MINERS } from "./components.ts";
import type { TrainConfig } from "./config.ts";
import type { LoadedData } from "./data.ts";

await useTfBackend("wasm");

const base = (extra: Partial<TrainConfig> = {}): TrainConfig => ({
  data: { name: "digits" },
  encoder: { type: "mlp", outputDim: 4 },
  loss: { name: "TripletMarginLoss" },
  ...extra,
});

const features: LoadedData = {
  kind: "features",
  description: "t",
  dim: 16,
  imageShape: [4, 4],
  classNames: ["a", "b", "c"],
};

test("every loss of the table builds with its defaults (class count and width filled in)", async () => {
  const seen = new Set<string>();
  for (const [name, spec] of Object.entries(LOSSES)) {
    if (seen.has(spec.className)) continue;
    seen.add(spec.className);
    const params = name === "CrossBatchMemory" ? { loss: "triplet", memorySize: 8 } : {};
    const loss = await buildLoss(base({ loss: { name, params } }), 3, 4);
    assert.equal(typeof loss.compute, "function", name);
    for (const v of loss.trainableVariables()) v.dispose();
  }
  assert.ok(seen.size >= 35);
});

test("loss params reach the loss, distances and reducers are built from names", async () => {
  const loss = await buildLoss(
    base({ loss: { name: "TripletMarginLoss", params: { margin: 0.3, distance: "cosine", reducer: "mean" } } }),
    3,
    4,
  ) as unknown as { margin: number; distance: { name: string }; reducer: { name: string } };
  assert.equal(loss.margin, 0.3);
  assert.equal(loss.distance.name, "cosine");
  assert.equal(loss.reducer.name, "mean");
  const proxy = await buildLoss(base({ loss: { name: "ProxyAnchorLoss" } }), 7, 4);
  assert.deepEqual(proxy.trainableVariables()[0].shape, [7, 4]);
  proxy.trainableVariables()[0].dispose();
});

test("a parameter the loss rejects becomes a config error at its path", async () => {
  await assert.rejects(
    () => buildLoss(base({ loss: { name: "TripletMarginLoss", params: { reducer: { name: "threshold" } } } }), 3, 4),
    (e: unknown) => e instanceof ConfigError && e.issues[0].path === "config.loss.params",
  );
});

test("miners build with their params", async () => {
  for (const name of Object.keys(MINERS)) {
    const m = await buildMiner(base({ miner: { name } }), undefined as never);
    assert.equal(m!.name, name);
  }
  assert.equal(await buildMiner(base(), undefined as never), undefined);
});

test("models: mlp and convnet from the data's width; a bad inputShape names the field", async () => {
  const mlp = await buildModel(
    base({ encoder: { type: "mlp", hidden: [8], outputDim: 4 }, head: { type: "linear", outputDim: 3 } }),
    features,
  );
  assert.equal(mlp.dim, 3);
  assert.equal(mlp.encoder.config().inputDim, 16);
  mlp.dispose();
  const conv = await buildModel(base({ encoder: { type: "convnet", conv: [{ filters: 2 }], outputDim: 5 } }), features);
  assert.deepEqual(conv.encoder.config().inputShape, [4, 4, 1]);
  conv.dispose();
  await assert.rejects(
    () => buildModel(base({ encoder: { type: "convnet", inputShape: [3, 3, 1], outputDim: 5 } }), features),
    (e: unknown) => e instanceof ConfigError && e.issues[0].path === "config.encoder.inputShape",
  );
});

test("samplers, optimizers and schedules follow the config", async () => {
  const labels = [0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2];
  const mpc = await buildSampler(
    base({ sampler: { name: "m-per-class", m: 2, batchesPerEpoch: 3 }, trainer: { batchSize: 4 } }),
    labels,
    0,
  );
  assert.equal(mpc!.batchesPerEpoch, 3);
  assert.equal(await buildSampler(base(), labels, 0), undefined);
  await assert.rejects(
    () => buildSampler(base({ sampler: { name: "m-per-class", m: 2 }, trainer: { batchSize: 8 } }), labels, 0),
    (e: unknown) => e instanceof ConfigError && e.issues[0].path === "config.sampler",
  );
  const pairs = await buildSampler(base({ sampler: { name: "pairs" }, trainer: { batchSize: 4 } }), undefined, 10);
  assert.equal(pairs!.epoch(0).flat().length, 10);
  assert.equal(buildOptimizer(base({ trainer: { optimizer: { name: "sgd", momentum: 0.9 } } })).name, "sgd");
  assert.equal(buildOptimizer(base()).name, "adam");
  const ctx = { step: 10, epoch: 0, stepsPerEpoch: 10, totalSteps: 20 };
  assert.equal(buildSchedule(base({ trainer: { lr: 0.1 } }))(ctx), 0.1);
  const late = { ...ctx, epoch: 10 };
  assert.ok(
    Math.abs(
      buildSchedule(base({ trainer: { lr: 0.1, schedule: { name: "step", stepSize: 5, gamma: 0.5 } } }))(late) - 0.025,
    ) < 1e-12,
  );
  assert.ok(buildSchedule(base({ trainer: { lr: 0.1, schedule: { name: "cosine" } } }))(ctx) < 0.1);
});

test("the shuffle sampler is fit's own batching, and its dropLast reaches fit", async () => {
  const labels = [0, 0, 1, 1];
  assert.equal(await buildSampler(base({ sampler: { name: "shuffle", dropLast: true } }), labels, 0), undefined);
  assert.deepEqual(fitBatching(base({ sampler: { name: "shuffle", dropLast: true } })), { dropLast: true });
  assert.deepEqual(fitBatching(base({ sampler: { name: "shuffle" } })), {});
  assert.deepEqual(fitBatching(base()), {});
  // A sampler that batches by itself keeps dropLast to itself.
  assert.deepEqual(fitBatching(base({ sampler: { name: "no-duplicates", dropLast: true } })), {});
});
