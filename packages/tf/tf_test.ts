import { test } from "node:test";
import assert from "node:assert/strict";
import { tf, useTfBackend } from "@likeness/tf";

test("wasm backend computes gradients", async () => {
  assert.equal(await useTfBackend("wasm"), "wasm");
  const g = tf.grad((x: tf.Tensor) => tf.sum(tf.square(x)))(tf.tensor([1, 2, 3]));
  assert.deepEqual(Array.from(await g.data()), [2, 4, 6]);
});

test("unknown tfjs backend is a typed error", async () => {
  await assert.rejects(
    () => useTfBackend("gpu" as "wasm"),
    (e: Error & { code?: string }) => e.code === "UNKNOWN_NAME",
  );
});
