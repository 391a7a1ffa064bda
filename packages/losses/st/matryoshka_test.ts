import { test } from "node:test";
import assert from "node:assert/strict";
import { tf, useTfBackend } from "@likeness/tf";
import { createRng, ShapeError, ValueError } from "@likeness/core";
import { assertClose } from "@likeness/core/testing";
import { CoSENTLoss, MatryoshkaLoss } from "@likeness/losses";

await useTfBackend("wasm");

const rng = createRng(4);
const data = Array.from({ length: 6 }, () => Array.from({ length: 8 }, () => rng.normal()));
const target = { pairs: [[0, 1], [2, 3], [4, 5]] as [number, number][], scores: [1, 0, 0.5] };

test("MatryoshkaLoss is the weighted sum of the inner loss on column prefixes (value and gradient)", () => {
  const inner = new CoSENTLoss({ scale: 4 });
  const loss = new MatryoshkaLoss(inner, { dims: [8, 4, 2], weights: [1, 0.5, 0.25] });
  const x = tf.tensor2d(data);
  const prefix = (d: number) => tf.tensor2d(data.map((r) => r.slice(0, d)));
  const parts = [8, 4, 2].map((d) => inner.compute(prefix(d), target).dataSync()[0]);
  const got = loss.compute(x, target).dataSync()[0];
  assertClose(got, parts[0] + 0.5 * parts[1] + 0.25 * parts[2], { rtol: 1e-5 });
  // gradient: columns beyond the widest prefix < 8 get only the full-width term
  const g = tf.grad((e: tf.Tensor) => loss.compute(e as tf.Tensor2D, target))(x).arraySync() as number[][];
  const gFull = tf.grad((e: tf.Tensor) => inner.compute(e as tf.Tensor2D, target))(x).arraySync() as number[][];
  assertClose(g.map((r) => r.slice(4)), gFull.map((r) => r.slice(4)), { rtol: 1e-4, atol: 1e-6 });
  assert.ok(Math.abs(g[0][0] - gFull[0][0]) > 1e-6, "prefix columns get extra gradient");
});

test("MatryoshkaLoss dimsPerStep picks seeded subsets; bad options are typed errors", () => {
  const inner = new CoSENTLoss({ scale: 4 });
  const x = tf.tensor2d(data);
  const a = new MatryoshkaLoss(inner, { dims: [8, 4, 2], dimsPerStep: 1, rng: createRng(1) });
  const b = new MatryoshkaLoss(inner, { dims: [8, 4, 2], dimsPerStep: 1, rng: createRng(1) });
  const va = [0, 1, 2, 3].map(() => a.compute(x, target).dataSync()[0]);
  const vb = [0, 1, 2, 3].map(() => b.compute(x, target).dataSync()[0]);
  assert.deepEqual(va, vb);
  const singles = [8, 4, 2].map((d) =>
    inner.compute(tf.tensor2d(data.map((r) => r.slice(0, d))), target).dataSync()[0]
  );
  assert.ok(va.every((v) => singles.some((s) => Math.abs(s - v) < 1e-5)));
  const invalid = (e: unknown) => e instanceof ValueError && e.code === "INVALID_ARGUMENT";
  assert.throws(() => new MatryoshkaLoss(inner, { dims: [] }), invalid);
  assert.throws(() => new MatryoshkaLoss(inner, { dims: [4, 4] }), invalid);
  assert.throws(() => new MatryoshkaLoss(inner, { dims: [4, 2], weights: [1] }), invalid);
  assert.throws(() => new MatryoshkaLoss(inner, { dims: [4, 2], dimsPerStep: 1 }), invalid);
  assert.throws(
    () => new MatryoshkaLoss(inner, { dims: [16] }).compute(x, target),
    (e: unknown) => e instanceof ShapeError,
  );
});
