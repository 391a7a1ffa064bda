/**
 * The likeness HTML report: one self-contained file (inline CSS, inline SVG charts, inline PNG
 * thumbnails; no scripts, fonts or network requests) showing the run summary, the metrics of the
 * trained model beside the untrained baseline, loss and metric curves, a 2-D map of test
 * embeddings coloured by class, example queries with their nearest neighbours, and the
 * calibration curve. Also the pieces it is built from: {@link project2d} (seeded PCA and t-SNE),
 * SVG charts, a tiny PNG encoder and HTML escaping.
 *
 * @example
 * ```ts
 * import { renderReport } from "@likeness/report";
 * const html = renderReport({
 *   summary: { dataset: "digits", model: "MLP 64-32", loss: "TripletMarginLoss", epochs: 2, backend: "wasm" },
 *   metrics: { trained: { "precision@1": 0.95 }, baseline: { "precision@1": 0.82 } },
 *   curves: [{ title: "Loss", series: [{ name: "train", x: [1, 2], y: [0.6, 0.3] }] }],
 *   embeddingMap: { embeddings: [[0, 1], [1, 0], [0.9, 0.1]], labels: [0, 1, 1], classNames: ["zero", "one"] },
 *   calibration: {
 *     points: [{ threshold: 0.2, precision: 1, recall: 0.5 }, { threshold: 0.6, precision: 0.8, recall: 1 }],
 *     chosen: { threshold: 0.2, precision: 1, recall: 0.5 },
 *   },
 * });
 * // await Deno.writeTextFile("report.html", html);
 * console.log(html.length > 0);
 * ```
 *
 * @module
 */
export * from "./types.ts";
export * from "./render.ts";
export * from "./project.ts";
export * from "./escape.ts";
export * from "./palette.ts";
export * from "./png.ts";
export * from "./calibration.ts";
export * from "./history.ts";
export { lineChart, type LineChartOptions, type ScatterOptions, scatterPlot, type VerticalMarker } from "./chart.ts";
