import { test } from "node:test";
import assert from "node:assert/strict";
import { adam, paramGroups, sgd } from "@likeness/trainer";
import { tf, useTfBackend } from "@likeness/tf";

test("paramGroups: each group moves at its own rate, matches its optimiser alone, and restores its state", async () => {
  await useTfBackend("wasm");
  const a = tf.variable(tf.tensor1d([1, 2]), true, "pg_a");
  const b = tf.variable(tf.tensor1d([3]), true, "pg_b");
  const c = tf.variable(tf.tensor1d([5]), true, "pg_c");
  const opt = paramGroups({
    groups: [{ name: "backbone", variables: [a], lrScale: 0.1 }, { name: "frozen", variables: [b], lrScale: 0 }],
    optimizer: () => sgd(),
  });
  assert.equal(opt.name, "groups(sgd)");
  tf.tidy(() => opt.apply([a, b, c], [tf.tensor1d([1, 1]), tf.tensor1d([1]), tf.tensor1d([1])], 0.5));
  assert.deepEqual([...a.dataSync()].map((v) => Math.round(v * 1000) / 1000), [0.95, 1.95]);
  assert.deepEqual([...b.dataSync()], [3]);
  assert.deepEqual([...c.dataSync()], [4.5]);
  // with Adam, a group equals a separate Adam at the scaled rate
  const x = tf.variable(tf.tensor1d([1, -1]), true, "pg_x");
  const y = tf.variable(tf.tensor1d([1, -1]), true, "pg_y");
  const grouped = paramGroups({ groups: [{ variables: [x], lrScale: 0.25 }] });
  const alone = adam();
  for (let s = 0; s < 3; s++) {
    tf.tidy(() => grouped.apply([x], [tf.tensor1d([0.3, -2])], 0.1));
    tf.tidy(() => alone.apply([y], [tf.tensor1d([0.3, -2])], 0.025));
  }
  assert.deepEqual([...x.dataSync()], [...y.dataSync()]);
  const state = grouped.getState();
  assert.ok(state.tensors.some((t) => t.name.startsWith("g0/")));
  assert.equal(state.meta["g0.t"], 3);
  const again = paramGroups({ groups: [{ variables: [x], lrScale: 0.25 }] });
  again.setState(state, [x]);
  assert.equal(again.getState().meta["g0.t"], 3);
  assert.throws(
    () => paramGroups({ groups: [{ variables: [a], lrScale: -1 }] }),
    (e: Error & { code?: string }) => e.code === "INVALID_ARGUMENT",
  );
  assert.throws(
    () => paramGroups({ groups: [{ variables: [a] }, { variables: [a] }] }),
    (e: Error & { code?: string }) => e.code === "INVALID_ARGUMENT",
  );
  for (const o of [opt, grouped, alone, again]) o.dispose();
  tf.dispose([a, b, c, x, y]);
});
