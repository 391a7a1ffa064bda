import { test } from "node:test";
import assert from "node:assert/strict";
import { assertClose } from "@likeness/core/testing";
import { PmlSubCenterArcFaceLoss } from "./sub_center_arc_face.ts";
import { PmlArcFaceLoss } from "./arc_face.ts";
import { allFinite, assertCode, batch, cos64, lse, setup, value, valueAndGrad } from "./_test_util.ts";

await setup();
const E = batch(23, 8, 4);
const Y = [0, 1, 0, 1, 0, 1, 1, 0];
const W = batch(24, 4, 6); // D × (2 classes · 3 centres), class-major

test("SubCenterArcFaceLoss matches a float64 loop (best centre per class)", () => {
  const cols = W[0].map((_v, c) => W.map((r) => r[c]));
  const s = cos64(E, cols);
  const m = (28.6 * Math.PI) / 180;
  const want = s.reduce((acc, row, i) => {
    const cls = [0, 1].map((c) => Math.max(...row.slice(c * 3, c * 3 + 3)));
    const arc = (c: number) => (Math.acos(c) <= Math.PI - m ? Math.cos(Math.acos(c) + m) : c - m * Math.sin(m));
    const logits = cls.map((c, k) => 64 * (k === Y[i] ? arc(c) : c));
    return acc + lse(logits) - logits[Y[i]];
  }, 0) / E.length;
  const loss = new PmlSubCenterArcFaceLoss({ numClasses: 2, embeddingSize: 4, W });
  assertClose(value(loss, E, { labels: Y }), want, { rtol: 1e-5 });
  assert.deepEqual(loss.trainableVariables()[0].shape, [4, 6]);
  assert.ok(allFinite(valueAndGrad(loss, E, { labels: Y }).grad));
});

test("SubCenterArcFaceLoss with one centre equals ArcFaceLoss", () => {
  const w = W.map((r) => r.slice(0, 2));
  const a = new PmlSubCenterArcFaceLoss({ numClasses: 2, embeddingSize: 4, subCenters: 1, W: w });
  const b = new PmlArcFaceLoss({ numClasses: 2, embeddingSize: 4, W: w });
  assertClose(value(a, E, { labels: Y }), value(b, E, { labels: Y }), { rtol: 1e-6 });
});

test("SubCenterArcFaceLoss rejects bad input with stable codes", () => {
  assertCode(() => new PmlSubCenterArcFaceLoss({ numClasses: 2, embeddingSize: 4, subCenters: 0 }), "INVALID_ARGUMENT");
  assertCode(
    () => new PmlSubCenterArcFaceLoss({ numClasses: 2, embeddingSize: 4, W: W.map((r) => r.slice(0, 2)) }),
    "SHAPE_MISMATCH",
  );
  const loss = new PmlSubCenterArcFaceLoss({ numClasses: 2, embeddingSize: 4 });
  assertCode(() => value(loss, E, { labels: Y.map(() => 2) }), "OUT_OF_RANGE");
});
