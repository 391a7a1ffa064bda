/**
 * `likeness report --run DIR`: render `DIR/report.html` from what `train` saved there
 * (`metrics.json` and, when present, `embeddings.json`).
 *
 * @module
 */
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { LikenessError } from "@likeness/core";
import { curvesFromHistory, type QueryExample, renderReport } from "@likeness/report";

/** What `train` writes to `metrics.json`. */
export interface RunMetrics {
  /** Run name. */
  name: string;
  /** The validated config. */
  config: Record<string, unknown>;
  /** Data set description. */
  dataset: string;
  /** Model description. */
  model: string;
  /** Loss description. */
  loss: string;
  /** Metrics by row: `trained`, `untrained`. */
  metrics: { trained: Record<string, number>; untrained?: Record<string, number> };
  /** Per-epoch training log. */
  history: Record<string, number>[];
  /** Epochs and steps run. */
  epochs: number;
  /** Optimiser steps. */
  steps: number;
  /** Calibrated threshold and curve (labelled data). */
  calibration?: {
    distanceThreshold: number;
    precision: number;
    recall: number;
    targetPrecision: number;
    points: { threshold: number; precision: number; recall: number }[];
  };
  /** Wall time by phase, seconds. */
  wallSeconds: Record<string, number>;
  /** Compute backends. */
  backend: Record<string, string>;
  /** Runtime description. */
  runtime: string;
  /** Artifact folder, relative to the run folder. */
  artifact: string;
  /** ISO time. */
  finishedAt: string;
}

/** What `train` writes to `embeddings.json` (for the map and the example queries). */
export interface RunEmbeddings {
  /** Test embeddings (a sample), rounded. */
  embeddings: number[][];
  /** Class id per row. */
  labels: number[];
  /** Class names by id. */
  classNames?: string[];
  /** Example queries with neighbours. */
  examples?: QueryExample[];
}

async function readJson(path: string, what: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch {
    throw new LikenessError("NOT_FOUND", `Cannot read ${what} ${path}: run "likeness train" to create it`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new LikenessError("CORRUPT", `Cannot parse ${path}: ${(e as Error).message}`);
  }
}

/**
 * Render the HTML report of a training run folder and write `report.html` there.
 *
 * @param dir run folder (holding metrics.json)
 * @returns the path written
 * @throws {LikenessError} NOT_FOUND when metrics.json is missing; CORRUPT when it is not JSON
 * @example
 * ```ts
 * import { renderRunReport } from "@likeness/cli";
 * // await renderRunReport("runs/digits-mlp");
 * ```
 */
export async function renderRunReport(dir: string): Promise<string> {
  const m = await readJson(join(dir, "metrics.json"), "run metrics") as RunMetrics;
  if (!m || typeof m !== "object" || !m.metrics || !Array.isArray(m.history)) {
    throw new LikenessError("CORRUPT", `Cannot render ${dir}: metrics.json lacks "metrics" or "history"`);
  }
  let emb: RunEmbeddings | undefined;
  try {
    emb = await readJson(join(dir, "embeddings.json"), "embeddings") as RunEmbeddings;
  } catch {
    emb = undefined;
  }
  const history = m.history.map((h) => {
    const out: Record<string, number> = {};
    for (const [k, v] of Object.entries(h)) if (typeof v === "number" && k !== "steps") out[k] = v;
    return out;
  });
  const html = renderReport({
    title: `likeness: ${m.name}`,
    summary: {
      dataset: m.dataset,
      model: m.model,
      loss: m.loss,
      epochs: m.epochs,
      wallTimeSeconds: m.wallSeconds?.total,
      backend: Object.entries(m.backend ?? {}).map(([k, v]) => `${k} ${v}`).join("; "),
      extra: { steps: m.steps, runtime: m.runtime, finished: m.finishedAt },
    },
    metrics: { trained: m.metrics.trained, baseline: m.metrics.untrained },
    curves: history.length ? curvesFromHistory(history, { baseline: m.metrics.untrained }) : undefined,
    embeddingMap: emb && emb.embeddings.length >= 3
      ? { embeddings: emb.embeddings, labels: emb.labels, classNames: emb.classNames, maxPoints: 1500 }
      : undefined,
    examples: emb?.examples,
    calibration: m.calibration
      ? {
        points: m.calibration.points,
        chosen: {
          threshold: m.calibration.distanceThreshold,
          precision: m.calibration.precision,
          recall: m.calibration.recall,
        },
        distanceName: "cosine distance to the nearest training item",
        note: `precision ≥ ${m.calibration.targetPrecision}`,
      }
      : undefined,
    footer: `Serve it: deno task likeness serve --model ${join(dir, m.artifact ?? "model")}`,
  });
  const path = join(dir, "report.html");
  await writeFile(path, html);
  return path;
}
