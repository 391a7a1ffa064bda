import { test } from "node:test";
import assert from "node:assert/strict";
import { tf, useTfBackend } from "@likeness/tf";
import { avgNonZeroReducer, meanReducer, reducer, sumReducer, thresholdReducer } from "@likeness/losses";
import { hasCode } from "./quaterion/_test_util.ts";

await useTfBackend("wasm");

const L = [0, 1, 2, 3, 0, 6];
const val = (r: { reduce(l: tf.Tensor): tf.Scalar }, l: number[]) => r.reduce(tf.tensor1d(l)).dataSync()[0];

test("reducers compute mean, sum, average over non-zero and threshold", () => {
  assert.equal(val(meanReducer(), L), 2);
  assert.equal(val(sumReducer(), L), 12);
  assert.equal(val(avgNonZeroReducer(), L), 3);
  assert.equal(val(thresholdReducer({ low: 1 }), L), Math.fround(11 / 3));
  assert.equal(val(thresholdReducer({ high: 3 }), L), (0 + 1 + 2 + 0) / 4);
  assert.equal(val(thresholdReducer({ low: 0, high: 6 }), L), 2);
  assert.equal(val(reducer("sum"), [1, 2]), 3);
});

test("reducers give 0 (not NaN) for empty or fully filtered input", () => {
  for (const r of [meanReducer(), sumReducer(), avgNonZeroReducer(), thresholdReducer({ low: 10 })]) {
    assert.equal(r.reduce(tf.tensor1d([])).dataSync()[0], 0, r.name);
  }
  assert.equal(val(avgNonZeroReducer(), [0, 0]), 0);
  assert.equal(val(thresholdReducer({ low: 10 }), [1, 2]), 0);
});

test("reducers are differentiable and compose with per-element losses", () => {
  const g = tf.grad((x: tf.Tensor) => avgNonZeroReducer().reduce(tf.relu(x)))(tf.tensor1d([-1, 2, 4]));
  assert.deepEqual(Array.from(g.dataSync()), [0, 0.5, 0.5]);
  const t = tf.grad((x: tf.Tensor) => thresholdReducer({ low: 1, high: 5 }).reduce(x))(tf.tensor1d([0, 2, 4, 9]));
  assert.deepEqual(Array.from(t.dataSync()), [0, 0.5, 0.5, 0]);
});

test("bad reducer names and bounds are typed errors", () => {
  assert.throws(() => reducer("median" as "mean"), hasCode("UNKNOWN_NAME"));
  assert.throws(() => thresholdReducer({}), hasCode("INVALID_ARGUMENT"));
  assert.throws(() => thresholdReducer({ low: 2, high: 1 }), hasCode("INVALID_ARGUMENT"));
});
