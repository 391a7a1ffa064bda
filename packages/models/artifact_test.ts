import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  ConvNetEncoder,
  type Head,
  LinearHead,
  loadUseLite,
  MlpEncoder,
  registerHead,
  SequentialHead,
  SimilarityModel,
  SkipConnectionHead,
  SwitchEncoder,
} from "@likeness/models";
import { useTfBackend } from "@likeness/tf";
import { assertClose } from "@likeness/core/testing";

const code = (c: string) => (e: Error & { code?: string }) => e.code === c;
const images = Array.from({ length: 3 }, (_, k) => Array.from({ length: 64 }, (_, i) => Math.sin(i * (k + 1))));

test("save then load gives identical embeddings, calibration and metadata", async () => {
  await useTfBackend("wasm");
  const dir = await mkdtemp(join(tmpdir(), "likeness-art-"));
  try {
    const model = new SimilarityModel(
      new ConvNetEncoder({ inputShape: [8, 8, 1], conv: [{ filters: 3, pool: 2 }], outputDim: 6, seed: 4 }),
      new SequentialHead([
        new SkipConnectionHead({ inputDim: 6, seed: 1 }),
        new LinearHead({ inputDim: 6, outputDim: 4, seed: 2 }),
      ]),
      { normalize: true },
    );
    const before = await model.encode(images);
    const out = join(dir, "model");
    await model.save(out, { calibration: { threshold: 0.42, metric: "cosine" }, metadata: { dataset: "toy" } });
    assert.deepEqual((await readdir(out)).sort(), ["calibration.json", "likeness.json", "weights.bin", "weights.json"]);
    const cfg = JSON.parse(await readFile(join(out, "likeness.json"), "utf8"));
    assert.equal(cfg.formatVersion, 1);
    assert.equal(cfg.model.encoder.type, "convnet");
    const { model: again, calibration, metadata } = await SimilarityModel.loadArtifact(out);
    const after = await again.encode(images);
    assert.deepEqual(Array.from(after.data), Array.from(before.data));
    assert.deepEqual(calibration, { threshold: 0.42, metric: "cosine" });
    assert.deepEqual(metadata, { dataset: "toy" });
    // no temporary directories left beside it
    assert.deepEqual(await readdir(dir), ["model"]);
    // existing dir: conflict unless overwrite
    await assert.rejects(() => model.save(out), code("CONFLICT"));
    await model.save(out, { overwrite: true });
    assert.deepEqual(await readdir(dir), ["model"]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("a corrupt or truncated weights file is a CORRUPT error naming the fix", async () => {
  const dir = await mkdtemp(join(tmpdir(), "likeness-art-"));
  try {
    const model = new SimilarityModel(new MlpEncoder({ inputDim: 4, outputDim: 3, seed: 1 }));
    await model.save(dir, { overwrite: true });
    const bin = await readFile(join(dir, "weights.bin"));
    bin[5] ^= 0xff;
    await writeFile(join(dir, "weights.bin"), bin);
    await assert.rejects(
      () => SimilarityModel.load(dir),
      (e: Error & { code?: string }) => e.code === "CORRUPT" && /re-save/.test(e.message),
    );
    await writeFile(join(dir, "weights.bin"), bin.subarray(0, 8));
    await assert.rejects(() => SimilarityModel.load(dir), code("CORRUPT"));
    await writeFile(join(dir, "weights.json"), "{not json");
    await assert.rejects(() => SimilarityModel.load(dir), code("CORRUPT"));
    await assert.rejects(() => SimilarityModel.load(join(dir, "nope")), code("NOT_FOUND"));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("unknown head type and newer format version are typed errors; a custom type loads once registered", async () => {
  const dir = await mkdtemp(join(tmpdir(), "likeness-art-"));
  try {
    class ScaleHead extends LinearHead {
      override readonly type = "test_scale" as "linear";
    }
    const model = new SimilarityModel(
      new SwitchEncoder({
        a: new MlpEncoder({ inputDim: 2, outputDim: 3, seed: 1 }),
        b: new MlpEncoder({ inputDim: 3, outputDim: 3, seed: 2 }),
      }),
      new ScaleHead({ inputDim: 3, outputDim: 2, seed: 3 }),
    );
    await model.save(dir, { overwrite: true });
    await assert.rejects(
      () => SimilarityModel.load(dir),
      (e: Error & { code?: string }) => e.code === "UNKNOWN_NAME" && /registerHead\("test_scale"/.test(e.message),
    );
    registerHead("test_scale", (c) => new ScaleHead(c as never) as Head);
    const again = await SimilarityModel.load(dir);
    const items = [{ route: "a", input: [1, 2] }, { route: "b", input: [1, 2, 3] }];
    assert.deepEqual(Array.from((await again.encode(items)).data), Array.from((await model.encode(items)).data));
    const cfg = JSON.parse(await readFile(join(dir, "likeness.json"), "utf8"));
    cfg.formatVersion = 99;
    await writeFile(join(dir, "likeness.json"), JSON.stringify(cfg));
    await assert.rejects(() => SimilarityModel.load(dir), code("UNSUPPORTED"));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("a failing save leaves no partial artifact", async () => {
  const dir = await mkdtemp(join(tmpdir(), "likeness-art-"));
  try {
    const model = new SimilarityModel(new MlpEncoder({ inputDim: 2, outputDim: 2 }));
    // a BigInt cannot be written as JSON: the save fails after the weights were packed
    await assert.rejects(() => model.save(join(dir, "m"), { calibration: { threshold: 1n } }), TypeError);
    assert.deepEqual(await readdir(dir), []);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("a USE-lite + head artifact stores only the head's weights and restores from the package", async () => {
  await useTfBackend("wasm");
  const dir = await mkdtemp(join(tmpdir(), "likeness-art-"));
  try {
    const model = new SimilarityModel(await loadUseLite(), new LinearHead({ inputDim: 512, outputDim: 8, seed: 3 }));
    const texts = ["a small dog", "a large cat"];
    const before = await model.encode(texts);
    await model.save(dir, { overwrite: true });
    const manifest = JSON.parse(await readFile(join(dir, "weights.json"), "utf8"));
    assert.deepEqual(manifest.tensors.map((t: { name: string }) => t.name), ["head/kernel", "head/bias"]);
    const again = await SimilarityModel.load(dir);
    assert.equal(again.encoder.type, "use-lite");
    // Within float tolerance, not bit for bit: @likeness/tfwasm's matMul chooser (registered by
    // other tests in the same Bun process) may time a different way on the second call.
    assertClose(Array.from((await again.encode(texts)).data), Array.from(before.data), { atol: 1e-5, rtol: 1e-4 });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
