/**
 * Which MobileNetV2 cut makes the best frozen feature? Retrieval quality of the frozen backbone at
 * several feature blocks and poolings, on the emoji example's 149 unseen emoji (each vendor's
 * images query the other two vendors') or on Fashion-MNIST's 4 unseen classes.
 *
 *   deno run -A tools/probe_backbone_cuts.ts emoji [SIZES=64,96]
 *   deno run -A tools/probe_backbone_cuts.ts fashion [SIZES=64,80] [N=4000]
 *
 * Prints one line per (size, block, pooling): precision@1, R-precision, MAP@R.
 *
 * @module
 */
import process from "node:process";
import { createRng } from "@likeness/core";
import { greyToRgb, loadEmojiImages, loadFashionMnist, resizeImage } from "@likeness/data";
import { type FeaturePooling, loadMobileNetV2 } from "@likeness/models";
import { createBackend } from "@likeness/backend";
import { computeAccuracy } from "@likeness/eval";
import type { tf } from "@likeness/tf";
import { crossVendorRetrieval } from "../examples/emoji.ts";

const [task = "emoji", sizeArg, nArg] = process.argv.slice(2);
const sizes = (sizeArg ?? (task === "emoji" ? "64,96" : "64,80")).split(",").map(Number);
const METRICS = ["precision_at_1", "r_precision", "mean_average_precision_at_r"] as const;
const CUTS: [string, FeaturePooling][] = [
  ["top", "avg"],
  ["block_16", "flatten"],
  ["block_13", "avg"],
  ["block_13", "flatten"],
  ["block_10", "avg"],
  ["block_10", "flatten"],
  ["block_6", "flatten"],
];
const { backend } = await createBackend({ tf: false });
const show = (m: Record<string, number>) => METRICS.map((k) => m[k].toFixed(4)).join("  ");

let images: { data: Uint8Array; width: number; height: number }[];
let score: (data: Float32Array, dim: number) => Promise<Record<string, number>>;
if (task === "emoji") {
  // The example's split: seed 1, 300 emoji, shuffled, the second half (after the hot-add emoji) unseen.
  const all = await loadEmojiImages({ limit: 300, seed: 1 });
  const ids = createRng(1).shuffle([...new Set(all.map((e) => e.unified))]);
  const unseen = new Set(ids.slice(1, 1 + Math.floor((ids.length - 1) / 2)));
  const items = all.filter((e) => unseen.has(e.unified));
  images = items.map((e) => e.image);
  score = (data, dim) =>
    crossVendorRetrieval(
      { data, rows: items.length, cols: dim },
      items.map((e) => e.unified),
      items.map((e) => e.vendor),
      backend,
    );
} else if (task === "fashion") {
  const test = await loadFashionMnist({ split: "test" });
  const n = Number(nArg ?? 4000);
  const idx: number[] = [];
  for (let i = 0; i < test.count && idx.length < n; i++) if ([2, 5, 6, 9].includes(test.labels[i])) idx.push(i);
  const px = test.rows * test.cols;
  images = idx.map((i) => greyToRgb(test.images.subarray(i * px, (i + 1) * px), test.cols, test.rows));
  const labels = idx.map((i) => test.labels[i]);
  score = async (data, dim) =>
    (await computeAccuracy({ embeddings: { data, rows: idx.length, cols: dim }, labels }, undefined, {
      include: METRICS,
      backend,
    })).metrics as Record<string, number>;
} else {
  throw new Error(`unknown task ${task}: use emoji or fashion`);
}

console.log(`${task}: ${images.length} images; size block pooling dim: ${METRICS.join("  ")}`);
for (const size of sizes) {
  const inputs = images.map((img) => resizeImage(img, size));
  for (const [featureBlock, pooling] of CUTS) {
    const enc = await loadMobileNetV2({ inputSize: size, featureBlock, pooling });
    const data = new Float32Array(inputs.length * enc.dim);
    for (let b = 0; b < inputs.length; b += 64) {
      const out = (await enc.encode(inputs.slice(b, b + 64))) as tf.Tensor2D;
      data.set(out.dataSync() as Float32Array, b * enc.dim);
      out.dispose();
    }
    console.log(`${size} ${featureBlock} ${pooling} ${enc.dim}: ${show(await score(data, enc.dim))}`);
    enc.dispose();
  }
}
