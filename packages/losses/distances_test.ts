import { test } from "node:test";
import assert from "node:assert/strict";
import { tf, useTfBackend } from "@likeness/tf";
import { assertClose } from "@likeness/core/testing";
import { distance, DISTANCE_NAMES, l2Normalize, resolveDistance, safeSqrt } from "@likeness/losses";
import { hasCode, randomEmbeddings, ref } from "./quaterion/_test_util.ts";

await useTfBackend("wasm");

const A = randomEmbeddings(5, 3, 11);
const B = randomEmbeddings(4, 3, 12);
const unit = (v: number[]) => v.map((x) => x / ref.norm(v));

const REFS: Record<string, (a: number[], b: number[]) => number> = {
  cosine: (a, b) => 1 - ref.cos(a, b),
  dot: (a, b) => -ref.dot(a, b),
  euclidean: ref.euclidean,
  squared_euclidean: (a, b) => ref.euclidean(a, b) ** 2,
  manhattan: ref.manhattan,
};

test("every distance matches a float64 reference, all pairs and row-wise", () => {
  for (const name of DISTANCE_NAMES) {
    const d = distance(name);
    assert.equal(d.smallerIsCloser, true);
    const m = d.matrix(tf.tensor2d(A), tf.tensor2d(B));
    assertClose(m.arraySync(), A.map((a) => B.map((b) => REFS[name](a, b))), { rtol: 1e-4, atol: 1e-5, what: name });
    const r = d.rowwise(tf.tensor2d(A.slice(0, 4)), tf.tensor2d(B));
    assertClose(r.arraySync(), B.map((b, i) => REFS[name](A[i], b)), {
      rtol: 1e-4,
      atol: 1e-5,
      what: `${name} rowwise`,
    });
  }
});

test("self matrices are symmetric, non-negative, with an exact zero diagonal", () => {
  for (const name of ["cosine", "euclidean", "squared_euclidean", "manhattan"] as const) {
    const m = distance(name).matrix(tf.tensor2d(A)).arraySync();
    for (let i = 0; i < A.length; i++) {
      assert.ok(Math.abs(m[i][i]) < 1e-6, `${name} d(a, a)`);
      for (let j = 0; j < A.length; j++) {
        assert.ok(m[i][j] >= -1e-6, `${name} non-negative`);
        assertClose(m[i][j], m[j][i], { rtol: 1e-5, atol: 1e-6 });
      }
    }
  }
});

test("options express both peers: Quaterion half cosine and similarities, pml normalised L2 with power", () => {
  const x = tf.tensor2d(A);
  const y = tf.tensor2d(B);
  const half = distance("cosine", { scale: "half" });
  assertClose(half.matrix(x, y).arraySync(), A.map((a) => B.map((b) => (1 - ref.cos(a, b)) / 2)), {
    rtol: 1e-4,
    atol: 1e-6,
  });
  assertClose(half.similarityMatrix(x, y).arraySync(), A.map((a) => B.map((b) => (1 + ref.cos(a, b)) / 2)), {
    rtol: 1e-4,
    atol: 1e-6,
  });
  const sim = distance("cosine", { kind: "similarity" });
  assert.equal(sim.smallerIsCloser, false);
  assertClose(sim.matrix(x, y).arraySync(), A.map((a) => B.map((b) => ref.cos(a, b))), { rtol: 1e-4, atol: 1e-6 });
  const eSim = distance("euclidean").similarityMatrix(x, y).arraySync();
  assertClose(eSim, A.map((a) => B.map((b) => 1 / (1 + ref.euclidean(a, b)))), { rtol: 1e-4, atol: 1e-6 });
  assertClose(
    distance("dot", { kind: "similarity" }).matrix(x, y).arraySync(),
    A.map((a) => B.map((b) => ref.dot(a, b))),
    {
      rtol: 1e-4,
      atol: 1e-5,
    },
  );
  const pml = distance("euclidean", { normalize: true, power: 2 });
  assertClose(pml.matrix(x, y).arraySync(), A.map((a) => B.map((b) => ref.euclidean(unit(a), unit(b)) ** 2)), {
    rtol: 1e-4,
    atol: 1e-5,
  });
  const man = distance("manhattan", { power: 0.5 });
  assertClose(
    man.rowwise(tf.slice(x, [0, 0], [4, -1]), y).arraySync(),
    B.map((b, i) => Math.sqrt(ref.manhattan(A[i], b))),
    {
      rtol: 1e-4,
      atol: 1e-5,
    },
  );
});

test("gradients are finite at zero distance and for zero vectors", () => {
  const x = tf.tensor2d([[1, 2], [1, 2], [0, 0]]);
  for (const name of DISTANCE_NAMES) {
    const g = tf.grad((e: tf.Tensor) => tf.sum(distance(name).matrix(e as tf.Tensor2D)))(x);
    assert.ok(Array.from(g.dataSync()).every(Number.isFinite), name);
    const r = tf.grad((e: tf.Tensor) =>
      tf.sum(distance(name).rowwise(e as tf.Tensor2D, tf.tensor2d([[1, 2], [1, 2], [0, 0]])))
    )(x);
    assert.ok(Array.from(r.dataSync()).every(Number.isFinite), `${name} rowwise`);
  }
  const s = tf.grad((v: tf.Tensor) => tf.sum(safeSqrt(v)))(tf.tensor1d([0, 4, -1e-9]));
  assert.deepEqual(Array.from(s.dataSync()), [0, 0.25, 0]);
  assertClose(l2Normalize(tf.tensor2d([[3, 4], [0, 0]])).arraySync(), [[0.6, 0.8], [0, 0]]);
});

test("bad names, options and shapes are typed errors", () => {
  assert.throws(() => distance("cosin" as "cosine"), hasCode("UNKNOWN_NAME"));
  assert.throws(() => distance("cosine", { scale: "quarter" as "half" }), hasCode("UNKNOWN_NAME"));
  assert.throws(() => distance("euclidean", { power: 0 }), hasCode("INVALID_ARGUMENT"));
  assert.throws(() => distance("cosine", { power: 2 }), hasCode("INVALID_ARGUMENT"));
  assert.throws(() => distance("euclidean").matrix(tf.tensor2d(A), tf.tensor2d([[1, 2]])), hasCode("SHAPE_MISMATCH"));
  assert.throws(() => distance("euclidean").rowwise(tf.tensor2d(A), tf.tensor2d(B)), hasCode("SHAPE_MISMATCH"));
  assert.equal(resolveDistance(undefined, "manhattan").name, "manhattan");
  assert.equal(resolveDistance("dot", "cosine").name, "dot");
});

test("distance() accepts the backend's and the peers' spellings as aliases", () => {
  assert.equal(distance("l2").name, "euclidean");
  assert.equal(distance("sqeuclidean").name, "squared_euclidean");
  assert.equal(distance("l1").name, "manhattan");
  assert.equal(distance("cosine_similarity").name, "cosine");
  assert.throws(() => distance("L2" as "l2"), hasCode("UNKNOWN_NAME"));
});
