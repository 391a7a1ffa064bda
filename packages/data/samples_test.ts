import { test } from "node:test";
import assert from "node:assert/strict";
import {
  checkGroupSamples,
  checkPairSamples,
  groupSample,
  labeledFeatures,
  pairSample,
  selectRows,
  toGroupSamples,
} from "@likeness/data";

test("pair and group samples: defaults and validation", () => {
  assert.deepEqual(pairSample("a", "b"), { objA: "a", objB: "b", score: 1, subgroup: 0 });
  assert.deepEqual(pairSample("a", "b", { score: 0.25, subgroup: 10 }), {
    objA: "a",
    objB: "b",
    score: 0.25,
    subgroup: 10,
  });
  assert.throws(() => pairSample("a", "b", { score: NaN }), { code: "NON_FINITE" });
  assert.throws(() => pairSample("a", "b", { subgroup: 1.5 }), { code: "INVALID_ARGUMENT" });
  assert.deepEqual(groupSample("x", "cat"), { obj: "x", group: "cat" });
  assert.throws(() => groupSample("x", undefined as unknown as number), { code: "LABEL_MISMATCH" });
  assert.throws(() => checkPairSamples([]), { code: "EMPTY_INPUT" });
  assert.throws(
    () =>
      checkPairSamples([{ objA: "a", objB: "b", score: 1, subgroup: 0 }, {
        objA: "a",
        objB: undefined,
        score: 1,
        subgroup: 0,
      }]),
    (e: Error & { code?: string }) => e.code === "EMPTY_INPUT" && /sample 1/.test(e.message),
  );
  assert.throws(() => checkGroupSamples([{ obj: 1, group: 0 }, { obj: 2, group: NaN }]), /group sample 1/);
});

test("labeledFeatures rejects ragged rows, non-finite values and missing labels", () => {
  const d = labeledFeatures([[1, 2], [3, 4], [5, 6]], [0, 1, 0], { classNames: ["a", "b"] });
  assert.deepEqual(Array.from(d.features.data), [1, 2, 3, 4, 5, 6]);
  assert.throws(() => labeledFeatures([[1, 2], [3]], [0, 1]), { code: "SHAPE_MISMATCH" });
  assert.throws(() => labeledFeatures([[1, 2], [3, Infinity]], [0, 1]), { code: "NON_FINITE" });
  assert.throws(() => labeledFeatures([[1, 2], [3, 4]], [0]), { code: "LABEL_MISMATCH" });
  assert.throws(
    () => labeledFeatures([[1, 2], [3, 4]], [0, null as unknown as number]),
    (e: Error & { code?: string }) => e.code === "LABEL_MISMATCH" && /row 1 has no label/.test(e.message),
  );
  assert.throws(() => labeledFeatures([], []), { code: "EMPTY_INPUT" });
  const s = selectRows(d, [2, 1]);
  assert.deepEqual(Array.from(s.features.data), [5, 6, 3, 4]);
  assert.deepEqual(s.labels, [0, 1]);
  assert.throws(() => selectRows(d, [3]), { code: "OUT_OF_RANGE" });
  const g = toGroupSamples(d);
  assert.equal(g.length, 3);
  assert.deepEqual(Array.from(g[1].obj), [3, 4]);
  assert.equal(g[1].group, 1);
});
