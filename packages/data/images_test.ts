import { test } from "node:test";
import assert from "node:assert/strict";
import { createRng } from "@likeness/core";
import { encode } from "fast-png";
import {
  augmentImage,
  decodePngImage,
  EMOJI_VENDORS,
  greyToRgb,
  imagesToBatch,
  loadEmojiImages,
  resizeImage,
} from "@likeness/data";

test("decodePngImage: RGBA composited on white, grey and 16-bit PNGs, typed errors", () => {
  const rgba = encode({ width: 2, height: 1, data: new Uint8Array([255, 0, 0, 255, 0, 0, 255, 0]), channels: 4 });
  assert.deepEqual([...decodePngImage(rgba).data], [255, 0, 0, 255, 255, 255]);
  assert.deepEqual([...decodePngImage(rgba, { background: [0, 0, 0] }).data], [255, 0, 0, 0, 0, 0]);
  const grey = encode({ width: 1, height: 1, data: new Uint16Array([65535]), channels: 1, depth: 16 });
  assert.deepEqual([...decodePngImage(grey).data], [255, 255, 255]);
  assert.throws(
    () => decodePngImage(new TextEncoder().encode("GIF89a not a png")),
    (e: Error & { code?: string }) => e.code === "CORRUPT" && /not a PNG/.test(e.message),
  );
  const truncated = rgba.slice(0, 20);
  assert.throws(() => decodePngImage(truncated), (e: Error & { code?: string }) => e.code === "CORRUPT");
  assert.throws(
    () => decodePngImage(rgba, { expectSize: 64 }),
    (e: Error & { code?: string }) => e.code === "SHAPE_MISMATCH",
  );
});

test("resizeImage, greyToRgb and imagesToBatch keep values and shapes", () => {
  const img = greyToRgb(new Uint8Array([0, 255, 255, 0]), 2);
  const same = resizeImage(img, 2);
  assert.deepEqual([...same].map((v) => Math.round(v * 255)), [0, 0, 0, 255, 255, 255, 255, 255, 255, 0, 0, 0]);
  const flipped = resizeImage(img, 2, { flip: true, scaling: "symmetric" });
  assert.deepEqual([...flipped.subarray(0, 3)], [1, 1, 1]);
  const up = resizeImage(img, 4);
  assert.equal(up.length, 48);
  assert.ok(up.every((v) => v >= 0 && v <= 1));
  assert.equal(imagesToBatch([img, img], 3).length, 54);
  assert.throws(() => greyToRgb(new Uint8Array(3), 2), (e: Error & { code?: string }) => e.code === "SHAPE_MISMATCH");
  assert.throws(
    () => resizeImage({ width: 2, height: 2, data: new Uint8Array(5) }, 4),
    (e: Error & { code?: string }) => e.code === "SHAPE_MISMATCH",
  );
  assert.throws(() => imagesToBatch([], 4), (e: Error & { code?: string }) => e.code === "EMPTY_INPUT");
});

test("augmentImage is seeded: same seed same view, another seed another view, values in range", () => {
  const data = new Uint8Array(16 * 16 * 3);
  for (let i = 0; i < data.length; i++) data[i] = (i * 37) % 256;
  const img = { width: 16, height: 16, data };
  const a = augmentImage(img, createRng(3), { size: 8 });
  const b = augmentImage(img, createRng(3), { size: 8 });
  const c = augmentImage(img, createRng(4), { size: 8 });
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
  assert.ok(a.every((v) => v >= 0 && v <= 1));
  // values recorded once: Deno and Bun must produce the same pixels
  assert.equal(Math.round(a.reduce((s, v) => s + v, 0) * 1000), 70070);
  assert.ok(Math.abs(a[77] - 0.46128857135772705) < 1e-6);
  assert.throws(
    () => augmentImage(img, createRng(1), { size: 8, scale: [0, 2] }),
    (e: Error & { code?: string }) => e.code === "INVALID_ARGUMENT",
  );
});

test("loadEmojiImages reads the three vendors' 64-px PNGs", async () => {
  const items = await loadEmojiImages({ limit: 3, seed: 2 });
  assert.equal(items.length, 3 * EMOJI_VENDORS.length);
  assert.deepEqual(items.slice(0, 3).map((i) => i.vendor), ["google", "twitter", "facebook"]);
  assert.equal(new Set(items.map((i) => i.unified)).size, 3);
  for (const it of items) {
    assert.equal(it.image.width, 64);
    assert.equal(it.image.data.length, 64 * 64 * 3);
  }
  const again = await loadEmojiImages({ limit: 3, seed: 2, vendors: ["twitter"] });
  assert.deepEqual(again.map((i) => i.vendor), ["twitter", "twitter", "twitter"]);
  await assert.rejects(
    () => loadEmojiImages({ vendors: ["apple"] }),
    (e: Error & { code?: string }) => e.code === "UNKNOWN_NAME",
  );
});
