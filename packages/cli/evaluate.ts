/**
 * Embedding and evaluating a model on a loaded data set: retrieval metrics on the test split
 * (test items query each other), or pair retrieval (first items query the second ones), and the
 * open-set calibration of a match threshold.
 *
 * @module
 */
import type { Matrix } from "@likeness/core";
import type { Backend, Metric } from "@likeness/backend";
import { type AccuracyMetricName, calibrateThreshold, computeAccuracy } from "@likeness/eval";
import type { SimilarityModel } from "@likeness/models";
import { tf } from "@likeness/tf";
import type { TrainConfig } from "./config.ts";
import type { LoadedData } from "./data.ts";

/** Something that turns a model and items into embeddings (caching frozen-encoder features). */
export type Embedder = (model: SimilarityModel, inputs: Matrix | string[]) => Promise<Matrix>;

/** Options of {@link makeEmbedder}. */
export interface EmbedderOptions {
  /** Cache of frozen-encoder features (an `EmbeddingCache` of `@likeness/cache`). */
  cache?: { embed(encoder: SimilarityModel["encoder"], inputs: readonly unknown[]): Promise<Matrix> };
}

/**
 * An embedder: trainable encoders run end to end; frozen ones (USE-lite) have their features
 * cached, then only the head runs.
 *
 * @param options optional feature cache
 * @returns the embedder
 */
export function makeEmbedder(options: EmbedderOptions = {}): Embedder {
  return async (model, inputs) => {
    if (!Array.isArray(inputs)) {
      const m = inputs as Matrix;
      const x = tf.tensor2d(m.data, [m.rows, m.cols]);
      try {
        return await model.encode(x, { batchSize: 512 });
      } finally {
        x.dispose();
      }
    }
    if (model.encoder.trainable || !options.cache) return await model.encode(inputs, { batchSize: 128 });
    const f = await options.cache.embed(model.encoder, inputs);
    const out = new Float32Array(f.rows * model.dim);
    for (let s = 0; s < f.rows; s += 1024) {
      const e = Math.min(f.rows, s + 1024);
      const x = tf.tensor2d(f.data.subarray(s * f.cols, e * f.cols), [e - s, f.cols]);
      const y = model.forwardHead(x);
      out.set(await y.data() as Float32Array, s * model.dim);
      x.dispose();
      y.dispose();
    }
    return { data: out, rows: f.rows, cols: model.dim };
  };
}

/** Default metrics for labelled data. */
export const GROUP_METRICS: readonly AccuracyMetricName[] = [
  "precision_at_1",
  "r_precision",
  "mean_average_precision_at_r",
];
/** Default metrics for pair data. */
export const PAIR_METRICS: readonly AccuracyMetricName[] = ["precision_at_1", "mean_reciprocal_rank"];

/** Evaluation settings (the config's `eval` section). */
export type EvalSettings = NonNullable<TrainConfig["eval"]>;

/** Result of {@link evaluateModel}. */
export interface Evaluation {
  /** Metric values, rounded to 4 decimals. */
  metrics: Record<string, number>;
  /** Test embeddings (labelled data) or first-item embeddings (pairs). */
  embeddings: Matrix;
}

function round4(m: Record<string, number | undefined>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(m)) {
    if (typeof v === "number" && Number.isFinite(v)) out[k] = Math.round(v * 1e4) / 1e4;
  }
  return out;
}

/**
 * Evaluate a model on the test split.
 *
 * @param model the model
 * @param data loaded data
 * @param settings metrics, k, metric
 * @param options embedder, search backend, row limit
 * @returns metrics and the test embeddings
 */
export async function evaluateModel(
  model: SimilarityModel,
  data: LoadedData,
  settings: EvalSettings,
  options: { embed: Embedder; backend?: Backend; limit?: number },
): Promise<Evaluation> {
  const metric = (settings.metric ?? "cosine") as Metric;
  if (data.kind === "pairs") {
    const p = data.testPairs!;
    const n = Math.min(p.a.length, options.limit ?? Infinity);
    const ids = Array.from({ length: n }, (_, i) => i);
    const qa = await options.embed(model, p.a.slice(0, n));
    const rb = await options.embed(model, p.b.slice(0, n));
    const r = await computeAccuracy({ embeddings: qa, labels: ids }, { embeddings: rb, labels: ids }, {
      k: settings.k ?? Math.min(10, n),
      metric,
      include: (settings.metrics ?? PAIR_METRICS) as AccuracyMetricName[],
      backend: options.backend,
    });
    return { metrics: round4(r.metrics), embeddings: qa };
  }
  const t = data.test!;
  const n = Math.min(t.labels.length, options.limit ?? Infinity);
  const inputs = limitInputs(t.inputs, n);
  const emb = await options.embed(model, inputs);
  const r = await computeAccuracy({ embeddings: emb, labels: t.labels.slice(0, n) }, undefined, {
    k: settings.k ?? "max_bin_count",
    metric,
    include: (settings.metrics ?? GROUP_METRICS) as AccuracyMetricName[],
    backend: options.backend,
  });
  return { metrics: round4(r.metrics), embeddings: emb };
}

/**
 * The first `n` inputs.
 * @param inputs feature rows or texts
 * @param n how many
 * @returns the first n
 */
export function limitInputs(inputs: Matrix | string[], n: number): Matrix | string[] {
  if (Array.isArray(inputs)) return inputs.slice(0, n);
  const m = inputs as Matrix;
  return n >= m.rows ? m : { data: m.data.subarray(0, n * m.cols), rows: n, cols: m.cols };
}

/** A calibrated match threshold with its precision-recall curve. */
export interface CalibrationResult {
  /** Cosine distance threshold: a query matches its nearest reference when at most this far. */
  distanceThreshold: number;
  /** Precision at the threshold. */
  precision: number;
  /** Recall at the threshold. */
  recall: number;
  /** Target precision. */
  targetPrecision: number;
  /** Curve points (distance threshold, precision, recall). */
  points: { threshold: number; precision: number; recall: number }[];
}

function cosineDistance(a: Matrix, i: number, b: Matrix, j: number): number {
  let dot = 0, na = 0, nb = 0;
  for (let c = 0; c < a.cols; c++) {
    const x = a.data[i * a.cols + c], y = b.data[j * b.cols + c];
    dot += x * y;
    na += x * x;
    nb += y * y;
  }
  return 1 - dot / Math.max(1e-12, Math.sqrt(na * nb));
}

/**
 * Calibrate an open-set match threshold: each test item's nearest training reference is a
 * "match" decision, correct when the labels agree; pick the cosine-distance threshold that
 * reaches the target precision.
 *
 * @param testEmb test embeddings
 * @param testLabels test labels
 * @param refEmb reference (training) embeddings
 * @param refLabels reference labels
 * @param options target precision (default 0.99), backend
 * @returns the threshold and curve, or undefined when the target cannot be reached
 */
export async function calibrate(
  testEmb: Matrix,
  testLabels: readonly number[],
  refEmb: Matrix,
  refLabels: readonly number[],
  options: { targetPrecision?: number; backend?: Backend } = {},
): Promise<CalibrationResult | undefined> {
  const nn = await computeAccuracy({ embeddings: testEmb, labels: testLabels }, {
    embeddings: refEmb,
    labels: refLabels,
  }, { k: 1, include: ["precision_at_1"], backend: options.backend });
  const dists: number[] = [];
  const same: boolean[] = [];
  for (let q = 0; q < testEmb.rows; q++) {
    const r = nn.knnIndices[q];
    dists.push(cosineDistance(testEmb, q, refEmb, r));
    same.push(refLabels[r] === testLabels[q]);
  }
  const target = options.targetPrecision ?? 0.99;
  const order = dists.map((d, i) => [d, same[i]] as const).sort((a, b) => a[0] - b[0]);
  const correct = same.filter(Boolean).length;
  const points: CalibrationResult["points"] = [];
  let tp = 0;
  const every = Math.max(1, Math.floor(order.length / 100));
  for (let i = 0; i < order.length; i++) {
    if (order[i][1]) tp++;
    if (i % every === 0 || i === order.length - 1) {
      points.push({
        threshold: Math.round(order[i][0] * 1e5) / 1e5,
        precision: Math.round((tp / (i + 1)) * 1e4) / 1e4,
        recall: Math.round((tp / Math.max(1, correct)) * 1e4) / 1e4,
      });
    }
  }
  try {
    const c = calibrateThreshold(dists, same, { targetPrecision: target });
    return {
      distanceThreshold: c.threshold,
      precision: c.precision,
      recall: c.recall,
      targetPrecision: target,
      points,
    };
  } catch {
    return undefined;
  }
}
