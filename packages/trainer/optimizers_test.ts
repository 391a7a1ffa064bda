import { test } from "node:test";
import assert from "node:assert/strict";
import {
  adam,
  clipByGlobalNorm,
  constantLr,
  cosineLr,
  earlyStopping,
  FitProfiler,
  globalNorm,
  renderBar,
  sgd,
  stepLr,
} from "@likeness/trainer";
import { tf, useTfBackend } from "@likeness/tf";
import { assertClose } from "@likeness/core/testing";

const code = (c: string) => (e: Error & { code?: string }) => e.code === c;

test("Adam matches the update rule computed by hand, and its state round-trips", async () => {
  await useTfBackend("wasm");
  const w = tf.variable(tf.tensor1d([1, -2]));
  const opt = adam({ beta1: 0.9, beta2: 0.99, epsilon: 1e-8 });
  const g = [0.5, -1];
  let m = [0, 0], v = [0, 0], x = [1, -2];
  for (let t = 1; t <= 3; t++) {
    tf.tidy(() => opt.apply([w], [tf.tensor1d(g)], 0.1));
    m = m.map((mi, i) => 0.9 * mi + 0.1 * g[i]);
    v = v.map((vi, i) => 0.99 * vi + 0.01 * g[i] * g[i]);
    x = x.map((xi, i) => xi - 0.1 * (m[i] / (1 - 0.9 ** t)) / (Math.sqrt(v[i] / (1 - 0.99 ** t)) + 1e-8));
  }
  assertClose(await w.data(), x, { rtol: 1e-5 });
  // state round trip: a fresh optimiser continues identically
  const state = opt.getState();
  assert.equal(state.meta.t, 3);
  const w2 = tf.variable(tf.tensor1d(Array.from(await w.data())));
  const opt2 = adam({ beta1: 0.9, beta2: 0.99 });
  opt2.setState(state, [w2]);
  tf.tidy(() => opt.apply([w], [tf.tensor1d(g)], 0.1));
  tf.tidy(() => opt2.apply([w2], [tf.tensor1d(g)], 0.1));
  assert.deepEqual(Array.from(await w2.data()), Array.from(await w.data()));
  assert.throws(() => adam({ beta1: 1.5 }), code("INVALID_ARGUMENT"));
});

test("SGD with momentum follows torch's rule; weight decay adds w", async () => {
  const w = tf.variable(tf.tensor1d([1]));
  const opt = sgd({ momentum: 0.5, weightDecay: 0.1 });
  let x = 1, buf = 0;
  for (let t = 1; t <= 3; t++) {
    tf.tidy(() => opt.apply([w], [tf.tensor1d([2])], 0.1));
    const gi = 2 + 0.1 * x;
    buf = t === 1 ? gi : 0.5 * buf + gi;
    x -= 0.1 * buf;
  }
  assertClose(await w.data(), [x], { rtol: 1e-6 });
});

test("schedules: constant, step, cosine with warm-up", () => {
  const ctx = (step: number, epoch = 0) => ({ step, epoch, stepsPerEpoch: 10, totalSteps: 20 });
  assert.equal(constantLr(0.3)(ctx(7)), 0.3);
  const s = stepLr({ lr: 1, stepSize: 1, gamma: 0.1 });
  assertClose([s(ctx(0, 0)), s(ctx(0, 1)), s(ctx(0, 2))], [1, 0.1, 0.01]);
  const c = cosineLr({ lr: 1, minLr: 0.1, warmupSteps: 4 });
  assertClose([c(ctx(0)), c(ctx(3)), c(ctx(4)), c(ctx(12)), c(ctx(20))], [0.25, 1, 1, 0.55, 0.1]);
  assert.throws(() => cosineLr({ lr: 1, minLr: 2 }), code("INVALID_ARGUMENT"));
  assert.throws(() => constantLr(0), code("INVALID_ARGUMENT"));
});

test("global-norm clipping scales every gradient by the same factor", async () => {
  const gs = [tf.tensor1d([3, 0]), undefined, tf.tensor1d([4])];
  assert.equal(globalNorm(gs), 5);
  const { grads, norm } = clipByGlobalNorm(gs, 1);
  assert.equal(norm, 5);
  assertClose(await grads[0]!.data(), [0.6, 0]);
  assert.equal(grads[1], undefined);
  assertClose(await grads[2]!.data(), [0.8]);
  const same = clipByGlobalNorm(gs, 10);
  assert.equal(same.grads[0], gs[0]);
});

test("progress bar rendering", () => {
  assert.equal(renderBar(0, 4, 8), "[        ]");
  assert.equal(renderBar(2, 4, 8), "[===>    ]");
  assert.equal(renderBar(4, 4, 8), "[========]");
});

test("integer options >= 0 (warmupSteps, patience, profiler skip) take 0 and reject negatives and fractions", () => {
  assert.equal(cosineLr({ lr: 1, warmupSteps: 0 })({ step: 0, epoch: 0, stepsPerEpoch: 1, totalSteps: 2 }), 1);
  assert.equal(typeof earlyStopping({ patience: 0 }).onEpochEnd, "function");
  new FitProfiler({ skip: 0 });
  for (const bad of [-1, 1.5, NaN]) {
    assert.throws(() => cosineLr({ lr: 1, warmupSteps: bad }), {
      code: "INVALID_ARGUMENT",
      message: `Invalid warmupSteps for cosineLr: expected a finite integer >= 0, got ${bad}`,
    });
    assert.throws(() => earlyStopping({ patience: bad }), code("INVALID_ARGUMENT"));
    assert.throws(() => new FitProfiler({ skip: bad }), code("INVALID_ARGUMENT"));
  }
});
