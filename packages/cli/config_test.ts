import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import * as lossesNs from "@likeness/losses";
import * as minersNs from "@likeness/miners";
import { LOSSES, MINERS } from "./components.ts";
import { parseConfig, validateConfig } from "./config.ts";
import { describeSchema, formatIssues, s, validate } from "./schema.ts";

const base = () => ({
  data: { name: "digits" },
  encoder: { type: "mlp", outputDim: 16 },
  loss: { name: "TripletMarginLoss", params: { margin: 0.1 } },
  trainer: { epochs: 1, batchSize: 32 },
});

function messages(json: unknown): string[] {
  return validateConfig(json).issues.map((i) => `${i.path}: ${i.message}`);
}

test("a valid config has no issues and shorthand names expand", () => {
  assert.deepEqual(messages(base()), []);
  const r = validateConfig({
    ...base(),
    data: "digits",
    loss: "MultiSimilarityLoss",
    head: "gated",
    miner: "BatchHardMiner",
  });
  assert.deepEqual(r.issues, []);
  assert.deepEqual(r.config.data, { name: "digits" });
  assert.deepEqual(r.config.loss, { name: "MultiSimilarityLoss" });
  assert.deepEqual(r.config.head, { type: "gated" });
  assert.deepEqual(r.config.miner, { name: "BatchHardMiner" });
});

test("the example configs are valid", () => {
  for (const f of ["digits-mlp.json", "mnist-convnet.json"]) {
    const text = readFileSync(new URL(`../../examples/configs/${f}`, import.meta.url), "utf8");
    assert.deepEqual(parseConfig(text).issues, [], f);
  }
});

test("unknown loss name gets an edit-distance suggestion", () => {
  assert.deepEqual(messages({ ...base(), loss: { name: "TriplteMarginLoss" } }), [
    'config.loss.name: unknown loss "TriplteMarginLoss"; did you mean "TripletMarginLoss"?',
  ]);
  assert.deepEqual(
    messages({ ...base(), loss: "Zzzzzz" })[0].startsWith('config.loss: unknown loss "Zzzzzz"; use one of'),
    true,
  );
});

test("every problem is reported at once, with path, value and fix", () => {
  const cfg = {
    ...base(),
    loss: { name: "TriplteMarginLoss" },
    trainer: { epochs: -1, batchSize: 1.5, optimiser: "adam", lr: "fast" },
    eval: { metrics: ["precision_at_l"], k: "max" },
  };
  assert.deepEqual(messages(cfg), [
    'config.loss.name: unknown loss "TriplteMarginLoss"; did you mean "TripletMarginLoss"?',
    "config.trainer.epochs: must be a positive integer, got -1",
    "config.trainer.batchSize: must be an integer ≥ 2, got 1.5",
    'config.trainer.optimiser: unknown key; did you mean "optimizer"?',
    'config.trainer.lr: must be a positive number, got "fast"',
    'config.eval.metrics[0]: unknown metric "precision_at_l"; did you mean "precision_at_1"?',
    'config.eval.k: must be a positive integer or one of max_bin_count, all, got "max"',
  ]);
});

test("unknown keys are errors with suggestions, at every level", () => {
  assert.deepEqual(messages({ ...base(), trainr: {} }), ['config.trainr: unknown key; did you mean "trainer"?']);
  assert.deepEqual(messages({ ...base(), encoder: { type: "mlp", outputDim: 16, hiden: [8] } }), [
    'config.encoder.hiden: unknown key for encoder mlp; did you mean "hidden"?',
  ]);
  assert.deepEqual(messages({ ...base(), loss: { name: "TripletMarginLoss", params: { margn: 1 } } }), [
    'config.loss.params.margn: unknown key; did you mean "margin"?',
  ]);
  assert.deepEqual(messages({ ...base(), head: { type: "empty", width: 3 } }), [
    "config.head.width: unknown key for head empty; head empty takes no keys here",
  ]);
  // The head's declared parameters (HEAD_REGISTRY) are the keys a config may set: gated takes dropout.
  assert.deepEqual(messages({ ...base(), head: { type: "gated", width: 3 } }), [
    "config.head.width: unknown key for head gated; use one of dropout",
  ]);
});

test("required keys, wrong types and ranges are named", () => {
  assert.deepEqual(messages({ encoder: { type: "mlp" }, loss: "TripletMarginLoss" }), [
    "config.encoder.outputDim: is required: a positive integer",
    'config.data: is required: a data set object with "name" (or just its name)',
  ]);
  assert.deepEqual(messages({ ...base(), normalize: "yes" }), ['config.normalize: must be true or false, got "yes"']);
  assert.deepEqual(messages({ ...base(), name: "" }), ['config.name: must be a non-empty string, got ""']);
  assert.deepEqual(messages({ ...base(), data: { name: "digits", trainFraction: 1.5 } }), [
    "config.data.trainFraction: must be a number in (0, 0.95], got 1.5",
  ]);
  assert.deepEqual(messages({ ...base(), encoder: { type: "mlp", outputDim: 16, hidden: 8 } }), [
    "config.encoder.hidden: must be a list of positive integers, got 8",
  ]);
  assert.deepEqual(messages({ ...base(), encoder: { type: "convnet", outputDim: 8, inputShape: [8, 8] } }), [
    "config.encoder.inputShape: must have exactly 3 items, got 2",
  ]);
  assert.deepEqual(messages({ ...base(), eval: { metrics: [] } }), [
    "config.eval.metrics: must have at least 1 item, got 0",
  ]);
  assert.deepEqual(messages({ ...base(), encoder: 7 }), [
    'config.encoder: must be a encoder object with "type" (or just its name), got 7',
  ]);
  assert.deepEqual(messages({ ...base(), loss: { name: 3 } }), [
    "config.loss.name: must be a loss name (a string), got 3",
  ]);
  assert.deepEqual(messages([1]), ["config: must be an object, got [1]"]);
});

test("nested distance and reducer params are checked", () => {
  const loss = (params: Record<string, unknown>) => ({ ...base(), loss: { name: "TripletMarginLoss", params } });
  assert.deepEqual(messages(loss({ distance: "cosin" })), [
    'config.loss.params.distance: unknown distance "cosin"; did you mean "cosine"?',
  ]);
  assert.deepEqual(messages(loss({ distance: { name: "cosine", normalise: true } })), [
    'config.loss.params.distance.normalise: unknown key; did you mean "normalize"?',
  ]);
  assert.deepEqual(messages(loss({ reducer: { name: "threshold", low: 0.1 } })), []);
  assert.deepEqual(messages(loss({ margin: null })), ["config.loss.params.margin: must be a finite number, got null"]);
});

test("checks across sections name the field and the fix", () => {
  assert.deepEqual(messages({ ...base(), data: "wordnet" }), [
    'config.encoder.type: data set "wordnet" holds texts, which the mlp encoder cannot read; use "use-lite" (with a head to train)',
  ]);
  assert.deepEqual(messages({ ...base(), encoder: "use-lite" }), [
    'config.encoder.type: data set "digits" holds numeric features; use "mlp" or "convnet" (use-lite reads texts)',
    'config.head: is required with the frozen use-lite encoder (there is nothing else to train); e.g. "skip_connection"',
  ]);
  const verses = { ...base(), data: "verses", encoder: "use-lite", head: "skip_connection" };
  assert.match(
    messages(verses)[0],
    /^config\.loss\.name: "TripletMarginLoss" trains on labelled groups but data set "verses" gives pairs; use one of .*MultipleNegativesRankingLoss/,
  );
  assert.deepEqual(messages({ ...verses, loss: "MultipleNegativesRankingLoss", miner: "BatchHardMiner" }), [
    'config.miner: miners need labelled groups; remove the miner for the pair loss "MultipleNegativesRankingLoss"',
  ]);
  assert.deepEqual(messages({ ...base(), loss: "CoSENTLoss" }), [
    'config.loss.name: "CoSENTLoss" trains on pairs but data set "digits" gives labelled groups; use a group loss such as TripletMarginLoss',
  ]);
  assert.deepEqual(messages({ ...base(), sampler: { name: "m-per-class", m: 5 } }), [
    "config.sampler.m: must divide trainer.batchSize (32); e.g. m = 4",
  ]);
  assert.deepEqual(messages({ ...base(), sampler: "pairs" }), [
    'config.sampler.name: the "pairs" sampler is for pair losses; use "m-per-class", "no-duplicates" or "shuffle"',
  ]);
  assert.deepEqual(messages({ ...base(), trainer: { lr: 0.001, schedule: { name: "cosine", minLr: 0.01 } } }), [
    "config.trainer.schedule.minLr: must not exceed trainer.lr (0.001), got 0.01",
  ]);
  assert.deepEqual(
    messages({ ...base(), data: { name: "csv", path: "x.csv" }, encoder: { type: "convnet", outputDim: 8 } }),
    [
      "config.encoder.inputShape: is required for the convnet on CSV features: [height, width, channels]",
    ],
  );
});

test("invalid JSON is one issue at the root", () => {
  const r = parseConfig("{ nope");
  assert.equal(r.issues.length, 1);
  assert.equal(r.issues[0].path, "config");
  assert.match(r.issues[0].message, /^is not valid JSON: /);
});

test("schema helpers describe and format", () => {
  assert.equal(describeSchema(s.positiveInt()), "a positive integer");
  assert.equal(describeSchema(s.nonNegativeInt()), "a non-negative integer");
  assert.equal(describeSchema(s.number({ min: 0 })), "a number ≥ 0");
  assert.equal(describeSchema(s.number({ max: 3 })), "a number ≤ 3");
  assert.equal(describeSchema(s.enum("x", ["a"])), '"a"');
  assert.deepEqual(validate(5, s.number({ integer: true, max: 3 }), "v"), [{
    path: "v",
    message: "must be an integer ≤ 3, got 5",
  }]);
  assert.equal(formatIssues([{ path: "a.b", message: "m" }, { path: "c", message: "n" }]), "a.b: m\nc: n");
  assert.deepEqual(validate({ "odd key": 1 }, s.object({}), "x"), [
    { path: 'x["odd key"]', message: "unknown key; this object takes no keys here" },
  ]);
});

test("every loss and miner in the tables exists in its package", () => {
  for (const [name, spec] of Object.entries(LOSSES)) {
    assert.equal(typeof (lossesNs as Record<string, unknown>)[spec.className], "function", name);
  }
  for (const [name, spec] of Object.entries(MINERS)) {
    assert.equal(typeof (minersNs as Record<string, unknown>)[spec.className], "function", name);
  }
  assert.equal(LOSSES.PmlTripletMarginLoss, LOSSES.TripletMarginLoss);
});
