import { test } from "node:test";
import assert from "node:assert/strict";
import { equalLabels, type Label, sameLabelMatrix, sharesAnyLabel, ValueError } from "@likeness/core";
import { _backendFrom, _sameMatrix } from "./_base.ts";

test("_sameMatrix's dense-id fast path equals sameLabelMatrix for numbers, strings and label lists", () => {
  const cases: Label[][] = [
    [3, 1, 3, 0, 1, 1],
    ["a", "b", "a", "1", 1, "c"],
    [[1, 2], [2, 1], [1, 2], [1], ["1"], [1]],
    [0],
  ];
  for (const labels of cases) {
    assert.deepEqual(_sameMatrix(labels, equalLabels), sameLabelMatrix(labels, equalLabels), JSON.stringify(labels));
  }
  // a custom matcher goes through sameLabelMatrix unchanged
  const multi: Label[] = [[1, 2], [2, 3], [4]];
  assert.deepEqual(_sameMatrix(multi, sharesAnyLabel), Uint8Array.from([1, 1, 0, 1, 1, 0, 0, 0, 1]));
});

test("the miners' backend reports an unknown LIKENESS_BACKEND instead of swallowing it", async () => {
  await assert.rejects(
    _backendFrom({ env: { LIKENESS_BACKEND: "no-such-backend" } }),
    (e: unknown) => e instanceof ValueError && e.code === "UNKNOWN_NAME" && /no-such-backend/.test(e.message),
  );
  const ok = await _backendFrom({ prefer: "js" });
  assert.equal(typeof ok.batchHard, "function");
});
