import { test } from "node:test";
import assert from "node:assert/strict";
import { assertClose } from "@likeness/core/testing";
import { metricRef, normalizeRef, normsRef, pairwiseRef } from "./mod.ts";

const m = (rows: number, cols: number, values: number[]) => ({ data: new Float32Array(values), rows, cols });

test("pairwiseRef: hand-computed values for every metric", () => {
  const q = m(1, 2, [3, 4]);
  const r = m(3, 2, [0, 0, 3, 4, -4, 3]);
  assertClose(pairwiseRef(q, r, "dot").data, [0, 25, 0]);
  assertClose(pairwiseRef(q, r, "cosine").data, [0, 1, 0]); // zero-norm row gives 0
  assertClose(pairwiseRef(q, r, "l2").data, [5, 0, Math.sqrt(50)]);
  assertClose(pairwiseRef(q, r, "sqeuclidean").data, [25, 0, 50]);
  assertClose(pairwiseRef(q, r, "l1").data, [7, 0, 8]);
  assert.equal(pairwiseRef(q, r, "dot").rows, 1);
  assert.equal(pairwiseRef(q, r, "dot").cols, 3);
});

test("metricRef: symmetric, d(a, a) = 0, non-negative distances", () => {
  const a = [0.5, -1.25, 2];
  const b = [1, 0.75, -3];
  for (const metric of ["dot", "cosine", "l2", "sqeuclidean", "l1"] as const) {
    assert.equal(metricRef(a, b, metric), metricRef(b, a, metric));
  }
  for (const metric of ["l2", "sqeuclidean", "l1"] as const) {
    assert.equal(metricRef(a, a, metric), 0);
    assert.ok(metricRef(a, b, metric) > 0);
  }
  assert.ok(Math.abs(metricRef(a, a, "cosine") - 1) < 1e-15);
});

test("normsRef and normalizeRef: unit rows, zero rows stay zero", () => {
  const x = m(2, 2, [3, 4, 0, 0]);
  assertClose(normsRef(x), [5, 0]);
  assertClose(normalizeRef(x).data, [0.6, 0.8, 0, 0]);
});

test("pairwiseRef: rejects mismatched columns and unknown metrics", () => {
  assert.throws(() => pairwiseRef(m(1, 2, [1, 2]), m(1, 3, [1, 2, 3]), "dot"), (e: Error & { code?: string }) => {
    return e.code === "SHAPE_MISMATCH" && /2 columns/.test(e.message) && /3/.test(e.message);
  });
  assert.throws(
    () => pairwiseRef(m(1, 1, [1]), m(1, 1, [1]), "cos" as "cosine"),
    (e: Error & { code?: string }) => e.code === "UNKNOWN_NAME",
  );
});
