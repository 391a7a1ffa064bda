/**
 * `deno task example serve-hot-add [--quick]`: serve a saved model and teach it a class it never
 * saw, without a restart. Trains an MLP on scikit-learn's digits with one digit (default 6) held out, saves it
 * with a calibrated open-set threshold, starts the HTTP server (`createApp` + `FileStore` +
 * `serveFetch`) on loopback, adds references of the other digits over HTTP, classifies held-out 6s
 * (expected: `null` or a wrong digit), hot-adds a few 6s over `POST /v1/references`, and
 * classifies the same 6s again.
 *
 * Flags: --quick, --class D (the held-out digit, default 6), --add N (references of it to hot-add,
 * default 20), --k N (neighbours that vote, default 1), --epochs N, --seed N.
 *
 * @module
 */
import process from "node:process";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { createRng } from "@likeness/core";
import { loadDigits } from "@likeness/data";
import { MlpEncoder, SimilarityModel } from "@likeness/models";
import { createBackend } from "@likeness/backend";
import { calibrateThreshold, computeAccuracy } from "@likeness/eval";
import { PmlTripletMarginLoss } from "@likeness/losses";
import { TripletMarginMiner } from "@likeness/miners";
import { mPerClassSampler } from "@likeness/samplers";
import { fit } from "@likeness/trainer";
import { createApp, FileStore, loadServedModel, serveFetch } from "@likeness/server";
import { tf, useTfBackend } from "@likeness/tf";
import {
  type ExampleResult,
  finish,
  isMain,
  note,
  numberFlag,
  parseExampleArgs,
  runDir,
  runtimeInfo,
  since,
} from "./_common.ts";

/**
 * Run the example.
 * @param argv flags
 * @returns the result written to runs/serve-hot-add/metrics.json
 */
export async function main(argv: readonly string[] = []): Promise<ExampleResult> {
  const args = parseExampleArgs(argv);
  const t0 = performance.now();
  const newClass = numberFlag(args, "class", 6);
  const k = numberFlag(args, "k", 1);
  const nAdd = numberFlag(args, "add", 20);
  const epochs = numberFlag(args, "epochs", 8);
  const seed = numberFlag(args, "seed", 1);
  const dir = runDir("serve-hot-add", args.quick);
  await useTfBackend("wasm");
  const { backend } = await createBackend({ tf: false });

  // Digits: features scaled to [0, 1]. Seen classes split into train / reference / query;
  // the new class split into the few references to hot-add and the queries.
  const digits = await loadDigits();
  const X = digits.features;
  const labels = digits.labels as number[];
  const order = createRng(seed).shuffle(Array.from({ length: X.rows }, (_, i) => i));
  const seen = order.filter((i) => labels[i] !== newClass);
  const unseen = order.filter((i) => labels[i] === newClass);
  const trainIdx = seen.slice(0, Math.floor(seen.length * 0.6));
  const refIdx = seen.slice(trainIdx.length, trainIdx.length + Math.floor(seen.length * 0.2));
  const querySeen = seen.slice(trainIdx.length + refIdx.length);
  const addIdx = unseen.slice(0, nAdd);
  const queryNew = unseen.slice(nAdd);
  const row = (i: number) => Array.from(X.data.subarray(i * X.cols, (i + 1) * X.cols), (v) => v / 16);

  note(`training an MLP on the other digits (${trainIdx.length} items; digit ${newClass} never seen) ...`);
  const t1 = performance.now();
  const model = new SimilarityModel(new MlpEncoder({ inputDim: 64, hidden: [128], outputDim: 32, seed }), undefined, {
    normalize: true,
  });
  const trainLabels = trainIdx.map((i) => labels[i]);
  await fit(model, { inputs: trainIdx.map(row), labels: trainLabels }, {
    loss: new PmlTripletMarginLoss({ margin: 0.2 }),
    epochs,
    sampler: mPerClassSampler(trainLabels, { m: 8, batchSize: 72, seed }),
    miner: new TripletMarginMiner({ margin: 0.2, type: "semihard", backend }),
    learningRate: 3e-3,
    seed,
  });
  const tTrain = since(t1);

  // Calibrate the open-set threshold on the seen-class references (leave-one-out 1-NN).
  const refEmb = await model.encode(refIdx.map(row));
  const refLabels = refIdx.map((i) => labels[i]);
  const nn = await computeAccuracy({ embeddings: refEmb, labels: refLabels }, undefined, {
    k: 1,
    include: ["precision_at_1"],
    backend,
  });
  const sims: number[] = [];
  const same: boolean[] = [];
  for (let q = 0; q < refEmb.rows; q++) {
    const r = nn.knnIndices[q];
    let dot = 0;
    for (let c = 0; c < refEmb.cols; c++) dot += refEmb.data[q * refEmb.cols + c] * refEmb.data[r * refEmb.cols + c];
    sims.push(dot);
    same.push(refLabels[r] === refLabels[q]);
  }
  const cal = calibrateThreshold(sims, same, { targetPrecision: 0.99, smallerIsCloser: false });
  await model.save(join(dir, "model"), {
    overwrite: true,
    calibration: {
      threshold: cal.threshold,
      metric: "cosine_similarity",
      rule: "nearest reference, precision >= 0.99",
      targetPrecision: 0.99,
    },
    metadata: {
      example: "serve-hot-add",
      dataset: "scikit-learn digits",
      input: "64 values scaled to [0, 1]",
      heldOut: [newClass],
    },
  });
  model.dispose();

  // Serve the saved artifact.
  const t2 = performance.now();
  await rm(join(dir, "data"), { recursive: true, force: true });
  const served = await loadServedModel(join(dir, "model"));
  const store = new FileStore(join(dir, "data"));
  const token = "example-token";
  const { app, close } = await createApp({ model: served, store, backend, auth: { token } });
  const server = await serveFetch(app.fetch, { port: 0 });
  const base = `http://${server.hostname}:${server.port}`;
  note(`server on ${base} (threshold ${cal.threshold.toFixed(4)})`);
  const post = async (path: string, body: unknown) => {
    const res = await fetch(`${base}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
      body: JSON.stringify(body),
    });
    const json = await res.json();
    if (!res.ok) throw new Error(`${path} answered ${res.status}: ${JSON.stringify(json)}`);
    return json;
  };
  const addRefs = async (idx: number[], prefix: string) => {
    for (let s = 0; s < idx.length; s += 200) {
      await post("/v1/references", {
        items: idx.slice(s, s + 200).map((i) => ({ id: `${prefix}-${i}`, input: row(i), label: String(labels[i]) })),
      });
    }
  };
  const classify = async (idx: number[]) => {
    let right = 0, none = 0, wrong = 0;
    for (const i of idx) {
      const r = await post("/v1/classify", { input: row(i), k }) as { label: string | null };
      if (r.label === null) none++;
      else if (r.label === String(labels[i])) right++;
      else wrong++;
    }
    const n = idx.length;
    return { accuracy: right / n, null_rate: none / n, wrong_rate: wrong / n, queries: n };
  };
  try {
    await addRefs(refIdx, "ref");
    note(`added ${refIdx.length} references of the other digits over HTTP; classifying ...`);
    const beforeNew = await classify(queryNew);
    const beforeSeen = await classify(querySeen);
    note(`hot-adding ${addIdx.length} references of digit ${newClass} (no restart) ...`);
    await addRefs(addIdx, "new");
    const afterNew = await classify(queryNew);
    const afterSeen = await classify(querySeen);
    const health = await (await fetch(`${base}/v1/health`)).json() as { references: number };
    const round = (o: Record<string, number>) =>
      Object.fromEntries(Object.entries(o).map(([k, v]) => [k, Math.round(v * 1e4) / 1e4]));
    return {
      example: "serve-hot-add",
      quick: args.quick,
      metrics: {
        [`digit ${newClass} before hot-add`]: round(beforeNew),
        [`digit ${newClass} after hot-add`]: round(afterNew),
        [`other digits before`]: round(beforeSeen),
        [`other digits after`]: round(afterSeen),
      },
      wallSeconds: { train: tTrain, serve: since(t2), total: since(t0) },
      settings: {
        dataset: "scikit-learn digits (1,797 × 64)",
        heldOutClass: newClass,
        trainItems: trainIdx.length,
        seenReferences: refIdx.length,
        hotAdded: addIdx.length,
        newClassQueries: queryNew.length,
        seenQueries: querySeen.length,
        model: "MLP 64-128-32, L2-normalised, TripletMarginLoss + semihard miner",
        epochs,
        threshold: cal.threshold,
        thresholdRule: "cosine similarity of the nearest reference, calibrated for precision 0.99 on seen classes",
        referencesAtEnd: health.references,
        classify: `POST /v1/classify k=${k}, similarity-weighted vote; null below the threshold`,
        seed,
      },
      runtime: runtimeInfo(),
      backend: { tf: tf.getBackend(), search: backend.info.name },
      notes: ["the server was never restarted: references were added with POST /v1/references between the two rounds"],
    };
  } finally {
    await server.close();
    await close();
  }
}

if (isMain(import.meta)) await finish(await main(process.argv.slice(2)));
