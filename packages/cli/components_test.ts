import { test } from "node:test";
import assert from "node:assert/strict";
import { LOSS_REGISTRY } from "@likeness/losses";
import { MINER_REGISTRY } from "@likeness/miners";
import { ENCODER_REGISTRY, HEAD_REGISTRY } from "@likeness/models";
import { SAMPLER_REGISTRY } from "@likeness/samplers";
import { OPTIMIZER_REGISTRY, SCHEDULE_REGISTRY } from "@likeness/trainer";
import { ENCODERS, HEADS, LOSSES, MINERS, OPTIMIZERS, SAMPLERS, SCHEDULES } from "./components.ts";
import { validateConfig } from "./config.ts";

const base = () => ({
  data: { name: "digits" },
  encoder: { type: "mlp", outputDim: 16 },
  loss: { name: "TripletMarginLoss" },
  trainer: { epochs: 1, batchSize: 32 },
});

test("the CLI's loss, miner, encoder and head tables are the declarations, not lists of their own", () => {
  assert.deepEqual(Object.keys(LOSSES), LOSS_REGISTRY.allNames());
  assert.deepEqual(Object.keys(MINERS), MINER_REGISTRY.names());
  // Encoders the CLI can feed (features or texts, not composite); heads except the composite sequential.
  assert.deepEqual(Object.keys(ENCODERS), ["mlp", "convnet", "use-lite"]);
  assert.ok(Object.keys(ENCODERS).every((n) => ENCODER_REGISTRY.has(n)));
  // (Types a caller registered with registerHead — other test files in one Bun process — are not the CLI's.)
  const declaredHeads = HEAD_REGISTRY.list().filter((d) => !d.open).map((d) => d.name);
  assert.deepEqual(Object.keys(HEADS), declaredHeads.filter((n) => n !== "sequential"));
  // Declared parameters are the config's keys, minus what the CLI fills (inputDim, the class count).
  assert.deepEqual(Object.keys(HEADS.linear.fields).sort(), ["bias", "dropout", "outputDim", "seed"]);
  assert.equal(HEADS.linear.fields.outputDim.required, true);
  assert.deepEqual(
    Object.keys(LOSSES.PmlArcFaceLoss.params).sort(),
    Object.keys(LOSS_REGISTRY.get("PmlArcFaceLoss").params).sort(),
  );
  assert.equal(LOSSES.CrossBatchMemory.params["loss!"] !== undefined, true);
});

test("the CLI rejects an unknown loss, naming the declared ones", () => {
  const { issues } = validateConfig({ ...base(), loss: { name: "QuadrupletLoss" } });
  assert.equal(issues.length, 1);
  assert.equal(issues[0].path, "config.loss.name");
  const m = /^unknown loss "QuadrupletLoss"; use one of (.*), \.\.\.$/.exec(issues[0].message);
  assert.ok(m, issues[0].message);
  const listed = m[1].split(", ");
  assert.deepEqual(listed, LOSS_REGISTRY.names().slice(0, listed.length));
  // A near miss gets the suggestion instead.
  const near = validateConfig({ ...base(), loss: "MultiSimilarityLos" }).issues;
  assert.deepEqual(near.map((i) => i.message), [
    'unknown loss "MultiSimilarityLos"; did you mean "MultiSimilarityLoss"?',
  ]);
});

test("a loss parameter out of its declared range is named at its path", () => {
  const { issues } = validateConfig({ ...base(), loss: { name: "NTXentLoss", params: { temperature: -1 } } });
  assert.deepEqual(issues, [{ path: "config.loss.params.temperature", message: "must be a positive number, got -1" }]);
});

test("the CLI's sampler, optimizer and schedule tables are the declarations, minus what the CLI fills", () => {
  // hierarchical needs super-labels, which no CLI data set gives.
  assert.deepEqual(Object.keys(SAMPLERS), SAMPLER_REGISTRY.names().filter((n) => n !== "hierarchical"));
  assert.deepEqual(Object.keys(OPTIMIZERS), OPTIMIZER_REGISTRY.names());
  assert.deepEqual(Object.keys(SCHEDULES), SCHEDULE_REGISTRY.names());
  // batchSize and seed come from the trainer section, lr from trainer.lr.
  assert.deepEqual(Object.keys(SAMPLERS["m-per-class"].fields).sort(), ["batchesPerEpoch", "m", "withReplacement"]);
  assert.equal(SAMPLERS["m-per-class"].fields.m.required, true);
  assert.deepEqual(Object.keys(SCHEDULES.step.fields).sort(), ["gamma", "stepSize"]);
  assert.equal(SCHEDULES.step.fields.stepSize.required, true);
  assert.deepEqual(Object.keys(OPTIMIZERS.adam.fields), Object.keys(OPTIMIZER_REGISTRY.get("adam").params));
});

test("the CLI rejects an unknown sampler, optimizer or schedule with the declared name to use", () => {
  const messages = (c: unknown) => validateConfig(c).issues.map((i) => `${i.path}: ${i.message}`);
  assert.deepEqual(messages({ ...base(), sampler: "m_per_class" }), [
    'config.sampler: unknown sampler "m_per_class"; did you mean "m-per-class"?',
  ]);
  assert.deepEqual(messages({ ...base(), trainer: { optimizer: "sdg" } }), [
    'config.trainer.optimizer: unknown optimizer "sdg"; did you mean "sgd"?',
  ]);
  assert.deepEqual(messages({ ...base(), trainer: { schedule: { name: "cosine", warmupStep: 3 } } }), [
    'config.trainer.schedule.warmupStep: unknown key for schedule cosine; did you mean "warmupSteps"?',
  ]);
  assert.deepEqual(messages({ ...base(), trainer: { optimizer: { name: "adam", beta1: 2 } } }), [
    "config.trainer.optimizer.beta1: must be a number in [0, 0.999999], got 2",
  ]);
});
