import { test } from "node:test";
import assert from "node:assert/strict";
import { classPalette, lineChart, renderReport, scatterPlot } from "@likeness/report";
import { sampleReportData } from "./_test_util.ts";

const count = (html: string, re: RegExp): number => (html.match(re) ?? []).length;

test("renderReport builds every section in order, self-contained", () => {
  const html = renderReport(sampleReportData(120, 10));
  assert.ok(html.startsWith('<!DOCTYPE html>\n<html lang="en">'));
  assert.ok(html.trimEnd().endsWith("</html>"));
  const ids = [...html.matchAll(/<section id="([a-z]+)">/g)].map((m) => m[1]);
  assert.deepEqual(ids, ["summary", "metrics", "curves", "map", "examples", "calibration"]);
  assert.equal(count(html, /<nav>.*?<\/nav>/g), 1);
  assert.equal(count(html, /<a href="#/g), 6);
  assert.equal(count(html, /<svg /g), 4);
  assert.equal(count(html, /<circle cx/g), 120);
  assert.equal(count(html, /<img /g), 18);
  assert.equal(count(html, /class="item text/g), 4);
  assert.equal(count(html, /<script/g), 0);
  // No external references: every src is a data: URL, no url(), no http(s) links.
  assert.equal(count(html, /src="(?!data:)/g), 0);
  assert.equal(count(html, /https?:\/\/(?!www\.w3\.org\/2000\/svg)/g), 0);
  assert.equal(count(html, /url\(/g), 0);
  assert.match(html, /Content-Security-Policy" content="default-src 'none'/);
  // Metrics: baseline and trained side by side with a coloured change; loss is lower-is-better.
  assert.match(
    html,
    /<tr><td>precision@1<\/td><td>0\.7021<\/td><td class="trained">0\.9412<\/td><td class="up">\+0\.2391<\/td><\/tr>/,
  );
  assert.match(
    html,
    /<tr><td>loss<\/td><td>0\.9800<\/td><td class="trained">0\.2100<\/td><td class="up">−0\.7700<\/td>/,
  );
  // Summary values.
  assert.match(html, /<dt>Wall time<\/dt><dd>1 min 33 s<\/dd>/);
  assert.match(html, /<dt>Backend<\/dt><dd>wasm-simd \(2 threads\)<\/dd>/);
  assert.match(html, /<dt>seed<\/dt><dd>7<\/dd>/);
  // Calibration marker and the chosen point.
  assert.match(html, /class="marker-label"[^>]*>threshold 0\.300<\/text>/);
  assert.match(html, /<td>Precision<\/td><td>0\.9595<\/td>/);
  // Neighbours: one wrong-class image per image query, one wrong text.
  assert.equal(count(html, /class="item (image|text) miss"/g), 4);
  assert.equal(count(html, /class="item (image|text) match"/g), 14);
});

test("renderReport is deterministic for the same input", () => {
  assert.equal(renderReport(sampleReportData(80, 5)), renderReport(sampleReportData(80, 5)));
});

test("renderReport skips absent sections and needs only the summary", () => {
  const html = renderReport({ summary: { dataset: "d", model: "m", loss: "l" } });
  assert.deepEqual([...html.matchAll(/<section id="([a-z]+)">/g)].map((m) => m[1]), ["summary"]);
  assert.equal(count(html, /<svg /g), 0);
  assert.match(html, /<title>likeness report<\/title>/);
  // Trained-only metrics: no baseline or change columns.
  const t = renderReport({ summary: { dataset: "d", model: "m", loss: "l" }, metrics: { trained: { acc: 0.5 } } });
  assert.match(t, /<thead><tr><th>Metric<\/th><th>Trained<\/th><\/tr><\/thead>/);
  assert.match(t, /<tr><td>acc<\/td><td class="trained">0\.5000<\/td><\/tr>/);
});

test("embedding map: string labels, given 2-D points and subsampling", () => {
  const html = renderReport({
    summary: { dataset: "d", model: "m", loss: "l" },
    embeddingMap: { embeddings: [[0, 0], [1, 2], [3, 1], [2, 2]], labels: ["b", "a", "b", "c"], projected: true },
  });
  // Legend sorted by class name with counts.
  const legend = [...html.matchAll(/<li><span class="sw"[^>]*><\/span><span>([^<]*)<\/span><span class="n">(\d+)</g)]
    .map((m) => `${m[1]}:${m[2]}`);
  assert.deepEqual(legend, ["a:1", "b:2", "c:1"]);
  assert.equal(count(html, /<circle cx/g), 4);
  const many = renderReport({
    summary: { dataset: "d", model: "m", loss: "l" },
    embeddingMap: {
      embeddings: Array.from({ length: 50 }, (_, i) => [i, i % 7, i % 3]),
      labels: Array.from({ length: 50 }, (_, i) => i % 5),
      maxPoints: 20,
    },
  });
  assert.equal(count(many, /<circle cx/g), 20);
  assert.match(many, /20 of 50 points, 3-D, projected by PCA/);
});

test("renderReport rejects bad input with typed errors naming the field", () => {
  const summary = { dataset: "d", model: "m", loss: "l" };
  // deno-lint-ignore no-explicit-any
  assert.throws(() => renderReport({} as any), { code: "INVALID_ARGUMENT", message: /summary/ });
  // deno-lint-ignore no-explicit-any
  assert.throws(() => renderReport({ summary: { dataset: "d", model: "m" } } as any), {
    code: "INVALID_ARGUMENT",
    message: /summary\.loss/,
  });
  assert.throws(
    () => renderReport({ summary, embeddingMap: { embeddings: [[1, 2], [3, 4]], labels: [0] } }),
    { code: "LABEL_MISMATCH" },
  );
  assert.throws(
    () => renderReport({ summary, embeddingMap: { embeddings: [[1, 2, 3]], labels: [0], projected: true } }),
    { code: "SHAPE_MISMATCH", message: /2 columns/ },
  );
  assert.throws(
    () => renderReport({ summary, curves: [{ title: "t", series: [{ name: "s", x: [1, 2], y: [1] }] }] }),
    { code: "SHAPE_MISMATCH", message: /curves\[0\]\.series\[0\]/ },
  );
  assert.throws(
    () => renderReport({ summary, calibration: { points: [{ threshold: NaN, precision: 1, recall: 1 }] } }),
    { code: "NON_FINITE" },
  );
  assert.throws(
    () =>
      renderReport({
        summary,
        examples: [{ query: { image: { pixels: [1, 2, 3], height: 2, width: 2 } }, neighbours: [] }],
      }),
    { code: "SHAPE_MISMATCH", message: /2×2×1 needs 4/ },
  );
});

test("classPalette gives distinct colours for 10 and for 45 classes", () => {
  for (const n of [3, 10, 20, 45]) {
    const p = classPalette(n);
    assert.equal(p.length, n);
    assert.equal(new Set(p).size, n, `${n} classes`);
  }
  assert.equal(classPalette(10)[0], "#4e79a7");
  assert.match(classPalette(45)[44], /^hsl\(\d+(\.\d)? \d+% \d+%\)$/);
});

test("lineChart draws axes with nice ticks, legends, gaps and log scale", () => {
  const svg = lineChart([
    { name: "train", x: [1, 2, 3, 4], y: [0.9, 0.5, NaN, 0.3] },
    { name: "val", x: [1, 2, 3, 4], y: [1, 0.6, 0.45, 0.4], dashed: true },
  ], { xLabel: "epoch", yLabel: "loss" });
  const ticks = [...svg.matchAll(/class="tick"[^>]*>([^<]*)</g)].map((m) => m[1]);
  assert.deepEqual(ticks, ["0.3", "0.4", "0.5", "0.6", "0.7", "0.8", "0.9", "1.0", "1", "2", "3", "4"]);
  assert.equal(count(svg, /class="line"/g), 2);
  assert.equal(count(svg, /d="M[^"]*M/g), 1, "the NaN makes a gap (a second move-to)");
  assert.match(svg, /stroke-dasharray="6 4"/);
  assert.match(svg, />train<\/text>/);
  assert.match(svg, />epoch<\/text>/);
  const log = lineChart([{ name: "l", x: [1, 2, 3], y: [100, 10, 1] }], { logY: true });
  const lt = [...log.matchAll(/class="tick"[^>]*>([^<]*)</g)].map((m) => m[1]);
  assert.deepEqual(lt.slice(0, 7), ["1", "2", "5", "10", "20", "50", "100"]);
});

test("scatterPlot draws one circle per point grouped by class with tooltips", () => {
  const svg = scatterPlot([[0, 0], [1, 1], [2, 0]], [1, 0, 1], ["a", "b"], ["#111111", "#222222"]);
  assert.equal(count(svg, /<circle /g), 3);
  assert.match(svg, /<g class="class" fill="#111111" data-class="a"><circle [^>]*><title>a<\/title><\/circle><\/g>/);
  assert.equal(count(svg, /<title>b<\/title>/g), 2);
});
