import { test } from "node:test";
import assert from "node:assert/strict";
import { calibrationCurve, curvesFromHistory } from "@likeness/report";

test("calibrationCurve sweeps thresholds over distances with ties grouped", () => {
  const c = calibrationCurve([0.3, 0.1, 0.2, 0.2, 0.9], [0, 1, 1, 0, 1]);
  assert.deepEqual(c, [
    { threshold: 0.1, precision: 1, recall: 1 / 3 },
    { threshold: 0.2, precision: 2 / 3, recall: 2 / 3 },
    { threshold: 0.3, precision: 2 / 4, recall: 2 / 3 },
    { threshold: 0.9, precision: 3 / 5, recall: 1 },
  ]);
});

test("calibrationCurve handles similarities, brute force check and downsampling", () => {
  const scores = [0.9, 0.8, 0.4, 0.1, 0.7, 0.2];
  const same = [true, true, false, false, true, true];
  const c = calibrationCurve(scores, same, { smallerIsCloser: false });
  for (const p of c) {
    let tp = 0, pp = 0;
    for (let i = 0; i < scores.length; i++) {
      if (scores[i] >= p.threshold) {
        pp++;
        if (same[i]) tp++;
      }
    }
    assert.equal(p.precision, tp / pp);
    assert.equal(p.recall, tp / 4);
  }
  assert.deepEqual(c.map((p) => p.threshold), [0.9, 0.8, 0.7, 0.4, 0.2, 0.1]);
  const many = calibrationCurve(
    Array.from({ length: 1000 }, (_, i) => i),
    Array.from({ length: 1000 }, (_, i) => i % 2),
  );
  const d = calibrationCurve(Array.from({ length: 1000 }, (_, i) => i), Array.from({ length: 1000 }, (_, i) => i % 2), {
    maxPoints: 11,
  });
  assert.equal(many.length, 200);
  assert.equal(d.length, 11);
  assert.equal(d[0].threshold, 0);
  assert.equal(d[10].threshold, 999);
  assert.equal(d[10].recall, 1);
});

test("calibrationCurve rejects bad input with typed errors", () => {
  assert.throws(() => calibrationCurve([], []), { code: "EMPTY_INPUT" });
  assert.throws(() => calibrationCurve([1, 2], [1]), { code: "LABEL_MISMATCH" });
  assert.throws(() => calibrationCurve([1, NaN], [1, 0]), { code: "NON_FINITE" });
  assert.throws(() => calibrationCurve([1], [1], { maxPoints: 0 }), { code: "INVALID_ARGUMENT" });
});

test("curvesFromHistory groups losses and charts each metric with its baseline", () => {
  const curves = curvesFromHistory([
    { epoch: 1, loss: 0.9, val_loss: 1.0, steps: 10, "precision@1": 0.6 },
    { epoch: 2, loss: 0.5, val_loss: 0.7, steps: 20, "precision@1": 0.8 },
  ], { baseline: { "precision@1": 0.5 } });
  assert.deepEqual(curves.map((c) => c.title), ["Loss", "precision@1"]);
  assert.deepEqual(curves[0].series.map((s) => [s.name, Array.from(s.y)]), [["train", [0.9, 0.5]], ["validation", [
    1.0,
    0.7,
  ]]]);
  assert.deepEqual(curves[1].series.map((s) => [s.name, Array.from(s.x), Array.from(s.y), s.dashed ?? false]), [
    ["precision@1", [1, 2], [0.6, 0.8], false],
    ["precision@1 (untrained)", [1, 2], [0.5, 0.5], true],
  ]);
  // Missing values become gaps; x falls back to the position.
  const gap = curvesFromHistory([{ loss: 1 }, { acc: 0.5 }]);
  assert.deepEqual(Array.from(gap[0].series[0].x), [1, 2]);
  assert.ok(Number.isNaN(gap[0].series[0].y[1]));
  // deno-lint-ignore no-explicit-any
  assert.throws(() => curvesFromHistory("nope" as any), { code: "INVALID_ARGUMENT" });
});
