import { test } from "node:test";
import assert from "node:assert/strict";
import { buildEncoder, GatedHead, LinearHead, MlpEncoder, registeredTypes, SimilarityModel } from "@likeness/models";
import { tf, useTfBackend } from "@likeness/tf";
import { assertClose } from "@likeness/core/testing";

const rows = Array.from({ length: 7 }, (_, i) => [i, -i / 2, Math.sin(i), 1]);

test("batched encode equals one big batch, reports progress, and matches forward", async () => {
  await useTfBackend("wasm");
  const model = new SimilarityModel(
    new MlpEncoder({ inputDim: 4, hidden: [6], outputDim: 5, seed: 1 }),
    new LinearHead({ inputDim: 5, outputDim: 3, seed: 2 }),
  );
  const seen: number[] = [];
  const a = await model.encode(rows, { batchSize: 3, onProgress: (p) => seen.push(p.done) });
  const b = await model.encode(tf.tensor2d(rows), { batchSize: 100 });
  assert.deepEqual(seen, [3, 6, 7]);
  assert.equal(a.rows, 7);
  assert.equal(a.cols, 3);
  assertClose(a.data, b.data, { rtol: 1e-5, atol: 1e-6 });
  assertClose(await model.forward(rows).data(), a.data, { rtol: 1e-5, atol: 1e-6 });
  assert.equal(model.trainableVariables().length, 4 + 2);
  assert.deepEqual(model.getWeights().map((w) => w.name), [
    "encoder/dense0/kernel",
    "encoder/dense0/bias",
    "encoder/dense1/kernel",
    "encoder/dense1/bias",
    "head/kernel",
    "head/bias",
  ]);
});

test("normalize gives unit rows; mismatched head width is a typed error", async () => {
  const model = new SimilarityModel(
    new MlpEncoder({ inputDim: 4, outputDim: 3, seed: 1 }),
    new GatedHead({ inputDim: 3 }),
    { normalize: true },
  );
  const m = await model.encode(rows.slice(1));
  for (let r = 0; r < m.rows; r++) assert.ok(Math.abs(Math.hypot(...m.data.subarray(r * 3, r * 3 + 3)) - 1) < 1e-5);
  assert.throws(
    () => new SimilarityModel(new MlpEncoder({ inputDim: 4, outputDim: 3 }), new GatedHead({ inputDim: 4 })),
    (e: Error & { code?: string }) => e.code === "SHAPE_MISMATCH",
  );
  await assert.rejects(() => model.encode([]), (e: Error & { code?: string }) => e.code === "EMPTY_INPUT");
  await assert.rejects(
    () => model.encode(rows, { batchSize: 0 }),
    (e: Error & { code?: string }) => e.code === "INVALID_ARGUMENT",
  );
});

test("registry knows the built-ins and names the fix for an unknown encoder", async () => {
  const t = registeredTypes();
  for (const e of ["mlp", "convnet", "use-lite", "switch"]) assert.ok(t.encoders.includes(e), e);
  for (
    const h of [
      "empty",
      "linear",
      "gated",
      "skip_connection",
      "widening",
      "sequential",
      "stacked_projection",
      "softmax_embeddings",
    ]
  ) {
    assert.ok(t.heads.includes(h), h);
  }
  await assert.rejects(
    () => buildEncoder({ type: "bert" }),
    (e: Error & { code?: string }) => e.code === "UNKNOWN_NAME" && /registerEncoder\("bert"/.test(e.message),
  );
  const enc = await buildEncoder({
    type: "switch",
    encoders: { a: { type: "mlp", inputDim: 2, outputDim: 3 }, b: { type: "mlp", inputDim: 3, outputDim: 3 } },
  });
  assert.equal(enc.dim, 3);
});
