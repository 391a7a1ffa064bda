/**
 * `likeness train --config FILE.json [--out DIR]`: train from a validated config, evaluate
 * against the untrained model, calibrate a match threshold, and write the servable artifact,
 * `metrics.json`, the JSONL training log, `embeddings.json` and `report.html`.
 *
 * @module
 */
import { appendFileSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { basename, join } from "node:path";
import type { Matrix } from "@likeness/core";
import { type Backend, createBackend } from "@likeness/backend";
import { DirStore, EmbeddingCache } from "@likeness/cache";
import { computeAccuracy } from "@likeness/eval";
import type { SimilarityModel } from "@likeness/models";
import type { QueryExample } from "@likeness/report";
import { fit, type FitData, type FitMiner, jsonlLogger, progressReporter } from "@likeness/trainer";
import { tf, useTfBackend } from "@likeness/tf";
import {
  buildLoss,
  buildMiner,
  buildModel,
  buildOptimizer,
  buildSampler,
  buildSchedule,
  ConfigError,
  fitBatching,
} from "./build.ts";
import { LOSSES } from "./components.ts";
import { parseConfig, type TrainConfig } from "./config.ts";
import { UsageError } from "./args.ts";
import { loadConfigData, type LoadedData } from "./data.ts";
import { calibrate, evaluateModel, limitInputs, makeEmbedder } from "./evaluate.ts";
import { renderRunReport, type RunEmbeddings, type RunMetrics } from "./report.ts";

/**
 * Read and validate a config file.
 *
 * @param path JSON file
 * @returns the config and its run name (its `name`, else the file name without `.json`)
 * @throws {UsageError} when the file cannot be read
 * @throws {ConfigError} listing every problem
 */
export async function readConfigFile(path: string): Promise<{ config: TrainConfig; name: string }> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch {
    throw new UsageError(`Cannot read config file ${path}: check the path (e.g. examples/configs/digits-mlp.json)`);
  }
  const { config, issues } = parseConfig(text);
  if (issues.length) throw new ConfigError(issues);
  return { config, name: config.name ?? basename(path).replace(/\.json$/i, "") };
}

/** Options of {@link trainFromConfig}. */
export interface TrainOptions {
  /** Output folder (default `runs/<name>`). */
  out?: string;
  /** Progress and notes (default: nothing). */
  note?: (line: string) => void;
  /** Raw progress text (the trainer's reporter). */
  progress?: (text: string) => void;
  /** Whether progress goes to a terminal. */
  isTTY?: boolean;
}

function describeRuntime(): string {
  const g = globalThis as { Deno?: { version: { deno: string } }; Bun?: { version: string } };
  return g.Deno ? `deno ${g.Deno.version.deno}` : g.Bun ? `bun ${g.Bun.version}` : "node";
}

function describeModel(model: SimilarityModel): string {
  const e = model.encoder.config();
  const parts = [e.type];
  if (e.type === "mlp") parts[0] = `MLP ${[e.inputDim, ...((e.hidden as number[]) ?? []), e.outputDim].join("-")}`;
  if (e.type === "convnet") parts[0] = `convnet ${JSON.stringify(e.inputShape)} → ${e.outputDim}`;
  if (e.type === "use-lite") parts[0] = "USE-lite (frozen, 512)";
  if (model.head.type !== "empty") parts.push(`${model.head.type} head → ${model.dim}`);
  return `${parts.join(" + ")}${model.normalize ? ", L2-normalised" : ""}`;
}

function describeLoss(config: TrainConfig): string {
  const p = config.loss.params && Object.keys(config.loss.params).length
    ? ` ${JSON.stringify(config.loss.params)}`
    : "";
  const m = config.miner
    ? ` with ${config.miner.name}${config.miner.params ? ` ${JSON.stringify(config.miner.params)}` : ""}`
    : "";
  return `${config.loss.name}${p}${m}`;
}

function since(t0: number): number {
  return Math.round((performance.now() - t0) / 100) / 10;
}

function toRows(m: Matrix, limit: number): number[][] {
  const n = Math.min(limit, m.rows);
  return Array.from(
    { length: n },
    (_, i) => Array.from(m.data.subarray(i * m.cols, (i + 1) * m.cols), (v) => Math.round(v * 1e4) / 1e4),
  );
}

/**
 * Train, evaluate and save a run.
 *
 * @param config validated config
 * @param name run name
 * @param options output folder and progress sinks
 * @returns the output folder and what was written to metrics.json
 * @throws {ConfigError} for config problems found while building (exit 2)
 * @throws {LikenessError} MISSING_DEPENDENCY when a data set or encoder is not installed
 */
export async function trainFromConfig(
  config: TrainConfig,
  name: string,
  options: TrainOptions = {},
): Promise<{ dir: string; metrics: RunMetrics }> {
  const note = options.note ?? (() => {});
  const t0 = performance.now();
  const dir = options.out ?? join("runs", name);
  const seed = config.seed ?? 1;
  await useTfBackend("wasm");
  const { backend } = await createBackend({ tf: false });
  try {
    note(`likeness train ${name}: loading ${config.data.name} ...`);
    const data = await loadConfigData(config.data, seed);
    const tLoad = since(t0);
    note(`data: ${data.description}`);
    const spec = LOSSES[config.loss.name];
    if (data.kind === "pairs" && spec.target !== "pairs") {
      throw new ConfigError([{
        path: "config.loss.name",
        message:
          `"${config.loss.name}" trains on labelled groups but the data holds pairs; use a pair loss such as MultipleNegativesRankingLoss`,
      }]);
    }
    if (data.kind !== "pairs" && spec.target === "pairs") {
      throw new ConfigError([{
        path: "config.loss.name",
        message:
          `"${config.loss.name}" trains on pairs but the data holds labelled groups; use a group loss such as TripletMarginLoss`,
      }]);
    }
    const model = await buildModel(config, data);
    const classes = data.classNames?.length ?? 0;
    const loss = await buildLoss(config, classes, model.dim);
    const miner = await buildMiner(config, backend);
    const cache = new EmbeddingCache({ store: new DirStore(join(".cache", "embeddings")) });
    const embed = makeEmbedder({ cache });
    const settings = config.eval ?? {};

    let fitData: FitData;
    let owned: tf.Tensor | undefined;
    let pairCount = 0;
    if (data.kind === "pairs") {
      const p = data.trainPairs!;
      const n = p.a.length;
      pairCount = n;
      fitData = {
        inputs: [...p.a, ...p.b],
        pairs: Array.from({ length: n }, (_, i) => [i, n + i] as [number, number]),
        scores: p.scores,
      };
    } else {
      const tr = data.train!;
      if (Array.isArray(tr.inputs)) fitData = { inputs: tr.inputs, labels: tr.labels };
      else {
        const m = tr.inputs as Matrix;
        owned = tf.tensor2d(m.data, [m.rows, m.cols]);
        fitData = { inputs: owned, labels: tr.labels };
      }
    }
    const sampler = await buildSampler(config, data.train?.labels, pairCount);

    let untrained: Record<string, number> | undefined;
    const t1 = performance.now();
    if (settings.baseline !== false) {
      note("evaluating the untrained model ...");
      untrained = (await evaluateModel(model, data, settings, { embed, backend })).metrics;
    }
    const tBaseline = since(t1);

    const logPath = join(dir, "train_log.jsonl");
    await mkdir(dir, { recursive: true });
    await writeFile(logPath, "");
    const valLimit = data.kind === "pairs" ? 300 : 500;
    const t2 = performance.now();
    const trainer = config.trainer ?? {};
    const result = await fit(model, fitData, {
      loss,
      epochs: trainer.epochs ?? 1,
      batchSize: trainer.batchSize ?? 64,
      sampler,
      ...fitBatching(config),
      miner: miner as FitMiner | undefined,
      optimizer: buildOptimizer(config),
      learningRate: buildSchedule(config),
      clipNorm: trainer.clip,
      seed: trainer.seed ?? seed,
      cache: data.kind === "features" ? undefined : cache,
      validate: async (m) => {
        const r = await evaluateModel(m, data, {
          ...settings,
          metrics: ["precision_at_1"],
          k: data.kind === "pairs" ? 1 : settings.k,
        }, {
          embed,
          backend,
          limit: valLimit,
        });
        return { val_precision_at_1: r.metrics.precision_at_1 };
      },
      callbacks: [
        jsonlLogger((line) => appendFileSync(logPath, line)),
        progressReporter({ write: options.progress ?? (() => {}), isTTY: options.isTTY ?? false, everyBatches: 50 }),
      ],
    });
    owned?.dispose();
    const tTrain = since(t2);

    note("evaluating the trained model ...");
    const t3 = performance.now();
    const trained = await evaluateModel(model, data, settings, { embed, backend });
    let calibration: RunMetrics["calibration"];
    let examples: QueryExample[] | undefined;
    if (data.kind !== "pairs") {
      const tr = data.train!, te = data.test!;
      const refN = Math.min(2000, tr.labels.length);
      const refEmb = await embed(model, limitInputs(tr.inputs, refN));
      const refLabels = tr.labels.slice(0, refN);
      if (settings.calibrate !== false) {
        calibration = await calibrate(
          trained.embeddings,
          te.labels.slice(0, trained.embeddings.rows),
          refEmb,
          refLabels,
          {
            targetPrecision: settings.targetPrecision,
            backend,
          },
        );
      }
      examples = await exampleQueries(data, trained.embeddings, refEmb, refLabels, backend);
    }
    const tEval = since(t3);

    const artifact = "model";
    await model.save(join(dir, artifact), {
      overwrite: true,
      calibration: calibration
        ? {
          threshold: Math.round((1 - calibration.distanceThreshold) * 1e4) / 1e4,
          metric: "cosine_similarity",
          targetPrecision: calibration.targetPrecision,
        }
        : undefined,
      metadata: { run: name, config, dataset: data.description, classNames: data.classNames, metrics: trained.metrics },
    });
    const metrics: RunMetrics = {
      name,
      config: config as unknown as Record<string, unknown>,
      dataset: data.description,
      model: describeModel(model),
      loss: describeLoss(config),
      metrics: { trained: trained.metrics, ...(untrained ? { untrained } : {}) },
      history: result.history.map((h) => ({ ...h }) as Record<string, number>),
      epochs: result.epochs,
      steps: result.steps,
      calibration,
      wallSeconds: { load: tLoad, baseline: tBaseline, train: tTrain, eval: tEval, total: since(t0) },
      backend: { tf: tf.getBackend(), search: backend.info.name },
      runtime: describeRuntime(),
      artifact,
      finishedAt: new Date().toISOString(),
    };
    await writeFile(join(dir, "metrics.json"), JSON.stringify(metrics, null, 2) + "\n");
    const embOut: RunEmbeddings = {
      embeddings: toRows(trained.embeddings, 1000),
      labels: data.kind === "pairs" ? [] : data.test!.labels.slice(0, Math.min(1000, trained.embeddings.rows)),
      classNames: data.classNames,
      examples,
    };
    if (data.kind !== "pairs") await writeFile(join(dir, "embeddings.json"), JSON.stringify(embOut) + "\n");
    try {
      await renderRunReport(dir);
    } catch (e) {
      note(`report skipped: ${(e as Error).message}`);
    }
    model.dispose();
    return { dir, metrics };
  } finally {
    backend.dispose();
  }
}

async function exampleQueries(
  data: LoadedData,
  testEmb: Matrix,
  refEmb: Matrix,
  refLabels: number[],
  backend: Backend,
): Promise<QueryExample[] | undefined> {
  const te = data.test!, tr = data.train!;
  const k = Math.min(5, refEmb.rows);
  const nq = Math.min(6, testEmb.rows);
  const step = Math.max(1, Math.floor(testEmb.rows / nq));
  const qIdx = Array.from({ length: nq }, (_, i) => i * step);
  const q: Matrix = {
    data: new Float32Array(
      qIdx.flatMap((i) => Array.from(testEmb.data.subarray(i * testEmb.cols, (i + 1) * testEmb.cols))),
    ),
    rows: nq,
    cols: testEmb.cols,
  };
  const r = await computeAccuracy({ embeddings: q, labels: qIdx.map((i) => te.labels[i]) }, {
    embeddings: refEmb,
    labels: refLabels,
  }, { k, include: ["precision_at_1"], backend });
  const name = (l: number) => data.classNames?.[l] ?? l;
  const item = (split: typeof te, i: number) => {
    if (Array.isArray(split.inputs)) return { label: name(split.labels[i]), text: split.inputs[i] };
    const m = split.inputs as Matrix;
    const out: QueryExample["query"] = { label: name(split.labels[i]) };
    if (data.imageShape) {
      out.image = {
        pixels: Array.from(m.data.subarray(i * m.cols, (i + 1) * m.cols), (v) => Math.round(v * 255)),
        height: data.imageShape[0],
        width: data.imageShape[1],
        range: [0, 255],
      };
    }
    return out;
  };
  return qIdx.map((qi, row) => ({
    query: item(te, qi),
    neighbours: Array.from(r.knnIndices.subarray(row * k, row * k + k)).map((ri) => {
      let dot = 0, na = 0, nb = 0;
      for (let c = 0; c < q.cols; c++) {
        const x = q.data[row * q.cols + c], y = refEmb.data[ri * refEmb.cols + c];
        dot += x * y;
        na += x * x;
        nb += y * y;
      }
      return {
        item: item(tr, ri),
        distance: Math.round((1 - dot / Math.max(1e-12, Math.sqrt(na * nb))) * 1e4) / 1e4,
        match: refLabels[ri] === te.labels[qi],
      };
    }),
  }));
}
