import { test } from "node:test";
import assert from "node:assert/strict";
import { ComponentError } from "@likeness/core";
import { assertClose } from "@likeness/core/testing";
import { tf, useTfBackend } from "@likeness/tf";
import { cosineLr, OPTIMIZER_REGISTRY, SCHEDULE_REGISTRY, sgd, stepLr } from "@likeness/trainer";

const ctx = (step: number, epoch = 0) => ({ step, epoch, stepsPerEpoch: 10, totalSteps: 20 });

test("optimizer registry: adam and sgd with their declared defaults and ranges", async () => {
  await useTfBackend("wasm");
  assert.deepEqual(OPTIMIZER_REGISTRY.names(), ["adam", "sgd"]);
  assert.deepEqual(OPTIMIZER_REGISTRY.defaults("adam"), { beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0 });
  assert.deepEqual(OPTIMIZER_REGISTRY.defaults("sgd"), { momentum: 0, nesterov: false, weightDecay: 0 });
  // The registry's sgd is the library's: the same two momentum steps from the same start.
  const a = tf.variable(tf.tensor1d([1, -2]));
  const b = tf.variable(tf.tensor1d([1, -2]));
  const byName = OPTIMIZER_REGISTRY.create("sgd", { momentum: 0.5 });
  const direct = sgd({ momentum: 0.5 });
  for (let t = 0; t < 2; t++) {
    tf.tidy(() => byName.apply([a], [tf.tensor1d([0.5, -1])], 0.1));
    tf.tidy(() => direct.apply([b], [tf.tensor1d([0.5, -1])], 0.1));
  }
  assertClose(await a.data(), await b.data(), { rtol: 0 });
  // 1 - 0.1·0.5 - 0.1·(0.5·0.5 + 0.5) = 0.875
  assertClose(await a.data(), [0.875, -1.75], { rtol: 1e-6 });
  byName.dispose();
  direct.dispose();
  a.dispose();
  b.dispose();
});

test("optimizer registry: an unknown name suggests the declared one; an out-of-range option names its path", () => {
  assert.throws(() => OPTIMIZER_REGISTRY.create("adma"), (e: unknown) => {
    assert.ok(e instanceof ComponentError);
    assert.equal(e.code, "UNKNOWN_NAME");
    assert.equal(e.family, "optimizer");
    assert.match(e.message, /did you mean "adam"\?/);
    assert.deepEqual(e.valid, ["adam", "sgd"]);
    return true;
  });
  assert.throws(() => OPTIMIZER_REGISTRY.create("adam", { beta1: 1 }), (e: unknown) => {
    assert.ok(e instanceof ComponentError);
    assert.equal(e.code, "INVALID_ARGUMENT");
    assert.deepEqual(e.issues, [{ path: "params.beta1", message: "must be a number in [0, 0.999999], got 1" }]);
    return true;
  });
  assert.equal(OPTIMIZER_REGISTRY.issues("sgd", { momentun: 0.9 })[0].message, 'unknown key; did you mean "momentum"?');
});

test("schedule registry: constant, step and cosine give the library's rates", () => {
  assert.deepEqual(SCHEDULE_REGISTRY.names(), ["constant", "step", "cosine"]);
  assert.equal(SCHEDULE_REGISTRY.create("constant", { lr: 0.3 })(ctx(7)), 0.3);
  const step = SCHEDULE_REGISTRY.create("step", { lr: 1, stepSize: 1 });
  const ref = stepLr({ lr: 1, stepSize: 1 });
  assertClose([0, 1, 2].map((e) => step(ctx(0, e))), [1, 0.1, 0.01]);
  assertClose([0, 1, 2].map((e) => step(ctx(0, e))), [0, 1, 2].map((e) => ref(ctx(0, e))), { rtol: 0 });
  const cos = SCHEDULE_REGISTRY.create("cosine", { lr: 1, minLr: 0.1, warmupSteps: 4 });
  const cref = cosineLr({ lr: 1, minLr: 0.1, warmupSteps: 4 });
  assertClose([0, 3, 4, 12, 20].map((s) => cos(ctx(s))), [0.25, 1, 1, 0.55, 0.1]);
  assertClose([0, 3, 4, 12, 20].map((s) => cos(ctx(s))), [0, 3, 4, 12, 20].map((s) => cref(ctx(s))), { rtol: 0 });
});

test("schedule registry: a missing required parameter, a typo and a bad range are typed errors", () => {
  assert.throws(() => SCHEDULE_REGISTRY.create("step", { lr: 1 }), (e: unknown) => {
    assert.ok(e instanceof ComponentError);
    assert.deepEqual(e.issues, [{ path: "params.stepSize", message: "is required: a positive integer" }]);
    return true;
  });
  assert.throws(() => SCHEDULE_REGISTRY.create("cosin", { lr: 1 }), /did you mean "cosine"\?/);
  assert.throws(() => SCHEDULE_REGISTRY.create("cosine", { lr: 1, warmupSteps: -1 }), { code: "INVALID_ARGUMENT" });
  // A rule across parameters stays in the schedule itself (minLr ≤ lr), with the same code.
  assert.throws(() => SCHEDULE_REGISTRY.create("cosine", { lr: 0.1, minLr: 1 }), { code: "INVALID_ARGUMENT" });
});
