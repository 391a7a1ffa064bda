/**
 * `deno task example mnist [--quick]`: pytorch-metric-learning's MNIST recipe — a small convnet,
 * TripletMarginLoss (margin 0.2) with a semi-hard TripletMarginMiner, Adam, one epoch over the
 * 60,000 training images — then precision_at_1 of the 10,000 test images retrieving among the
 * training images (pml's notebook: test queries, train reference; 0.9808).
 *
 * Convolution gradients: tfjs-backend-wasm 4.22 has no Conv2DBackpropFilter kernel. When
 * `@likeness/tfwasm` is installed its kernels are registered and training runs on `wasm`;
 * otherwise training runs on tfjs's `cpu` backend (slow) and inference on `wasm`.
 *
 * Flags: --quick, --train N, --epochs N, --batch N, --lr X, --seed N, --tf cpu|wasm.
 *
 * @module
 */
import process from "node:process";
import type { Matrix } from "@likeness/core";
import { loadMnist } from "@likeness/data";
import { ConvNetEncoder, SimilarityModel } from "@likeness/models";
import { createBackend } from "@likeness/backend";
import { computeAccuracy } from "@likeness/eval";
import { PmlTripletMarginLoss } from "@likeness/losses";
import { TripletMarginMiner } from "@likeness/miners";
import { fit, progressReporter } from "@likeness/trainer";
import { tf, type TfBackendName, useTfBackend } from "@likeness/tf";
import {
  type ExampleResult,
  finish,
  isMain,
  note,
  numberFlag,
  parseExampleArgs,
  pickMetrics,
  runtimeInfo,
  since,
} from "./_common.ts";

/**
 * Register the wasm backprop kernels of `@likeness/tfwasm` when that package exists.
 * @returns whether they were registered
 */
export async function tryWasmKernels(): Promise<boolean> {
  try {
    const name = "@likeness/tfwasm";
    const mod = await import(name) as { registerLikenessWasmKernels?: () => unknown };
    if (typeof mod.registerLikenessWasmKernels !== "function") return false;
    await mod.registerLikenessWasmKernels();
    return true;
  } catch {
    return false;
  }
}

/** MNIST pixels normalised as pml's notebook does ((x/255 - 0.1307) / 0.3081), as an [n, 28, 28, 1] tensor. */
export function mnistTensor(images: Uint8Array, count: number): tf.Tensor4D {
  const data = new Float32Array(count * 784);
  for (let i = 0; i < data.length; i++) data[i] = (images[i] / 255 - 0.1307) / 0.3081;
  return tf.tensor4d(data, [count, 28, 28, 1]);
}

/**
 * Run the example.
 * @param argv flags
 * @returns the result written to runs/mnist/metrics.json
 */
export async function main(argv: readonly string[] = []): Promise<ExampleResult> {
  const args = parseExampleArgs(argv);
  const t0 = performance.now();
  const nTrain = numberFlag(args, "train", args.quick ? 2048 : 60000);
  const nTest = numberFlag(args, "test", args.quick ? 1000 : 10000);
  const epochs = numberFlag(args, "epochs", 1);
  const batch = numberFlag(args, "batch", 128);
  const lr = numberFlag(args, "lr", 3e-3);
  const seed = numberFlag(args, "seed", 1);
  const wasmKernels = await tryWasmKernels();
  const trainBackend =
    (typeof args.flags.tf === "string" ? args.flags.tf : wasmKernels ? "wasm" : "cpu") as TfBackendName;
  const { backend } = await createBackend({ tf: false });

  const train = await loadMnist({ split: "train", limit: nTrain });
  const test = await loadMnist({ split: "test", limit: nTest });
  await useTfBackend(trainBackend);
  const trainX = mnistTensor(train.images, train.count);
  const trainLabels = Array.from(train.labels);
  const testLabels = Array.from(test.labels);
  const tLoad = since(t0);

  // A small convnet (cheaper than pml's 32/64-filter net so that one epoch fits on a CPU).
  const arch = {
    conv: [{ filters: 16, kernelSize: 5, pool: 2 }, { filters: 32, kernelSize: 5, pool: 2 }],
    dense: [128],
  };
  const model = new SimilarityModel(
    new ConvNetEncoder({ inputShape: [28, 28, 1], ...arch, outputDim: 64, seed }),
    undefined,
    { normalize: true },
  );

  note(`training 1 epoch on ${nTrain} images with tfjs ${tf.getBackend()} (wasm backprop kernels: ${wasmKernels}) ...`);
  const t1 = performance.now();
  const result = await fit(model, { inputs: trainX, labels: trainLabels }, {
    loss: new PmlTripletMarginLoss({ margin: 0.2 }),
    epochs,
    batchSize: batch,
    dropLast: true,
    miner: new TripletMarginMiner({ margin: 0.2, type: "semihard", backend }),
    optimizer: "adam",
    learningRate: lr,
    seed,
    callbacks: [
      progressReporter({
        write: (t) => process.stderr.write(t),
        isTTY: process.stderr.isTTY === true,
        everyBatches: 20,
      }),
    ],
  });
  const epochSeconds = since(t1);

  note("embedding train and test images (inference on wasm) ...");
  const t2 = performance.now();
  await useTfBackend("wasm");
  const testX = mnistTensor(test.images, test.count);
  const trainEmb: Matrix = await model.encode(trainX, { batchSize: 500 });
  const testEmb: Matrix = await model.encode(testX, { batchSize: 500 });
  const metrics = await computeAccuracy({ embeddings: testEmb, labels: testLabels }, {
    embeddings: trainEmb,
    labels: trainLabels,
  }, { k: 1, include: ["precision_at_1"], backend });
  const selfMetrics = await computeAccuracy({ embeddings: testEmb, labels: testLabels }, undefined, {
    include: ["precision_at_1", "r_precision", "mean_average_precision_at_r"],
    backend,
  });
  const tEval = since(t2);
  trainX.dispose();
  testX.dispose();

  return {
    example: "mnist",
    quick: args.quick,
    metrics: {
      "test vs train (pml notebook)": pickMetrics(metrics.metrics),
      "test vs test": pickMetrics(selfMetrics.metrics),
    },
    wallSeconds: { load: tLoad, epoch: epochSeconds, eval: tEval, total: since(t0) },
    settings: {
      trainImages: nTrain,
      testImages: nTest,
      model: "convnet conv5x5(16)-pool2-conv5x5(32)-pool2-dense128-64, L2-normalised",
      loss: "TripletMarginLoss margin 0.2",
      miner: "TripletMarginMiner semihard margin 0.2",
      batchSize: batch,
      epochs,
      steps: result.steps,
      optimizer: `adam lr ${lr}`,
      trainTfBackend: trainBackend,
      wasmBackpropKernels: wasmKernels,
      history: result.history,
      seed,
    },
    runtime: runtimeInfo(),
    backend: { train: trainBackend, inference: "wasm", search: backend.info.name },
    notes: ["pytorch-metric-learning notebook, 1 epoch: precision_at_1 0.9808 (test vs train)"],
  };
}

if (isMain(import.meta)) await finish(await main(process.argv.slice(2)));
