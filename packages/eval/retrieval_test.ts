import { test } from "node:test";
import assert from "node:assert/strict";
import { retrievalPerQuery, summarizeRetrieval } from "@likeness/eval";
import { assertClose } from "@likeness/core/testing";

test("per-query metrics follow pml's definitions on a hand-worked example", () => {
  // query 0: relevant at ranks 2 and 4 of 4, R = 3; query 1: rank 1, R = 1; query 2: none, R = 0.
  const rel = new Uint8Array([0, 1, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0]);
  const R = new Int32Array([3, 1, 0]);
  const m = retrievalPerQuery(rel, R);
  assertClose(m.precisionAt1, [0, 1, 0]);
  assertClose(m.precisionAtK, [0.5, 0.25, 0]);
  assertClose(m.recallAtK, [1, 1, 0]);
  assertClose(m.reciprocalRank, [0.5, 1, 0]);
  assertClose(m.rPrecision, [1 / 3, 1, NaN]);
  assertClose(m.mapAtR, [(1 / 2) / 3, 1, NaN]);
  assertClose(m.mapAtK, [(1 / 2 + 2 / 4) / 2, 1, 0]);
  const idcg = 1 + 1 / Math.log2(3) + 1 / Math.log2(4);
  assertClose(m.ndcgAtK, [(1 / Math.log2(3) + 1 / Math.log2(5)) / idcg, 1, NaN]);
  const s = summarizeRetrieval(m, R);
  assert.equal(s.queries, 2);
  assertClose(s.mrr, 0.75);
  assertClose(s.rPrecision, (1 / 3 + 1) / 2);
  const g = summarizeRetrieval(m, R, { groupBy: [0, 0, 1] });
  assertClose(g.precisionAt1, 0.5);
});

test("R larger than k: R-precision and MAP@R use min(R, k) as pml's mask does", () => {
  const m = retrievalPerQuery(new Uint8Array([1, 1]), new Int32Array([5]));
  assertClose(m.rPrecision, [1]);
  assertClose(m.mapAtR, [1]);
});

test("retrieval metrics reject bad shapes", () => {
  assert.throws(() => retrievalPerQuery(new Uint8Array(5), new Int32Array(2)), { code: "SHAPE_MISMATCH" });
  assert.throws(() => retrievalPerQuery(new Uint8Array(0), new Int32Array(0)), { code: "EMPTY_INPUT" });
  assert.throws(() => retrievalPerQuery(new Uint8Array(2), [-1]), { code: "INVALID_ARGUMENT" });
  const m = retrievalPerQuery(new Uint8Array(2), [1]);
  assert.throws(() => summarizeRetrieval(m, [1], { groupBy: [0, 1] }), { code: "LABEL_MISMATCH" });
  assert.equal(summarizeRetrieval(m, [0]).queries, 0);
});
