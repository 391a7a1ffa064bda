import { test } from "node:test";
import assert from "node:assert/strict";
import { loadUseLite, SimilarityModel } from "@likeness/models";
import { useTfBackend } from "@likeness/tf";

function cos(a: Float32Array, b: Float32Array): number {
  let d = 0, na = 0, nb = 0;
  for (let i = 0; i < a.length; i++) {
    d += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  return d / Math.sqrt(na * nb);
}

test("USE-lite with our tokenizer reproduces the documented similarities", async () => {
  await useTfBackend("wasm");
  const use = await loadUseLite();
  assert.equal(use.dim, 512);
  assert.equal(use.trainable, false);
  assert.deepEqual(use.tokenizer.pieces("How old are you?"), ["▁How", "▁old", "▁are", "▁you", "?"]);
  const model = new SimilarityModel(use);
  const m = await model.encode(["How old are you?", "What is your age?", "The weather is lovely today."], {
    batchSize: 2,
  });
  assert.equal(m.cols, 512);
  const row = (i: number) => m.data.subarray(i * 512, (i + 1) * 512);
  assert.ok(Math.abs(cos(row(0), row(1)) - 0.85) <= 0.03, `sim(age) = ${cos(row(0), row(1))}`);
  assert.ok(Math.abs(cos(row(0), row(2)) - 0.09) <= 0.03, `sim(weather) = ${cos(row(0), row(2))}`);
  // outputs are L2-normalised
  assert.ok(Math.abs(Math.hypot(...row(0)) - 1) < 1e-4);
  assert.match(use.identity(), /^use-lite:[0-9a-f]{32}$/);
  await assert.rejects(
    () => use.encode([1 as unknown as string]),
    (e: Error & { code?: string }) => e.code === "INVALID_ARGUMENT",
  );
  await assert.rejects(() => use.encode([]), (e: Error & { code?: string }) => e.code === "EMPTY_INPUT");
  assert.throws(() => model.forward(["x"]), (e: Error & { code?: string }) => e.code === "UNSUPPORTED");
});
