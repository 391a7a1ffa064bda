/**
 * Test fixture: realistic synthetic report data (clustered embeddings, digit-like 28×28
 * thumbnails, text neighbours, curves, calibration). Private to this package's tests.
 *
 * @module
 */
import { createRng } from "@likeness/core";
import type { ExampleItem, QueryExample, ReportData } from "./types.ts";

/** A 28×28 image of class `c`: a ring, a bar or a cross at a class-dependent angle, plus noise. */
export function digitLike(c: number, seed: number): number[] {
  const rng = createRng(seed);
  const px = new Array(28 * 28).fill(0);
  const angle = (c * Math.PI) / 10 + rng.normal() * 0.08;
  const cos = Math.cos(angle);
  const sin = Math.sin(angle);
  for (let y = 0; y < 28; y++) {
    for (let x = 0; x < 28; x++) {
      const u = (x - 13.5) * cos + (y - 13.5) * sin;
      const v = -(x - 13.5) * sin + (y - 13.5) * cos;
      const r = Math.hypot(u, v);
      let on = false;
      if (c % 3 === 0) on = Math.abs(r - (6 + (c % 4))) < 1.6;
      else if (c % 3 === 1) on = Math.abs(v) < 1.8 && Math.abs(u) < 10;
      else on = (Math.abs(v) < 1.5 || Math.abs(u) < 1.5) && r < 10;
      px[y * 28 + x] = on ? Math.min(1, 0.75 + rng.next() * 0.25) : Math.max(0, rng.normal() * 0.04);
    }
  }
  return px;
}

const WORDS = ["cat", "dog", "river", "bank", "money", "stone", "light", "ship", "bread", "storm"];

/**
 * Build a full {@link ReportData} with `n` embedding points in `classes` classes.
 *
 * @param n number of points in the map
 * @param classes number of classes
 * @returns report data touching every section
 */
export function sampleReportData(n = 300, classes = 10): ReportData {
  const rng = createRng(11);
  const dim = 32;
  const centres = Array.from({ length: classes }, () => Array.from({ length: dim }, () => rng.normal() * 3));
  const embeddings: number[][] = [];
  const labels: number[] = [];
  for (let i = 0; i < n; i++) {
    const c = i % classes;
    labels.push(c);
    embeddings.push(centres[c].map((v) => v + rng.normal()));
  }
  const classNames = Array.from({ length: classes }, (_, c) => `class ${c} <${WORDS[c % WORDS.length]}>`);
  const epochs = [1, 2, 3, 4, 5, 6, 7, 8];
  const loss = epochs.map((e) => 0.2 + 0.8 * Math.exp(-e / 2.5));
  const img = (c: number, seed: number): ExampleItem => ({
    label: classNames[c],
    image: { pixels: digitLike(c, seed), height: 28, width: 28 },
  });
  const examples: QueryExample[] = [];
  for (let q = 0; q < 3; q++) {
    const c = (q * 3) % classes;
    examples.push({
      query: img(c, 100 + q),
      neighbours: Array.from({ length: 5 }, (_, k) => ({
        item: img(k === 3 ? (c + 1) % classes : c, 200 + q * 10 + k),
        distance: 0.1 + k * 0.07,
      })),
    });
  }
  examples.push({
    query: { label: "animal", text: "A small domesticated carnivorous mammal <kept> as a pet & mouser." },
    neighbours: [
      { item: { label: "animal", text: "A domesticated canine kept as a companion." }, distance: 0.21 },
      { item: { label: "place", text: 'The sloping land beside a body of water "bank".' }, distance: 0.38 },
      { item: { label: "animal", text: "A large wild cat with a tawny coat." }, distance: 0.41 },
    ],
  });
  const calPoints = Array.from({ length: 41 }, (_, i) => {
    const t = i / 40;
    return { threshold: t, precision: 1 - 0.45 * t * t, recall: 1 - Math.exp(-6 * t) };
  });
  return {
    title: "Quickstart: synthetic digits <test>",
    summary: {
      dataset: "synthetic digits (10 classes)",
      model: "MLP 784-128-32, L2-normalised",
      loss: "TripletMarginLoss (margin 0.2)",
      epochs: 8,
      wallTimeSeconds: 93.4,
      backend: "wasm-simd (2 threads)",
      extra: { "batch size": 128, seed: 7 },
    },
    metrics: {
      trained: { "precision@1": 0.9412, "R-precision": 0.8123, "mAP@R": 0.7351, NMI: 0.8012, loss: 0.21 },
      baseline: { "precision@1": 0.7021, "R-precision": 0.4012, "mAP@R": 0.3001, NMI: 0.4512, loss: 0.98 },
      lowerIsBetter: ["loss"],
    },
    curves: [
      {
        title: "Loss",
        yLabel: "loss",
        series: [
          { name: "train", x: epochs, y: loss },
          { name: "validation", x: epochs, y: loss.map((v) => v + 0.05), dashed: true },
        ],
      },
      {
        title: "precision@1",
        yLabel: "precision@1",
        series: [
          { name: "trained", x: epochs, y: epochs.map((e) => 0.7 + 0.24 * (1 - Math.exp(-e / 2))) },
          { name: "untrained baseline", x: epochs, y: epochs.map(() => 0.7021), dashed: true },
        ],
      },
    ],
    embeddingMap: { embeddings, labels, classNames, seed: 3 },
    examples,
    calibration: {
      points: calPoints,
      chosen: calPoints[12],
      distanceName: "cosine distance",
      note: "loosest threshold with precision ≥ 0.95",
    },
    footer: "Serve it: deno task serve --model runs/quickstart/model",
  };
}
