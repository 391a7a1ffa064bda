import { test } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { decodePngImage } from "@likeness/data";
import {
  buildEncoder,
  depthwiseFromSlices,
  loadMobileNetV2,
  MOBILENET_V2_BLOCKS,
  mobileNetV2Dir,
  SimilarityModel,
} from "@likeness/models";
import { tf, useTfBackend } from "@likeness/tf";
// Conv2DBackpropFilter on wasm (the gradients below): registered by importing @likeness/tfwasm.
import "@likeness/tfwasm";
// nsfwjs's own classification path, run offline from its bundled model files (no hub, no network).
import { load as loadNsfw } from "nsfwjs";

const EMOJI = ["1f600.png", "1f436.png", "1f34e.png", "2764-fe0f.png"];

async function emojiPixels(): Promise<tf.Tensor3D[]> {
  const dir = dirname(createRequire(import.meta.url).resolve("emoji-datasource-google/package.json"));
  return await Promise.all(EMOJI.map(async (f) => {
    const img = decodePngImage(new Uint8Array(await readFile(join(dir, "img", "google", "64", f))));
    return tf.tensor3d(img.data, [img.height, img.width, 3], "int32");
  }));
}

test("MobileNetV2 from nsfwjs's files reproduces nsfwjs's own predictions", async () => {
  await useTfBackend("wasm");
  const enc = await loadMobileNetV2({ inputSize: 224 });
  assert.equal(enc.dim, 1280);
  assert.equal(enc.trainable, false);
  assert.equal(enc.layersModel.countParams(), 2619461);
  const nsfw = await loadNsfw("MobileNetV2");
  const images = await emojiPixels();
  let worst = 0;
  for (const img of images) {
    const theirs = Array.from(await (nsfw.infer(img) as tf.Tensor).data());
    // the same preprocessing as nsfwjs's infer: bytes / 255, bilinear resize with aligned corners
    const x = tf.tidy(() =>
      tf.image.resizeBilinear(tf.div(tf.cast(img, "float32"), 255) as tf.Tensor3D, [224, 224], true).expandDims(0)
    );
    const ours = Array.from(await enc.classify(x).data());
    x.dispose();
    for (let k = 0; k < 5; k++) worst = Math.max(worst, Math.abs(ours[k] - theirs[k]));
    assert.ok(Math.abs(ours.reduce((a, b) => a + b, 0) - 1) < 1e-4);
  }
  assert.ok(worst < 1e-4, `largest difference from nsfwjs's own output: ${worst}`);
  nsfw.dispose();
  images.forEach((t) => t.dispose());
  enc.dispose();
});

test("MobileNetV2: smaller inputs, trainable blocks, split, save/restore and typed errors", async () => {
  await useTfBackend("wasm");
  assert.match(mobileNetV2Dir(), /nsfwjs/);
  const frozen = await loadMobileNetV2({ inputSize: 64 });
  const tuned = await loadMobileNetV2({ inputSize: 64, trainableBlocks: 2 });
  assert.equal(MOBILENET_V2_BLOCKS.length, 19);
  assert.equal(frozen.variables().length, 0);
  // block_16 (expand, depthwise, project convs) and top (Conv_1); batch norm frozen
  assert.deepEqual(tuned.variables().length, 4);
  const affine = await loadMobileNetV2({ inputSize: 64, trainableBlocks: 2, batchNorm: "affine" });
  assert.equal(affine.variables().length, 4 + 2 * 4);
  affine.dispose();
  const x = tf.randomUniform([3, 64, 64, 3], 0, 1, "float32", 5) as tf.Tensor4D;
  const a = await frozen.encode(x);
  const b = await tuned.encode(x);
  assert.deepEqual(a.shape, [3, 1280]);
  const { prefix, suffix, boundaryShape } = tuned.split();
  assert.deepEqual(boundaryShape, [2, 2, 160]);
  const mid = await prefix.encode(x);
  const c = await suffix.encode(mid);
  const [da, db, dc] = [await a.data(), await b.data(), await c.data()];
  for (let i = 0; i < da.length; i++) {
    assert.ok(Math.abs(da[i] - db[i]) < 1e-4 && Math.abs(db[i] - dc[i]) < 1e-3, `feature ${i}`);
  }
  // training-mode forward (shifted-slice depthwise) equals inference, and gradients reach the blocks
  const t = tf.tidy(() => tuned.forward(x, { training: true }));
  const dt = await t.data();
  for (let i = 0; i < dt.length; i++) assert.ok(Math.abs(dt[i] - db[i]) < 1e-3);
  const before = tuned.identity();
  const { grads } = tf.variableGrads(
    () => tf.sum(tf.square(suffix.forward!(mid, { training: true }))) as tf.Scalar,
    tuned.variables(),
  );
  assert.equal(Object.keys(grads).length, 4);
  for (const g of Object.values(grads)) assert.ok((await tf.sum(tf.abs(g)).data())[0] > 0);
  tf.dispose(grads);
  const w = tuned.getWeights();
  assert.ok(w.some((v) => v.name === "block_16_depthwise/depthwise_kernel"));
  w[0].values[0] += 1;
  tuned.setWeights(w);
  assert.notEqual(tuned.identity(), before);
  assert.match(frozen.identity(), /^mobilenet-v2:[0-9a-f]{32}:64$/);
  // a saved fine-tuned model restores from the registry and the package
  const model = new SimilarityModel(tuned, undefined, { normalize: true });
  const dir = await Deno_or_tmp();
  await model.save(dir, { overwrite: true });
  const back = await SimilarityModel.load(dir);
  const e1 = await model.encode(x);
  const e2 = await back.encode(x);
  for (let i = 0; i < e1.data.length; i++) assert.ok(Math.abs(e1.data[i] - e2.data[i]) < 1e-5);
  assert.equal((await buildEncoder({ type: "mobilenet-v2", inputSize: 96 })).dim, 1280);
  // PNG files in (bytes or a data URL, as a JSON client sends them): decoded and resized to 64 px
  const pngFile = new Uint8Array(
    await readFile(join(
      dirname(createRequire(import.meta.url).resolve("emoji-datasource-google/package.json")),
      "img/google/64/1f600.png",
    )),
  );
  const { Buffer } = await import("node:buffer");
  const viaBytes = await frozen.encode([pngFile]);
  const viaUrl = await frozen.encode([`data:image/png;base64,${Buffer.from(pngFile).toString("base64")}`]);
  const img = decodePngImage(pngFile);
  const viaPixels = await frozen.encode([Float32Array.from(img.data, (v) => v / 255)]);
  const [p1, p2, p3] = [await viaBytes.data(), await viaUrl.data(), await viaPixels.data()];
  for (let i = 0; i < p1.length; i++) assert.ok(Math.abs(p1[i] - p2[i]) < 1e-6 && Math.abs(p1[i] - p3[i]) < 1e-4);
  tf.dispose([viaBytes, viaUrl, viaPixels]);
  await assert.rejects(
    () => frozen.encode([new TextEncoder().encode("not a png at all")]),
    (e: Error & { code?: string }) => e.code === "CORRUPT",
  );
  await assert.rejects(() => frozen.encode(["hello"]), (e: Error & { code?: string }) => e.code === "INVALID_ARGUMENT");
  // typed errors
  await assert.rejects(
    () => frozen.encode(tf.zeros([1, 32, 32, 3])),
    (e: Error & { code?: string }) => e.code === "SHAPE_MISMATCH",
  );
  await assert.rejects(() => frozen.encode([]), (e: Error & { code?: string }) => e.code === "EMPTY_INPUT");
  await assert.rejects(
    () => frozen.encode([new Float32Array(5)]),
    (e: Error & { code?: string }) => e.code === "SHAPE_MISMATCH",
  );
  await assert.rejects(
    () => loadMobileNetV2({ inputSize: 7 }),
    (e: Error & { code?: string }) => e.code === "INVALID_ARGUMENT",
  );
  await assert.rejects(
    () => loadMobileNetV2({ trainableBlocks: 40 }),
    (e: Error & { code?: string }) => e.code === "INVALID_ARGUMENT",
  );
  assert.throws(() => frozen.split(), (e: Error & { code?: string }) => e.code === "UNSUPPORTED");
  assert.throws(
    () => tuned.setWeights([{ name: "nope", shape: [1], values: new Float32Array(1) }]),
    (e: Error & { code?: string }) => e.code === "NOT_FOUND",
  );
  tf.dispose([x, a, b, mid, c, t]);
  frozen.dispose();
  back.dispose();
  tuned.dispose();
});

test("MobileNetV2 featureBlock/pooling: an earlier block's grid as the feature, its width, split, config and errors", async () => {
  await useTfBackend("wasm");
  const x = tf.randomUniform([2, 64, 64, 3], 0, 1, "float32", 9) as tf.Tensor4D;
  // block_13's output at 64 px is 2×2×160 (stride 32): flattened 640 values, averaged 160.
  const grid = await loadMobileNetV2({ inputSize: 64, featureBlock: "block_13", pooling: "flatten" });
  const avg = await loadMobileNetV2({ inputSize: 64, featureBlock: "block_13" });
  assert.equal(grid.dim, 640);
  assert.equal(avg.dim, 160);
  const g = await grid.encode(x);
  const a = await avg.encode(x);
  assert.deepEqual(g.shape, [2, 640]);
  assert.deepEqual(a.shape, [2, 160]);
  // The average of the four grid cells is the avg feature.
  const [gd, ad] = [await g.data(), await a.data()];
  for (let r = 0; r < 2; r++) {
    for (let c = 0; c < 160; c++) {
      let m = 0;
      for (let cell = 0; cell < 4; cell++) m += gd[r * 640 + cell * 160 + c] / 4;
      assert.ok(Math.abs(m - ad[r * 160 + c]) < 1e-4, `row ${r} channel ${c}: ${m} vs ${ad[r * 160 + c]}`);
    }
  }
  // Other sizes: the width follows the grid (valid stride-2 convolutions: 80 px → 2×2, 97 px → 3×3).
  for (const [size, side] of [[80, 2], [97, 3]] as const) {
    const e = await loadMobileNetV2({ inputSize: size, featureBlock: "block_13", pooling: "flatten" });
    const out = await e.encode(tf.zeros([1, size, size, 3]));
    assert.equal(e.dim, side * side * 160);
    assert.deepEqual(out.shape, [1, e.dim]);
    tf.dispose(out);
    e.dispose();
  }
  // trainableBlocks counts back from the feature block: 2 = block_12 and block_13; split at block_12.
  const tuned = await loadMobileNetV2({
    inputSize: 64,
    featureBlock: "block_13",
    pooling: "flatten",
    trainableBlocks: 2,
  });
  const { prefix, suffix, boundaryShape } = tuned.split();
  assert.deepEqual(boundaryShape, [4, 4, 96]);
  const c = await suffix.encode(await prefix.encode(x));
  const cd = await c.data();
  for (let i = 0; i < gd.length; i++) assert.ok(Math.abs(cd[i] - gd[i]) < 1e-3, `feature ${i}`);
  assert.equal(suffix.dim, 640);
  // The config records the feature and rebuilds the same encoder; identity tells them apart.
  assert.equal(grid.config().featureBlock, "block_13");
  assert.equal(grid.config().pooling, "flatten");
  const rebuilt = await buildEncoder(grid.config());
  assert.equal(rebuilt.dim, 640);
  assert.equal(rebuilt.identity(), grid.identity());
  assert.notEqual(grid.identity(), avg.identity());
  // The package's own predictions still come from the full network.
  assert.deepEqual(grid.classify(x).shape, [2, 5]);
  await assert.rejects(() => loadMobileNetV2({ featureBlock: "block_99" }), { code: "UNKNOWN_NAME" });
  await assert.rejects(() => loadMobileNetV2({ featureBlock: "stem" }), { code: "UNKNOWN_NAME" });
  await assert.rejects(() => loadMobileNetV2({ pooling: "max" as "avg" }), { code: "UNKNOWN_NAME" });
  await assert.rejects(() => loadMobileNetV2({ featureBlock: "block_3", trainableBlocks: 6 }), {
    code: "INVALID_ARGUMENT",
  });
  tf.dispose([x, g, a, c]);
  for (const e of [grid, avg, tuned, rebuilt]) e.dispose();
});

test("depthwiseFromSlices equals tf.depthwiseConv2d (same and valid padding, strides 1 and 2)", async () => {
  await useTfBackend("wasm");
  for (
    const [h, s, pad] of [[5, 1, "same"], [6, 2, "valid"], [7, 2, "valid"], [4, 1, "valid"], [5, 2, "same"]] as const
  ) {
    const x = tf.randomUniform([2, h, h, 3], -1, 1, "float32", h) as tf.Tensor4D;
    const k = tf.randomUniform([3, 3, 3, 1], -1, 1, "float32", 9) as tf.Tensor4D;
    const want = await tf.depthwiseConv2d(x, k, s, pad).data();
    const got = depthwiseFromSlices(x, k, s, pad);
    const g = await got.data();
    assert.equal(g.length, want.length, `h=${h} s=${s} ${pad}`);
    for (let i = 0; i < g.length; i++) assert.ok(Math.abs(g[i] - want[i]) < 1e-5, `h=${h} s=${s} ${pad} at ${i}`);
    tf.dispose([x, k, got]);
  }
});

async function Deno_or_tmp(): Promise<string> {
  const { mkdtemp } = await import("node:fs/promises");
  const { tmpdir } = await import("node:os");
  return join(await mkdtemp(join(tmpdir(), "likeness-mnv2-")), "model");
}
