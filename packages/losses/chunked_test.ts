import { test } from "node:test";
import assert from "node:assert/strict";
import { tf, useTfBackend } from "@likeness/tf";
import { assertClose } from "@likeness/core/testing";
import { distance, evaluateRowChunked, type RowChunkedTerm } from "@likeness/losses";
import { hasCode, randomEmbeddings } from "./quaterion/_test_util.ts";

await useTfBackend("wasm");

const X = randomEmbeddings(9, 3, 5);

/** A two-stage term: relu(d_ij / mean(d) - 0.5) summed over rows, divided by the row count. */
const term: RowChunkedTerm = {
  rows: X.length,
  stats: (x, s, e) => {
    const d = distance("euclidean").matrix(tf.slice(x, [s, 0], [e - s, -1]), x);
    return tf.stack([tf.sum(d), tf.scalar(d.size)]) as tf.Tensor1D;
  },
  partial: (x, s, e, st) => {
    const d = distance("euclidean").matrix(tf.slice(x, [s, 0], [e - s, -1]), x);
    const mean = tf.div(tf.slice(st!, [0], [1]), tf.slice(st!, [1], [1]));
    return tf.reshape(tf.sum(tf.relu(tf.sub(tf.div(d, mean), 0.5))), [1]) as tf.Tensor1D;
  },
  finish: (t) => tf.reshape(tf.div(tf.square(t), X.length), []) as tf.Scalar,
};

function valueAndGrad(chunkRows?: number) {
  const x = tf.tensor2d(X);
  const { value, grad } = tf.valueAndGrad((e: tf.Tensor) => evaluateRowChunked(term, e as tf.Tensor2D, { chunkRows }))(
    x,
  );
  return { value: value.dataSync()[0], grad: Array.from(grad.dataSync()) };
}

test("chunked evaluation equals unchunked for every block size (value and gradient)", () => {
  const base = valueAndGrad();
  assert.ok(base.value > 0);
  for (const rows of [1, 2, 4, 8, 9, 100]) {
    const r = valueAndGrad(rows);
    assertClose(r.value, base.value, { rtol: 1e-5, atol: 1e-6, what: `value, ${rows} rows` });
    assertClose(r.grad, base.grad, { rtol: 1e-4, atol: 1e-6, what: `grad, ${rows} rows` });
  }
});

test("chunked loss backpropagates into model weights inside an outer gradient", () => {
  const input = tf.tensor2d(X);
  const w = tf.variable(tf.tensor2d([[1, 0.5], [0.2, -1], [0.3, 0.1]]));
  const grads = (chunkRows?: number) => {
    const { grads } = tf.variableGrads(() => evaluateRowChunked(term, tf.matMul(input, w), { chunkRows }), [w]);
    return Array.from(grads[w.name].dataSync());
  };
  const full = grads();
  assert.ok(full.some((v) => v !== 0));
  assertClose(grads(2), full, { rtol: 1e-4, atol: 1e-6 });
  // the engine's tape survives: a second, ordinary gradient still works afterwards
  assertClose(grads(3), full, { rtol: 1e-4, atol: 1e-6 });
  w.dispose();
});

test("chunked evaluation does not leak tensors", () => {
  const x = tf.tensor2d(X);
  valueAndGrad(2);
  const before = tf.memory().numTensors;
  const { value, grad } = tf.valueAndGrad((e: tf.Tensor) =>
    evaluateRowChunked(term, e as tf.Tensor2D, { chunkRows: 2 })
  )(x);
  tf.dispose([value, grad]);
  assert.equal(tf.memory().numTensors, before);
});

test("chunkRows must be a positive integer", () => {
  for (const bad of [0, -1, 1.5]) {
    assert.throws(() => evaluateRowChunked(term, tf.tensor2d(X), { chunkRows: bad }), hasCode("INVALID_ARGUMENT"));
  }
});
