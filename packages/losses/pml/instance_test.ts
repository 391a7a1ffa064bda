import { test } from "node:test";
import assert from "node:assert/strict";
import { assertClose } from "@likeness/core/testing";
import { PmlInstanceLoss } from "./instance.ts";
import { allFinite, assertCode, batch, cos64, lse, setup, value, valueAndGrad } from "./_test_util.ts";

await setup();
const E = batch(29, 6, 4);

test("InstanceLoss matches a float64 loop (one instance per class)", () => {
  const s = cos64(E);
  const want = s.reduce((acc, row, i) => acc + lse(row.map((v) => 8 * v)) - 8 * row[i], 0) / E.length;
  assertClose(value(new PmlInstanceLoss({ gamma: 8 }), E, { labels: [10, 11, 12, 13, 14, 15] }), want, { rtol: 1e-5 });
});

test("InstanceLoss uses sorted dense label ids and has finite gradients", () => {
  const a = value(new PmlInstanceLoss({ gamma: 8 }), E, { labels: ["a", "b", "c", "d", "e", "f"] });
  const b = value(new PmlInstanceLoss({ gamma: 8 }), E, { labels: [0, 1, 2, 3, 4, 5] });
  assertClose(a, b, { rtol: 1e-6 });
  assert.ok(allFinite(valueAndGrad(new PmlInstanceLoss(), E, { labels: [0, 1, 2, 3, 4, 5] }).grad));
});

test("InstanceLoss rejects bad input with stable codes", () => {
  const loss = new PmlInstanceLoss();
  assertCode(() => value(loss, E, { labels: [0, 1] }), "LABEL_MISMATCH");
  assertCode(() => value(loss, E, { labels: [0, 1, 2, 3, 4, 5], indices: { triplets: [] } }), "UNSUPPORTED");
});
