import { test } from "node:test";
import assert from "node:assert/strict";
import { ShapeError } from "@likeness/core";
import { tf, useTfBackend } from "@likeness/tf";
import { on, values } from "./_test_util.ts";
import { isLikenessWasmKernel, registerLikenessWasmKernels } from "@likeness/tfwasm";

const int = (v: number[], shape?: number[]) => tf.tensor(v, shape ?? [v.length], "int32");

/** Gathers over every axis, batch dims, slice lengths below and above the value-by-value cut (16). */
const cases = (): tf.Tensor[] => [
  tf.gather(values(1, [20, 33]), int([3, 0, 19, 3, 7])),
  tf.gather(values(2, [20, 5]), int([3, 0, 19, 3])),
  tf.gather(values(3, [6, 7, 17]), int([6, 0, 2]), 1),
  tf.gather(values(4, [6, 7, 3]), int([2, 2, 0, 1]), 2),
  tf.gather(values(5, [9]), int([8, 0, 4, 4])),
  tf.gather(values(6, [4, 5, 18]), int([0, 4, 1, 3, 2, 2, 3, 0], [4, 2]), 1, 1),
  tf.gather(values(7, [10, 20], "int32"), int([9, 1])),
  tf.gather(values(8, [10, 3], "bool"), int([9, 1, 1])),
  tf.gather(values(9, [5, 4]), int([[1, 2], [4, 0]].flat(), [2, 2])),
  tf.gather(values(10, [5, 4]), int([])),
];

test("GatherV2 on wasm (likeness) matches tfjs-backend-cpu: every axis, batch dims, dtypes, short and long slices", async () => {
  await registerLikenessWasmKernels({ replace: true });
  assert.ok(isLikenessWasmKernel("GatherV2"));
  const wasm = await on("wasm", cases);
  const cpu = await on("cpu", cases);
  assert.equal(wasm.length, cpu.length);
  for (let i = 0; i < cpu.length; i++) assert.deepEqual(wasm[i], cpu[i], `case ${i}`);
});

test("GatherV2 on wasm (likeness): an index out of range throws OUT_OF_RANGE, and its gradient matches cpu", async () => {
  await registerLikenessWasmKernels({ replace: true });
  await useTfBackend("wasm");
  const x = values(11, [4, 3]);
  assert.throws(() => tf.gather(x, int([1, 4])), (e: unknown) => e instanceof ShapeError && e.code === "OUT_OF_RANGE");
  assert.throws(() => tf.gather(x, int([-1])), (e: unknown) => e instanceof ShapeError && e.code === "OUT_OF_RANGE");
  x.dispose();
  const grad = () => [tf.grad((t: tf.Tensor) => tf.sum(tf.square(tf.gather(t, int([2, 0, 2])))))(values(12, [4, 3]))];
  assert.deepEqual(await on("wasm", grad), await on("cpu", grad));
});
