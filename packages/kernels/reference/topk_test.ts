import { test } from "node:test";
import assert from "node:assert/strict";
import { eligibleMask, topkRef } from "./mod.ts";

const m = (rows: number, cols: number, values: number[]) => ({ data: new Float32Array(values), rows, cols });

test("topkRef: k smallest distances, best first, ties to the lower index", () => {
  const q = m(1, 1, [0]);
  const r = m(5, 1, [2, -1, 1, -2, 1]);
  const t = topkRef(q, r, { k: 4, metric: "l1" });
  assert.deepEqual(Array.from(t.indices), [1, 2, 4, 0]);
  assert.deepEqual(Array.from(t.values), [1, 1, 1, 2]);
});

test("topkRef: largest values by default for dot, override with largest", () => {
  const q = m(1, 1, [1]);
  const r = m(3, 1, [2, -1, 3]);
  assert.deepEqual(Array.from(topkRef(q, r, { k: 2, metric: "dot" }).indices), [2, 0]);
  assert.deepEqual(Array.from(topkRef(q, r, { k: 2, metric: "dot", largest: false }).indices), [1, 0]);
});

test("topkRef: label filter pads with -1 and NaN", () => {
  const q = m(1, 1, [0]);
  const r = m(4, 1, [1, 2, 3, 4]);
  const options = {
    k: 3,
    metric: "l2" as const,
    referenceLabels: new Int32Array([7, 8, 7, 9]),
    allowLabels: new Int32Array([7]),
  };
  assert.deepEqual(Array.from(eligibleMask(r, options)!), [1, 0, 1, 0]);
  const t = topkRef(q, r, options);
  assert.deepEqual(Array.from(t.indices), [0, 2, -1]);
  assert.equal(t.values[1], 3);
  assert.ok(Number.isNaN(t.values[2]));
});

test("topkRef: k larger than the references is K_TOO_LARGE", () => {
  assert.throws(
    () => topkRef(m(1, 1, [0]), m(2, 1, [1, 2]), { k: 3, metric: "l2" }),
    (e: Error & { code?: string }) => e.code === "K_TOO_LARGE" && /k <= 2/.test(e.message),
  );
});
