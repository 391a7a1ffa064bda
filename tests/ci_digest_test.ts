import { test } from "node:test";
import assert from "node:assert/strict";
import { crashAfterAllPassed } from "../tools/_ci_digest.ts";

const passed = "x ... ok (3ms)\nok | 798 passed | 0 failed | 55 ignored (1m9s)\n\n";

test("crashAfterAllPassed: a native abort after an all-passed summary is named; anything else is not", () => {
  assert.equal(
    crashAfterAllPassed(passed + "malloc_consolidate(): invalid chunk size\n", 134),
    "malloc_consolidate(): invalid chunk size",
  );
  // a clean exit, a failed test, a crash before the summary, or an exit code with no crash line
  assert.equal(crashAfterAllPassed(passed + "malloc_consolidate(): invalid chunk size\n", 0), undefined);
  assert.equal(
    crashAfterAllPassed("FAILED | 797 passed | 1 failed | 55 ignored\nSegmentation fault\n", 139),
    undefined,
  );
  assert.equal(crashAfterAllPassed("Segmentation fault\n", 139), undefined);
  assert.equal(crashAfterAllPassed(passed + "error: something else\n", 1), undefined);
});
