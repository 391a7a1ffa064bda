import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MlpEncoder, SimilarityModel } from "@likeness/models";
import { checkpointFromFiles, checkpointToFiles, DirCheckpointStore, fit } from "@likeness/trainer";
import { useTfBackend } from "@likeness/tf";
import { toyData, ToyLoss } from "./_test_util.ts";

const state = {
  version: 1 as const,
  epoch: 3,
  step: 9,
  seed: 1,
  optimizer: "adam",
  optimizerMeta: { t: 9 },
  history: [],
  callbacks: [],
};

test("checkpoint files round-trip and a corrupt tensor file is CORRUPT", async () => {
  const files = await checkpointToFiles({
    state,
    tensors: [{ name: "model/w", shape: [2], values: new Float32Array([1, 2]) }],
  });
  const back = await checkpointFromFiles(files);
  assert.equal(back.state.step, 9);
  assert.deepEqual(Array.from(back.tensors[0].values), [1, 2]);
  const bad = { ...files, "tensors.bin": files["tensors.bin"].slice() };
  bad["tensors.bin"][0] ^= 1;
  await assert.rejects(() => checkpointFromFiles(bad), (e: Error & { code?: string }) => e.code === "CORRUPT");
  const missing = { ...files };
  delete missing["state.json"];
  await assert.rejects(() => checkpointFromFiles(missing), (e: Error & { code?: string }) => e.code === "CORRUPT");
});

test("DirCheckpointStore replaces atomically; resuming from a damaged checkpoint is a typed error", async () => {
  await useTfBackend("wasm");
  const dir = await mkdtemp(join(tmpdir(), "likeness-ckpt-"));
  try {
    const store = new DirCheckpointStore(dir);
    const model = new SimilarityModel(new MlpEncoder({ inputDim: 4, outputDim: 2, seed: 1 }));
    await fit(model, toyData(), { loss: new ToyLoss(), epochs: 2, batchSize: 8, checkpoint: store });
    assert.deepEqual(await readdir(dir), ["last"]);
    assert.deepEqual((await readdir(join(dir, "last"))).sort(), ["state.json", "tensors.bin", "tensors.json"]);
    assert.equal(JSON.parse(await readFile(join(dir, "last", "state.json"), "utf8")).epoch, 2);
    assert.equal(await store.load("nope"), undefined);
    await writeFile(join(dir, "last", "tensors.bin"), new Uint8Array(3));
    await assert.rejects(
      () => fit(model, toyData(), { loss: new ToyLoss(), epochs: 3, batchSize: 8, checkpoint: store, resume: true }),
      (e: Error & { code?: string }) =>
        e.code === "CORRUPT" && /train from scratch|copy the artifact|re-save/.test(e.message),
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
