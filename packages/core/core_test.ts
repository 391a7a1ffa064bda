import { test } from "node:test";
import assert from "node:assert/strict";
import {
  checkOneOf,
  checkPositiveInt,
  createRng,
  labelIds,
  sameLabelMatrix,
  ShapeError,
  toMatrix,
  ValueError,
} from "@likeness/core";
import { assertClose, compareClose } from "@likeness/core/testing";

test("toMatrix rejects ragged, empty and non-finite input with typed codes", () => {
  assert.throws(
    () => toMatrix([[1, 2], [3]], "query"),
    (e: unknown) => e instanceof ShapeError && e.code === "SHAPE_MISMATCH",
  );
  assert.throws(() => toMatrix([], "query"), (e: unknown) => e instanceof ShapeError && e.code === "EMPTY_INPUT");
  assert.throws(
    () => toMatrix([[1, NaN]], "query"),
    (e: unknown) => e instanceof ValueError && e.code === "NON_FINITE",
  );
  const m = toMatrix([[1, 2], [3, 4]]);
  assert.deepEqual(Array.from(m.data), [1, 2, 3, 4]);
});

test("rng is deterministic and shuffle is a permutation", () => {
  const a = createRng(42);
  const b = createRng(42);
  const xs = Array.from({ length: 5 }, () => a.next());
  assert.deepEqual(xs, Array.from({ length: 5 }, () => b.next()));
  assert.equal(xs[0], createRng(42).next());
  const s = createRng(1).shuffle([0, 1, 2, 3, 4, 5]);
  assert.deepEqual([...s].sort(), [0, 1, 2, 3, 4, 5]);
  assert.notDeepEqual(s, [0, 1, 2, 3, 4, 5]);
});

test("labels: ids and same matrix", () => {
  assert.deepEqual(Array.from(labelIds(["b", "a", "b"])), [0, 1, 0]);
  assert.deepEqual(Array.from(sameLabelMatrix([0, 1, 0])), [1, 0, 1, 0, 1, 0, 1, 0, 1]);
  assert.throws(() => checkOneOf("cosin", ["cosine", "dot"], "metric"), /use one of cosine, dot/);
});

test("compareClose reports the worst index", () => {
  const r = compareClose([1, 2, 3], [1, 2.5, 3]);
  assert.equal(r.ok, false);
  assert.equal(r.worstIndex, 1);
  assertClose([1, NaN], [1 + 1e-9, NaN]);
  assert.throws(() => assertClose([1], [1, 2]));
});

test("checkPositiveInt: integers >= 1 pass; anything else is INVALID_ARGUMENT naming the option and its owner", () => {
  assert.equal(checkPositiveInt(3, "numBins", "FastAPLoss"), 3);
  for (const bad of [0, -1, 2.5, NaN, Infinity, "3", undefined, null]) {
    assert.throws(
      () => checkPositiveInt(bad, "numBins", "FastAPLoss"),
      (e: unknown) =>
        e instanceof ValueError && e.code === "INVALID_ARGUMENT" &&
        e.message === `Invalid numBins for FastAPLoss: expected a positive integer, got ${String(bad)}`,
    );
  }
  assert.throws(() => checkPositiveInt(0, "k"), { message: "Invalid k: expected a positive integer, got 0" });
});
