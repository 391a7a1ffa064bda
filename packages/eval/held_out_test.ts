import { test } from "node:test";
import assert from "node:assert/strict";
import { evaluateHeldOut, splitByClasses } from "@likeness/eval";

test("splitByClasses keeps every held-out class out of training", () => {
  const labels = [0, 1, 2, 3, 4, 0, 1, 2, 3, 4];
  const s = splitByClasses(labels, { heldOut: [1, 3] });
  assert.deepEqual(s.heldOut, [1, 3, 6, 8]);
  assert.deepEqual(s.train, [0, 2, 4, 5, 7, 9]);
  assert.deepEqual(s.heldOutClasses, [1, 3]);
  const r = splitByClasses(labels, { heldOutFraction: 0.4, seed: 7 });
  assert.equal(r.heldOutClasses.length, 2);
  assert.deepEqual(splitByClasses(labels, { heldOutFraction: 0.4, seed: 7 }), r);
  for (const i of r.heldOut) assert.ok(r.heldOutClasses.includes(labels[i]));
  for (const i of r.train) assert.ok(!r.heldOutClasses.includes(labels[i]));
  assert.throws(() => splitByClasses(labels, { heldOut: [7] }), { code: "INVALID_ARGUMENT" });
  assert.throws(() => splitByClasses(labels, { heldOut: [0, 1, 2, 3, 4] }), { code: "INVALID_ARGUMENT" });
  assert.throws(() => splitByClasses([]), { code: "EMPTY_INPUT" });
});

test("evaluateHeldOut retrieves among the unseen classes only", async () => {
  // Seen class 0 sits right next to unseen class 1's items; it must not be a neighbour.
  const e = [[0, 1], [0, 1.01], [0, 1.02], [1, 0], [1, 0.05], [0.02, 1]];
  const labels = [1, 1, 0, 2, 2, 0];
  const r = await evaluateHeldOut(e, labels, { heldOutClasses: [1, 2], k: 1, metric: "l2", exclude: ["NMI", "AMI"] });
  assert.equal(r.queries, 4);
  assert.equal(r.metrics.precision_at_1, 1);
  await assert.rejects(evaluateHeldOut(e, labels, { heldOutClasses: [9] }), { code: "EMPTY_INPUT" });
});
