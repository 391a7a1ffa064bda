import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { createBackend } from "@likeness/backend";
import { MlpEncoder, SimilarityModel } from "@likeness/models";
import { useTfBackend } from "@likeness/tf";
import { createApp, loadServedModel, MemoryStore, similarityThreshold } from "@likeness/server";
import { tempDir } from "./_test_util.ts";

test("server serves a saved artifact: encodes raw inputs, uses its calibration", async () => {
  await useTfBackend("wasm");
  const dir = join(tempDir(), "model");
  const model = new SimilarityModel(new MlpEncoder({ inputDim: 4, hidden: [8], outputDim: 3, seed: 3 }));
  await model.save(dir, { calibration: { metric: "cosine_distance", threshold: 0.2 }, metadata: { name: "tiny-mlp" } });
  const expected = await model.encode([[1, 2, 3, 4]]);
  const served = await loadServedModel(dir);
  assert.equal(served.name, "tiny-mlp");
  assert.equal(served.dim, 3);
  assert.ok(Math.abs(served.threshold! - 0.8) < 1e-12);
  const { backend } = await createBackend({ prefer: "wasm-simd", tf: false });
  const { app } = await createApp({ model: served, store: new MemoryStore(), backend });
  const res = await app.request("/v1/embed", { method: "POST", body: JSON.stringify({ inputs: [[1, 2, 3, 4]] }) });
  assert.equal(res.status, 200);
  const body = await res.json();
  assert.equal(body.model, "tiny-mlp");
  assert.deepEqual(body.embeddings[0], Array.from(expected.data));
  backend.dispose();
});

test("calibration conventions", () => {
  assert.equal(similarityThreshold({ threshold: 0.7 }), 0.7);
  assert.equal(similarityThreshold(undefined), undefined);
  assert.throws(() => similarityThreshold({ metric: "l2", threshold: 1 }), /cosine_similarity/);
  assert.throws(() => similarityThreshold({ threshold: "x" }), /finite number/);
});
