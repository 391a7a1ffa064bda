import { test } from "node:test";
import assert from "node:assert/strict";
import { assertClose } from "@likeness/core/testing";
import { tf } from "@likeness/tf";
import { isLikenessWasmKernel, registerLikenessWasmKernels } from "@likeness/tfwasm";
import { on, values } from "./_test_util.ts";

test("Sum on wasm (likeness): every axis but the last summed in place matches cpu; other reductions run on tfjs's", async () => {
  await registerLikenessWasmKernels({ replace: true });
  assert.ok(isLikenessWasmKernel("Sum"));
  const f = () => [
    tf.sum(values(1, [16, 24, 24, 16]), [0, 1, 2]), // a conv layer's bias gradient
    tf.sum(values(2, [5, 7]), 0, true),
    tf.sum(values(3, [3, 4, 5]), [1, 0]),
    tf.sum(values(4, [3, 4, 5]), [-3, -2], true),
    tf.sum(values(5, [0, 4]), 0), // no rows: zeros
    tf.sum(values(6, [3, 4]), 1), // not the leading axes: tfjs's
    tf.sum(values(7, [3, 4, 5]), [0, 2]),
    tf.sum(values(8, [6]), 0),
    tf.sum(values(9, [3, 4], "int32"), 0),
    tf.sum(values(10, [2, 3, 4])),
  ];
  const wasm = await on("wasm", f);
  const cpu = await on("cpu", f);
  assert.equal(wasm.length, cpu.length);
  for (let i = 0; i < cpu.length; i++) {
    assert.deepEqual(wasm[i].shape, cpu[i].shape, `[${i}] shape`);
    assertClose(wasm[i].data, cpu[i].data, { rtol: 1e-5, atol: 1e-4, what: `[${i}]` });
  }
  assert.deepEqual(wasm[4].data, [0, 0, 0, 0]);
});

test("Sum on wasm (likeness): a dense layer's bias gradient through tf.grad matches cpu", async () => {
  await registerLikenessWasmKernels({ replace: true });
  const f = () => {
    const x = values(11, [9, 5]);
    const w = values(12, [5, 3]);
    const g = tf.grad((b: tf.Tensor) => tf.sum(tf.square(tf.add(tf.matMul(x, w), b))))(values(13, [3]));
    return [g];
  };
  const [wasm] = await on("wasm", f);
  const [cpu] = await on("cpu", f);
  assertClose(wasm.data, cpu.data, { rtol: 1e-5, atol: 1e-5, what: "bias gradient" });
});
