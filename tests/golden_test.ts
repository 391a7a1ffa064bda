import { test } from "node:test";
import assert from "node:assert/strict";
import { EDGE_CASES_FILE, formatReport, parseGolden, runGolden, runGoldenFile } from "./golden/run.ts";
import type { GoldenAdapter } from "./golden/types.ts";

test("golden: every peer reference case passes or is skipped with a reason", async () => {
  const report = await runGoldenFile();
  const lines = formatReport(report);
  assert.equal(report.failed, 0, lines.filter((l) => !l.startsWith("SKIP")).join("\n"));
  assert.ok(report.passed > 0);
  for (const r of report.results) if (r.status === "skipped") assert.ok(r.messages[0].length > 0, r.id);
});

test("golden: batch-hard edge cases (no positive, one label) match the peers or likeness's documented value", async () => {
  const report = await runGoldenFile(EDGE_CASES_FILE);
  const lines = formatReport(report);
  assert.equal(report.failed, 0, lines.join("\n"));
  assert.equal(report.skipped, 0, lines.join("\n"));
  assert.equal(report.passed, 8);
});

const SYNTHETIC = JSON.stringify({
  cases: [
    { id: "a", lib: "x", name: "Sum", params: {}, inputs: { v: [1, 2] }, expected: { loss: 3, grad: null } },
    { id: "b", lib: "x", name: "Sum", params: {}, inputs: { v: [1, 2] }, expected: { loss: 4 } },
    { id: "c", lib: "x", name: "Sum", params: {}, inputs: {}, expected: { loss: 1 }, peer_bug: "broken" },
    { id: "d", lib: "x", name: "Other", params: {}, inputs: {}, expected: { loss: 1 } },
    {
      id: "e",
      lib: "x",
      name: "Nan",
      params: {},
      inputs: {},
      expected: { loss: "NaN", bad: 9 },
      ignore_fields: { bad: "peer" },
    },
    { id: "f", lib: "x", name: "Miner", params: {}, inputs: {}, expected: { triplets: [[0, 1, 2], [1, 0, 2]] } },
    { id: "g", lib: "x", name: "Miner", params: {}, inputs: {}, expected: { triplets: [[0, 1, 2]] } },
  ],
});

const fake: GoldenAdapter[] = [
  {
    name: "sum",
    matches: (c) => c.name === "Sum",
    run: (c) => Promise.resolve({ loss: (c.inputs.v as number[]).reduce((a, b) => a + b, 0) }),
  },
  { name: "nan", matches: (c) => c.name === "Nan", run: () => Promise.resolve({ loss: NaN }) },
  {
    name: "miner",
    matches: (c) => c.name === "Miner",
    run: () => Promise.resolve({ triplets: [[1, 0, 2], [0, 1, 2]] }),
  },
];

test("golden runner: skips, NaN strings, ignore_fields, set comparison and failures", async () => {
  const report = await runGolden(parseGolden(SYNTHETIC), fake);
  const status = Object.fromEntries(report.results.map((r) => [r.id, r.status]));
  assert.deepEqual(status, {
    a: "passed",
    b: "failed",
    c: "skipped",
    d: "skipped",
    e: "passed",
    f: "passed",
    g: "failed",
  });
  assert.match(report.results[1].messages[0], /loss: worst index 0: actual 3 expected 4/);
  assert.equal(report.results[3].messages[0], "no adapter yet");
  assert.match(report.results[6].messages[0], /1 extra/);
  assert.equal(formatReport(report).at(-1), "golden: 3 passed, 2 failed, 2 skipped");
});
