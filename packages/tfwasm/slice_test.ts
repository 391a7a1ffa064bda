import { test } from "node:test";
import assert from "node:assert/strict";
import { tf, useTfBackend } from "@likeness/tf";
import { on, values } from "./_test_util.ts";
import { isLikenessWasmKernel, registerLikenessWasmKernels } from "@likeness/tfwasm";

/** Slices of ranks 0–5: contiguous, strided, runs below and above the value-by-value cut (16), whole trailing axes. */
const slices = (): tf.Tensor[] => [
  tf.slice(values(1, [40]), 3, 30),
  tf.slice(values(2, [7, 33]), [2, 0], [3, 33]),
  tf.slice(values(3, [7, 33]), [1, 5], [4, 20]),
  tf.slice(values(4, [7, 9]), [1, 2], [5, 3]),
  tf.slice(values(5, [4, 5, 6]), [1, 0, 0], [2, 5, 6]),
  tf.slice(values(6, [4, 5, 6]), [1, 1, 0], [2, 3, 6]),
  tf.slice(values(7, [4, 5, 17]), [0, 2, 1], [4, 2, 16]),
  tf.slice(values(8, [3, 4, 5, 6]), [1, 0, 2, 0], [2, 4, 2, 6]),
  tf.slice(values(9, [2, 3, 4, 5, 6]), [1, 1, 1, 1, 1], [1, 2, 3, 4, 5]),
  tf.slice(values(10, [6, 8], "int32"), [1, 2], [-1, 3]),
  tf.slice(values(11, [6, 8], "bool"), [2, 0], [2, -1]),
  tf.slice(values(12, [5, 4]), [2, 1], [0, 2]),
  ...tf.split(values(13, [4, 6, 48]), [16, 16, 16], 2),
  ...tf.split(values(14, [4, 6, 9]), [2, -1, 3], 1),
  ...tf.split(values(15, [6, 5], "int32"), 3, 0),
];

test("Slice and SplitV on wasm (likeness) match tfjs-backend-cpu: ranks 1-5, strided and contiguous, every dtype", async () => {
  await registerLikenessWasmKernels({ replace: true });
  assert.ok(isLikenessWasmKernel("Slice") && isLikenessWasmKernel("SplitV"));
  const wasm = await on("wasm", slices);
  const cpu = await on("cpu", slices);
  assert.equal(wasm.length, cpu.length);
  for (let i = 0; i < cpu.length; i++) assert.deepEqual(wasm[i], cpu[i], `case ${i}`);
});

test("Slice on wasm (likeness): string tensors go to tfjs's kernel, bad boxes throw, the gradient matches cpu", async () => {
  await registerLikenessWasmKernels({ replace: true });
  await useTfBackend("wasm");
  assert.deepEqual(tf.slice(tf.tensor(["a", "b", "c", "d"]), [1], [2]).dataSync(), ["b", "c"]);
  const x = values(16, [3, 4]);
  assert.throws(() => tf.slice(x, [2, 0], [2, 4]));
  x.dispose();
  const grad = () => [
    tf.grad((t: tf.Tensor) => tf.sum(tf.square(tf.slice(t, [1, 1], [2, 2]))))(values(17, [4, 3])),
    ...tf.grads((t: tf.Tensor) => tf.sum(tf.mul(tf.split(t, [1, 2], 1)[1], 3)))([values(18, [2, 3])]),
  ];
  assert.deepEqual(await on("wasm", grad), await on("cpu", grad));
});
