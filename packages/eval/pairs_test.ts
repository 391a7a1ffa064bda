import { test } from "node:test";
import assert from "node:assert/strict";
import { calibrateThreshold, pairMetrics } from "@likeness/eval";
import { assertClose } from "@likeness/core/testing";

test("pairMetrics at a fixed threshold counts tp, fp, tn, fn", () => {
  const d = [0.1, 0.4, 0.35, 0.8, 0.2, 0.9];
  const same = [1, 1, 0, 0, 0, 1];
  const m = pairMetrics(d, same, { threshold: 0.4 });
  // predicted similar: 0.1 (tp), 0.4 (tp), 0.35 (fp), 0.2 (fp); fn: 0.9; tn: 0.8
  assert.equal(m.accuracy, 3 / 6);
  assert.equal(m.precision, 2 / 4);
  assert.equal(m.recall, 2 / 3);
  assertClose(m.f1, (2 * 0.5 * (2 / 3)) / (0.5 + 2 / 3));
  // ranking: 0.1+ 0.2- 0.35- 0.4+ 0.8- 0.9+ -> AP = (1/1 + 2/4 + 3/6) / 3
  assertClose(m.averagePrecision, (1 + 0.5 + 0.5) / 3);
});

test("best threshold maximises accuracy or F1; similarities rank the other way", () => {
  const m = pairMetrics([0.1, 0.2, 0.3, 0.7, 0.8], [true, true, false, true, false]);
  assert.equal(m.accuracy, 0.8);
  assertClose(m.threshold, 0.15 + 0.1, { atol: 1e-12 }); // between 0.2 and 0.3
  const f = pairMetrics([0.1, 0.2, 0.3, 0.7, 0.8], [true, true, false, true, false], { optimize: "f1" });
  assertClose(f.f1, 2 * 0.75 * 1 / 1.75);
  assertClose(f.threshold, 0.75);
  const s = pairMetrics([0.9, 0.8, 0.1], [1, 1, 0], { smallerIsCloser: false });
  assert.equal(s.accuracy, 1);
  assertClose(s.threshold, 0.45);
  assert.equal(s.averagePrecision, 1);
});

test("calibrateThreshold picks the loosest threshold reaching the target precision", () => {
  const d = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6];
  const same = [1, 1, 0, 1, 1, 0];
  const c = calibrateThreshold(d, same, { targetPrecision: 0.8 });
  // cuts: 1/1, 2/2, 2/3, 3/4 = 0.75, 4/5 = 0.8, 4/6 -> loosest with >= 0.8 is after 0.5
  assertClose(c.threshold, 0.55);
  assert.equal(c.recall, 1);
  assertClose(c.precision, 0.8);
  const strict = calibrateThreshold(d, same, { targetPrecision: 1 });
  assertClose(strict.threshold, 0.25);
  assert.throws(
    () => calibrateThreshold([0.1, 0.2], [0, 1], { targetPrecision: 1 }),
    (e: Error & { code?: string }) => e.code === "OUT_OF_RANGE" && /lower targetPrecision/.test(e.message),
  );
  assert.throws(() => calibrateThreshold([0.1], [1], { targetPrecision: 1.5 }), { code: "OUT_OF_RANGE" });
});

test("pair metrics reject bad input", () => {
  assert.throws(() => pairMetrics([], []), { code: "EMPTY_INPUT" });
  assert.throws(() => pairMetrics([0.1, 0.2], [1]), { code: "LABEL_MISMATCH" });
  assert.throws(() => pairMetrics([0.1, NaN], [1, 0]), { code: "NON_FINITE" });
  assert.throws(() => pairMetrics([0.1], [1], { optimize: "auc" as "f1" }), { code: "UNKNOWN_NAME" });
});
